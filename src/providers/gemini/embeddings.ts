/** OpenAI embeddings <-> Gemini batchEmbedContents. Pure. */
import { invalidRequest } from '../../core/errors.ts'
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import type { Usage } from '../../core/usage.ts'

export function modelPath(model: string): string {
  return model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`
}

export function embeddingInputs(body: JsonObject): string[] {
  const input = body['input']
  if (typeof input === 'string') return [input]
  if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) return input as string[]
  throw invalidRequest('Gemini embeddings take `input` as a string or an array of strings (token arrays are not supported)', 'input')
}

export function embeddingsToGemini(body: JsonObject, model: string): JsonObject {
  const name = modelPath(model)
  const dims = body['dimensions']
  const requests = embeddingInputs(body).map((text) => {
    const r: JsonObject = { model: name, content: { parts: [{ text }] } }
    if (typeof dims === 'number') r['outputDimensionality'] = dims
    return r
  })
  return { requests }
}

/** OpenAI's SDKs ask for base64 by default: little-endian float32s, base64-encoded. */
function toBase64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4)
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4))
  return buf.toString('base64')
}

export function geminiToEmbeddings(request: JsonObject, response: JsonObject, model: string): { body: JsonObject; usage: Usage } {
  const embeddings = Array.isArray(response['embeddings']) ? response['embeddings'] : []
  const base64 = request['encoding_format'] === 'base64'
  const data: Json[] = embeddings.map((e, index) => {
    const values = isObject(e) && Array.isArray(e['values']) ? e['values'].filter((v): v is number => typeof v === 'number') : []
    return { object: 'embedding', index, embedding: base64 ? toBase64(values) : values }
  })
  // Gemini reports no token count for embeddings: estimate ~4 characters per token.
  const chars = embeddingInputs(request).reduce((n, s) => n + s.length, 0)
  const tokens = Math.ceil(chars / 4)
  const usage: Usage = { inputTokens: tokens, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }
  return { body: { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, usage }
}
