/**
 * Google Gemini (Google AI generateContent) behind OpenAI Chat Completions and Embeddings.
 * What is translated and what is dropped: docs/translation-gemini.md.
 */
import { GatewayError } from '../../core/errors.ts'
import { isObject, type Json } from '../../core/json.ts'
import type { ChatRequest } from '../../core/openai-chat.ts'
import type { UpstreamRequest } from '../../upstream/types.ts'
import { VendorRefusal, type AttemptInput, type ParsedResponse, type ProviderAdapter, type ProviderKind } from '../types.ts'
import { embeddingsToGemini, geminiToEmbeddings, modelPath } from './embeddings.ts'
import { parseGeminiError } from './errors.ts'
import { chatToGemini } from './request.ts'
import { geminiToChat, promptBlocked } from './response.ts'
import { createGeminiStreamTranslator } from './stream.ts'
import { chatResponse } from '../translated.ts'

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com'

/** Splits the base URL; the API version is appended unless the base already names one. */
export function geminiEndpoint(baseUrl: string, model: string, method: string, stream: boolean): { origin: string; path: string } {
  const url = new URL(baseUrl || GEMINI_DEFAULT_BASE_URL)
  const prefix = url.pathname.replace(/\/+$/, '')
  const version = /\/v1(beta\d*|alpha)?$/.test(prefix) ? '' : '/v1beta'
  const name = modelPath(model).split('/').map(encodeURIComponent).join('/')
  return { origin: url.origin, path: `${prefix}${version}/${name}:${method}${stream ? '?alt=sse' : ''}` }
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

function buildRequest(input: AttemptInput): UpstreamRequest {
  if (input.operation !== 'chat' && input.operation !== 'embeddings') {
    throw new GatewayError({ status: 400, code: 'invalid_request', message: `Gemini providers do not serve ${input.operation}` })
  }
  const embeddings = input.operation === 'embeddings'
  const method = embeddings ? 'batchEmbedContents' : input.stream ? 'streamGenerateContent' : 'generateContent'
  const { origin, path } = geminiEndpoint(input.provider.baseUrl, input.upstreamModel, method, !embeddings && input.stream)
  const body = embeddings ? embeddingsToGemini(input.body, input.upstreamModel) : chatToGemini(input.body as ChatRequest)
  const headers: Record<string, string> = { ...input.provider.headers, 'content-type': 'application/json' }
  if (input.apiKey !== undefined) headers['x-goog-api-key'] = input.apiKey
  return { origin, path, method: 'POST', headers, body: JSON.stringify(body) }
}

function parseResponse(input: AttemptInput, raw: Buffer): ParsedResponse {
  const parsed = JSON.parse(raw.toString('utf8')) as Json
  if (!isObject(parsed)) throw new GatewayError({ status: 502, code: 'upstream_error', message: 'Gemini returned a body that is not a JSON object' })
  if (input.operation === 'embeddings') {
    const { body, usage } = geminiToEmbeddings(input.body, parsed, input.upstreamModel)
    return { kind: 'object', body, usage, responseModel: input.upstreamModel }
  }
  const blocked = promptBlocked(parsed)
  if (blocked) throw new VendorRefusal(blocked)
  const { completion, usage } = geminiToChat(parsed, input.upstreamModel, nowSeconds())
  return chatResponse(completion, usage)
}

export const geminiAdapter: ProviderAdapter = {
  schema: 'gemini',
  native: new Set(),
  supports: new Set(['chat', 'embeddings']),
  streamFraming: 'sse',
  buildRequest,
  parseResponse,
  streamTranslator: (input, opts) => createGeminiStreamTranslator({ model: input.upstreamModel, created: nowSeconds(), opts }),
  parseError: parseGeminiError,
}

export const geminiKind: ProviderKind = {
  adapter: geminiAdapter,
  defaultBaseUrl: GEMINI_DEFAULT_BASE_URL,
  needsKey: true,
}
