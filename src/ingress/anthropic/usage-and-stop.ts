/**
 * Pieces shared by the non-streamed and streamed responses: Anthropic's usage object and
 * stop_reason, from the gateway's normalized Usage and OpenAI's finish_reason.
 */
import type { FinishReason } from '../../core/openai-chat.ts'
import type { Usage } from '../../core/usage.ts'

export interface AnthropicUsage {
  input_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
  output_tokens: number
  [k: string]: number
}

/**
 * The inverse of the adapters' normalization: OpenAI's prompt_tokens (our inputTokens) includes
 * cache reads and writes, while Anthropic's input_tokens counts only the uncached rest.
 */
export function anthropicUsage(u: Usage | undefined): AnthropicUsage {
  if (!u) return { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 }
  return {
    input_tokens: Math.max(0, u.inputTokens - u.cachedInputTokens - u.cacheWriteTokens),
    cache_creation_input_tokens: u.cacheWriteTokens,
    cache_read_input_tokens: u.cachedInputTokens,
    output_tokens: u.outputTokens,
  }
}

export type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal'

/**
 * OpenAI cannot tell a stop sequence from a natural end, so 'stop' is always end_turn. Tool calls win
 * over a plain 'stop' because some vendors (Gemini) finish tool turns with 'stop'.
 */
export function stopReason(finish: FinishReason | null | undefined, hasToolUse: boolean, refused: boolean): StopReason {
  if (finish === 'length') return 'max_tokens'
  if (finish === 'content_filter' || refused) return 'refusal'
  if (finish === 'tool_calls' || finish === 'function_call' || hasToolUse) return 'tool_use'
  return 'end_turn'
}
