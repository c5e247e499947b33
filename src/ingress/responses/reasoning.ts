/**
 * Reasoning state across turns. A Responses client (Codex with include=reasoning.encrypted_content,
 * the Agents SDK) sends back the reasoning items it got, byte for byte. For a translated vendor
 * we put that vendor's opaque state (Anthropic thinking signatures, redacted thinking, Gemini
 * thought signatures) in `encrypted_content`, prefixed so we recognize our own on the way back.
 * OpenAI's own encrypted reasoning means nothing to another vendor and is dropped.
 */
import type { ReasoningDetail } from '../../core/openai-chat.ts'

const PREFIX = 'sbr1.'

export function encodeReasoning(details: readonly ReasoningDetail[]): string | undefined {
  if (details.length === 0) return undefined
  return PREFIX + Buffer.from(JSON.stringify(details), 'utf8').toString('base64url')
}

/** Our details back from an encrypted_content, or undefined for content we did not produce. */
export function decodeReasoning(value: string): ReasoningDetail[] | undefined {
  if (!value.startsWith(PREFIX)) return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value.slice(PREFIX.length), 'base64url').toString('utf8'))
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
  if (o.type === 'thought_signature') return typeof o.signature === 'string'
  return false
}
