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

/**
 * The `refusal` of a Chat message for Anthropic's stop_reason refusal: the explanation Anthropic
 * gives in stop_details; without one, a placeholder only when the model wrote no text (so a client
 * showing `refusal` has something to show). When the model's own words already say no, nothing is
 * invented beside them: finish_reason content_filter marks the refusal.
 */
export function refusalText(stopDetails: unknown, wroteText: boolean): string | undefined {
  const explanation = typeof stopDetails === 'object' && stopDetails !== null ? (stopDetails as { explanation?: unknown }).explanation : undefined
  if (typeof explanation === 'string' && explanation !== '') return explanation
  return wroteText ? undefined : 'The model declined to respond.'
}
