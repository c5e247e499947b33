/**
 * OpenAI-compatible servers that answer in a dialect of OpenAI Chat, brought to the gateway's
 * canonical shape before an ingress codec (Anthropic Messages, Responses) reads them. Those codecs
 * read `content` as a string and reasoning text from `reasoning_content` (DeepSeek's name); a
 * dialect they do not know loses the answer or its reasoning:
 * - Mistral's reasoning models (magistral) send `content` as an array of parts,
 *   `[{type: "thinking", thinking: [{type: "text", text}]}]` then `[{type: "text", text}]`: text
 *   parts become the content, thinking parts the reasoning;
 * - Groq (and vLLM's newer releases) name the reasoning text `reasoning`.
 * A Chat client is not concerned: it gets the vendor's bytes as they came.
 */
import type { ChatCompletion, ChatCompletionChunk } from '../../core/openai-chat.ts'
import { isObject, type JsonObject } from '../../core/json.ts'

type Fields = Record<string, unknown>

/** The chunk in the canonical shape; the same object when it already is (nearly every chunk). */
export function canonicalChunk(chunk: ChatCompletionChunk): ChatCompletionChunk {
  const choices = chunk.choices as unknown
  if (!Array.isArray(choices) || !choices.some((c: unknown) => isObject(c) && isDialect(c.delta))) return chunk
  return { ...chunk, choices: choices.map((c: Fields) => (isDialect(c.delta) ? { ...c, delta: canonicalFields(c.delta) } : c)) as ChatCompletionChunk['choices'] }
}

/** The same for a non-streamed answer's messages. */
export function canonicalCompletion(completion: ChatCompletion): ChatCompletion {
  const choices = completion.choices as unknown
  if (!Array.isArray(choices) || !choices.some((c: unknown) => isObject(c) && isDialect(c.message))) return completion
  return { ...completion, choices: choices.map((c: Fields) => (isDialect(c.message) ? { ...c, message: canonicalFields(c.message) } : c)) as ChatCompletion['choices'] }
}

function isDialect(fields: unknown): fields is JsonObject {
  if (!isObject(fields)) return false
  return Array.isArray(fields.content) || typeof fields.reasoning === 'string' && typeof fields.reasoning_content !== 'string'
}

/**
 * A delta or message with the reasoning in `reasoning_content` and the content as one string: its
 * text parts joined (OpenAI's answers only ever hold text; other parts, such as Mistral's
 * references, have no place in Chat and are dropped, as the codecs' own text reading does).
 */
function canonicalFields(fields: JsonObject): Fields {
  const { reasoning, ...out }: Fields = fields
  const reasoningParts: string[] = []
  if (typeof fields.reasoning_content === 'string') reasoningParts.push(fields.reasoning_content)
  else if (typeof reasoning === 'string') reasoningParts.push(reasoning)
  else if (reasoning !== undefined) out.reasoning = reasoning
  if (Array.isArray(fields.content)) {
    const texts: string[] = []
    for (const part of fields.content) {
      if (isThinkingPart(part)) reasoningParts.push(thinkingText(part.thinking))
      else if (isObject(part) && part.type === 'text' && typeof part.text === 'string') texts.push(part.text)
    }
    out.content = texts.join('')
  }
  const text = reasoningParts.join('')
  if (text !== '' || typeof fields.reasoning_content === 'string') out.reasoning_content = text
  return out
}

function isThinkingPart(part: unknown): part is { type: 'thinking'; thinking: unknown } {
  return isObject(part) && part.type === 'thinking'
}

/** Mistral nests the thinking as text parts; a plain string is read too. */
function thinkingText(thinking: unknown): string {
  if (typeof thinking === 'string') return thinking
  if (!Array.isArray(thinking)) return ''
  return thinking.map((p: unknown) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('')
}
