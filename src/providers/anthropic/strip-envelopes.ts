/**
 * Thinking blocks the gateway signed itself. The Anthropic ingress hands Gemini thought signatures
 * to Anthropic clients in a thinking block whose signature is our `sbg1.` envelope
 * (ingress/anthropic/gemini-signatures.ts). When such a conversation later reaches Anthropic
 * natively (Claude Code switched to a Claude model, a fallback from a Gemini target), Anthropic
 * would answer 400 to a signature it did not make, so those blocks are removed first. Their text
 * is Gemini's thought summary, which a Claude model could not have used as its own thinking anyway.
 */
import { isObject, type JsonObject } from '../../core/json.ts'
import { ANTHROPIC_ENVELOPE } from '../../core/reasoning-envelope.ts'

const isGatewayThinking = (block: unknown): boolean =>
  isObject(block) && block.type === 'thinking' && typeof block.signature === 'string' && block.signature.startsWith(ANTHROPIC_ENVELOPE)

/**
 * The body without our thinking blocks, or undefined when it has none: the common case, in which
 * the client's bytes go upstream untouched. Walks the parsed assistant turns rather than searching
 * the raw bytes, which would cost time in proportion to the whole conversation's text.
 */
export function withoutGatewayThinking(body: JsonObject): JsonObject | undefined {
  const messages = body.messages
  if (!Array.isArray(messages)) return undefined
  const hit = (m: unknown): boolean => isObject(m) && m.role === 'assistant' && Array.isArray(m.content) && m.content.some(isGatewayThinking)
  if (!messages.some(hit)) return undefined
  return {
    ...body,
    messages: messages.flatMap((m) => {
      if (!hit(m) || !isObject(m) || !Array.isArray(m.content)) return [m]
      const content = m.content.filter((b) => !isGatewayThinking(b))
      // Anthropic combines consecutive turns of one role, so a turn left empty can simply go.
      return content.length > 0 ? [{ ...m, content }] : []
    }),
  }
}
