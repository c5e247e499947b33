/**
 * Finds usage in OpenAI-type bodies and stream events without re-parsing everything: only an
 * event that contains a usage object is parsed.
 */
import { usageFromOpenAI, type OpenAIUsage, type Usage } from '../../core/usage.ts'
import { isObject, type JsonObject } from '../../core/json.ts'
import type { Operation } from '../types.ts'

interface ResponsesUsage {
  input_tokens: number
  output_tokens: number
  input_tokens_details?: { cached_tokens?: number }
  output_tokens_details?: { reasoning_tokens?: number }
}

/** Usage from a parsed body of the given operation (Chat/Completions/Embeddings, or Responses). */
export function usageFromBody(operation: Operation, body: JsonObject): Usage | undefined {
  const u = body.usage
  if (!isObject(u)) {
    // Responses API stream events wrap the response: {type:'response.completed', response:{usage}}
    const r = body.response
    return isObject(r) && isObject(r.usage) ? usageFromResponses(r.usage as unknown as ResponsesUsage) : undefined
  }
  if (operation === 'responses' || typeof u.input_tokens === 'number') return usageFromResponses(u as unknown as ResponsesUsage)
  return usageFromOpenAI(u as unknown as OpenAIUsage)
}

function usageFromResponses(u: ResponsesUsage): Usage | undefined {
  if (typeof u.input_tokens !== 'number') return undefined
  return {
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens ?? 0,
    cachedInputTokens: u.input_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
    estimated: false,
  }
}

const FINISH = '"finish_reason":"'

/** Each distinct `"finish_reason":"<value>"` in `data`, in order (an indexOf walk: no regex iterator per body). */
export function finishReasonsIn(data: string, into: string[]): void {
  for (let at = data.indexOf(FINISH); at !== -1; at = data.indexOf(FINISH, at)) {
    const start = at + FINISH.length
    let end = start
    for (let c = data.charCodeAt(end); (c >= 97 && c <= 122) || c === 95; c = data.charCodeAt(++end));
    if (end > start && data.charCodeAt(end) === 34) {
      const reason = data.slice(start, end)
      if (!into.includes(reason)) into.push(reason)
    }
    at = end
  }
}

/**
 * What accounting needs from a non-streamed OpenAI-type body (usage, model, id, finish reasons),
 * read without parsing the whole body: a long answer is mostly text, usage sits at its end and
 * model and id at its start. Inside JSON strings quotes are escaped, so `"usage":` only matches a
 * real key. Undefined when the shape is unusual; the caller then parses the body.
 */
export function sniffBody(operation: Operation, text: string): { usage: Usage | undefined; model?: string; id?: string; finishReasons: string[] } | undefined {
  const at = text.lastIndexOf('"usage":')
  if (at === -1) return undefined
  let i = at + 8
  while (text.charCodeAt(i) === 32) i++
  if (text[i] !== '{') return undefined
  let depth = 0
  let end = -1
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j)
    if (c === 123) depth++
    else if (c === 125 && --depth === 0) {
      end = j + 1
      break
    }
  }
  if (end === -1) return undefined
  let usageObj: unknown
  try { usageObj = JSON.parse(text.slice(i, end)) } catch { return undefined }
  if (!isObject(usageObj)) return undefined
  const finishReasons: string[] = []
  finishReasonsIn(text, finishReasons)
  return {
    usage: usageFromBody(operation, { usage: usageObj }),
    model: stringField(text, '"model":"'),
    id: stringField(text, '"id":"'),
    finishReasons,
  }
}

function stringField(text: string, prefix: string): string | undefined {
  const at = text.indexOf(prefix)
  if (at === -1) return undefined
  const start = at + prefix.length
  const end = text.indexOf('"', start)
  return end === -1 ? undefined : text.slice(start, end)
}
