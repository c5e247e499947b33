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

const FINISH = /"finish_reason":"([a-z_]+)"/g

export function finishReasonsIn(data: string, into: string[]): void {
  if (!data.includes('"finish_reason":"')) return
  for (const m of data.matchAll(FINISH)) if (m[1] && !into.includes(m[1])) into.push(m[1])
}
