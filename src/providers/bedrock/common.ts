/** Pieces shared by Bedrock's whole-body and streamed response translation. */
import { isObject, type Json } from '../../core/json.ts'
import type { FinishReason } from '../../core/openai-chat.ts'
import type { Usage } from '../../core/usage.ts'

export function finishReasonFromBedrock(stopReason: string): FinishReason {
  switch (stopReason) {
    case 'tool_use': return 'tool_calls'
    case 'max_tokens':
    case 'model_context_window_exceeded': return 'length'
    case 'content_filtered':
    case 'guardrail_intervened': return 'content_filter'
    default: return 'stop'
  }
}

const num = (v: Json | undefined): number => (typeof v === 'number' ? v : 0)

/**
 * Converse's `inputTokens` counts only the uncached prompt, like Anthropic's `input_tokens`
 * (totalTokens = inputTokens + cacheRead + cacheWrite + outputTokens), so reads and writes are added back.
 */
export function usageFromBedrock(u: Json | undefined): Usage | undefined {
  if (!isObject(u) || typeof u['inputTokens'] !== 'number') return undefined
  const read = num(u['cacheReadInputTokens'])
  const write = num(u['cacheWriteInputTokens'])
  return {
    inputTokens: num(u['inputTokens']) + read + write,
    outputTokens: num(u['outputTokens']),
    cachedInputTokens: read,
    cacheWriteTokens: write,
    reasoningTokens: 0,
    estimated: false,
  }
}
