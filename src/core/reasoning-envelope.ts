/**
 * The gateway's envelope for vendor reasoning state handed to a client that has no field of its
 * own for it. A translated client API (Responses, Anthropic Messages) sends back what it got byte
 * for byte, so the state (Anthropic thinking signatures, redacted thinking, Gemini thought
 * signatures) travels as `<prefix>` + base64url(JSON of the details) and is decoded on the next
 * turn. The prefix says which field carries it and lets us recognise our own: anything else is the
 * client's or another vendor's and is left alone.
 */
import type { ReasoningDetail } from './openai-chat.ts'

/** In a Responses reasoning item's `encrypted_content`. */
export const RESPONSES_ENVELOPE = 'sbr1.'
/** In an Anthropic `thinking` block's `signature` (Gemini thought signatures: Anthropic has no field for them). */
export const ANTHROPIC_ENVELOPE = 'sbg1.'

export function encodeEnvelope(prefix: string, details: readonly ReasoningDetail[]): string | undefined {
  if (details.length === 0) return undefined
  return prefix + Buffer.from(JSON.stringify(details), 'utf8').toString('base64url')
}

/** Our details back, or undefined for a value without the prefix or one that does not decode. */
export function decodeEnvelope(prefix: string, value: string): ReasoningDetail[] | undefined {
  if (!value.startsWith(prefix)) return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value.slice(prefix.length), 'base64url').toString('utf8'))
    if (!Array.isArray(parsed)) return undefined
    return parsed.filter(isDetail)
  } catch {
    return undefined
  }
}

function isDetail(d: unknown): d is ReasoningDetail {
  if (typeof d !== 'object' || d === null) return false
  const o = d as Record<string, unknown>
  if (o.type === 'thinking') return typeof o.thinking === 'string' && (o.signature === undefined || typeof o.signature === 'string')
  if (o.type === 'redacted_thinking') return typeof o.data === 'string'
  if (o.type === 'thought_signature') return typeof o.signature === 'string' && (o.tool_call_id === undefined || typeof o.tool_call_id === 'string')
  return false
}
