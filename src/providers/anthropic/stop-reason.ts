import type { FinishReason } from '../../core/openai-chat.ts'

/**
 * Anthropic stop_reason -> OpenAI finish_reason. pause_turn (a server tool paused a long turn) has
 * no OpenAI counterpart; the turn did end, so it reads as `stop`. Unknown future reasons also map to
 * `stop` rather than failing a response that otherwise succeeded.
 */
export function finishReasonFromStopReason(stopReason: string | null | undefined): FinishReason | null {
  switch (stopReason) {
    case null: case undefined: return null
    case 'max_tokens': case 'model_context_window_exceeded': return 'length'
    case 'tool_use': return 'tool_calls'
    case 'refusal': return 'content_filter'
    default: return 'stop'
  }
}
