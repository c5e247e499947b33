/**
 * Gemini thought signatures for Anthropic clients. Gemini 3 answers 400 when a function call of the
 * current turn comes back without the signature it was sent with, and Anthropic Messages has no
 * field for it. The one opaque string an Anthropic client keeps byte for byte is a thinking block's
 * `signature`, so the signatures (Chat `thought_signature` details, with their tool_call_id) ride
 * there, in the gateway's envelope (`sbg1.`, core/reasoning-envelope.ts), and are decoded when the
 * client sends the turn back. Such a block must never reach Anthropic, which would reject a
 * signature it did not make: see providers/anthropic/strip-envelopes.ts.
 */
import type { ReasoningDetail } from '../../core/openai-chat.ts'
import { ANTHROPIC_ENVELOPE, decodeEnvelope, encodeEnvelope } from '../../core/reasoning-envelope.ts'

/** The signature carrying the thought signatures among `details`, or undefined when there are none. */
export function geminiSignatureEnvelope(details: readonly ReasoningDetail[]): string | undefined {
  return encodeEnvelope(ANTHROPIC_ENVELOPE, details.filter((d) => d.type === 'thought_signature'))
}

/** Whether a thinking block's signature is ours rather than Anthropic's. */
export const isGeminiSignatureEnvelope = (signature: string): boolean => signature.startsWith(ANTHROPIC_ENVELOPE)

/**
 * The thought signatures back. An envelope that no longer decodes (edited by the client) gives
 * none: the vendor could not verify it anyway, and Gemini's own request builder covers the gap.
 */
export function geminiSignaturesOf(signature: string): ReasoningDetail[] {
  return (decodeEnvelope(ANTHROPIC_ENVELOPE, signature) ?? []).filter((d) => d.type === 'thought_signature')
}
