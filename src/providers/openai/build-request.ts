/**
 * Builds requests for OpenAI-schema vendors (OpenAI, Azure OpenAI, and every OpenAI-compatible
 * host). The client's body passes through with only the model swapped; for streams we also ask
 * for the usage chunk so every call can be accounted (the translator hides it again when the
 * client did not ask for it).
 */
import type { JsonObject } from '../../core/json.ts'
import type { AttemptInput, Operation } from '../types.ts'
import type { UpstreamRequest } from '../../upstream/types.ts'

const PATHS: Partial<Record<Operation, string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  responses: '/responses',
}

/** Body for the upstream: a shallow copy with the upstream model, never a mutation of the client's. */
export function upstreamBody(input: AttemptInput): string | Buffer | undefined {
  if (input.operation === 'passthrough') return input.rawBody && input.rawBody.length > 0 ? input.rawBody : undefined
  const body: JsonObject = { ...input.body, model: input.upstreamModel }
  if (input.stream && (input.operation === 'chat' || input.operation === 'completions')) {
    const so = input.body.stream_options
    body.stream_options = { ...(so && typeof so === 'object' && !Array.isArray(so) ? so : {}), include_usage: true }
  }
  if (input.operation === 'chat' && Array.isArray(input.body.messages)) {
    // reasoning_details is our extension for vendors that need reasoning state back; OpenAI-type vendors reject unknown fields.
    const messages = input.body.messages
    if (messages.some((m) => m !== null && typeof m === 'object' && !Array.isArray(m) && 'reasoning_details' in m)) {
      body.messages = messages.map((m) => {
        if (m === null || typeof m !== 'object' || Array.isArray(m) || !('reasoning_details' in m)) return m
        const { reasoning_details: _drop, ...rest } = m
        return rest
      })
    }
  }
  return JSON.stringify(body)
}

// Parsing the base URL on every request showed in profiles; there is one per configured provider.
const bases = new Map<string, { origin: string; prefix: string }>()

function splitBase(baseUrl: string): { origin: string; prefix: string } {
  let b = bases.get(baseUrl)
  if (!b) {
    const u = new URL(baseUrl)
    b = { origin: u.origin, prefix: u.pathname.replace(/\/+$/, '') }
    if (bases.size < 1000) bases.set(baseUrl, b)
  }
  return b
}

function contentHeaders(input: AttemptInput, body: string | Buffer | undefined): Record<string, string> {
  if (body === undefined) return {}
  const ct = input.operation === 'passthrough' ? input.clientHeaders['content-type'] : undefined
  return { 'content-type': typeof ct === 'string' ? ct : 'application/json' }
}

export function buildOpenAIRequest(input: AttemptInput): UpstreamRequest {
  const { origin, prefix } = splitBase(input.provider.baseUrl)
  const path = input.operation === 'passthrough' ? `${input.path ?? ''}${input.query ? `?${input.query}` : ''}` : PATHS[input.operation]
  const body = upstreamBody(input)
  const headers: Record<string, string> = { ...input.provider.headers, ...contentHeaders(input, body) }
  if (input.apiKey) headers.authorization = `Bearer ${input.apiKey}`
  if (input.stream) headers.accept = 'text/event-stream'
  return { origin, path: `${prefix}${path}`, method: input.method ?? 'POST', headers, body }
}

/** Azure OpenAI: deployment in the path, api-version in the query, key in `api-key`. */
export function buildAzureRequest(input: AttemptInput): UpstreamRequest {
  const { origin, prefix } = splitBase(input.provider.baseUrl)
  const version = input.provider.apiVersion ?? '2024-10-21'
  const deployment = encodeURIComponent(input.upstreamModel)
  let path: string
  if (input.operation === 'responses') path = `${prefix}/openai/responses?api-version=${version === '2024-10-21' ? 'preview' : version}`
  else if (input.operation === 'passthrough') path = `${prefix}/openai${input.path ?? ''}?${input.query ? `${input.query}&` : ''}api-version=${version}`
  else path = `${prefix}/openai/deployments/${deployment}${PATHS[input.operation] ?? ''}?api-version=${version}`
  const body = upstreamBody(input)
  const headers: Record<string, string> = { ...input.provider.headers, ...contentHeaders(input, body) }
  if (input.apiKey) headers['api-key'] = input.apiKey
  if (input.stream) headers.accept = 'text/event-stream'
  return { origin, path, method: input.method ?? 'POST', headers, body }
}
