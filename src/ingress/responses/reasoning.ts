/**
 * Reasoning state across turns. A Responses client (Codex with include=reasoning.encrypted_content,
 * the Agents SDK) sends back the reasoning items it got, byte for byte. For a translated vendor
 * we put that vendor's opaque state (Anthropic thinking signatures, redacted thinking, Gemini
 * thought signatures) in `encrypted_content`, prefixed so we recognize our own on the way back
 * (core/reasoning-envelope.ts). OpenAI's own encrypted reasoning means nothing to another vendor
 * and is dropped.
 */
import type { ReasoningDetail } from '../../core/openai-chat.ts'
import { decodeEnvelope, encodeEnvelope, RESPONSES_ENVELOPE } from '../../core/reasoning-envelope.ts'

export function encodeReasoning(details: readonly ReasoningDetail[]): string | undefined {
  return encodeEnvelope(RESPONSES_ENVELOPE, details)
}

/** Our details back from an encrypted_content, or undefined for content we did not produce. */
export function decodeReasoning(value: string): ReasoningDetail[] | undefined {
  return decodeEnvelope(RESPONSES_ENVELOPE, value)
}
