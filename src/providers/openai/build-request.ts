/**
 * Builds requests for OpenAI-schema vendors (OpenAI, Azure OpenAI, and every OpenAI-compatible
 * host). The client's body passes through with only the model swapped; for streams we also ask
 * for the usage chunk so every call can be accounted (the translator hides it again when the
 * client did not ask for it).
 */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import { withModel } from '../../core/json-splice.ts'
import type { AttemptInput, Operation } from '../types.ts'
import type { UpstreamRequest } from '../../upstream/types.ts'

const PATHS: Partial<Record<Operation, string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  responses: '/responses',
}

/**
 * Body for the upstream: the client's bytes with the model swapped in place (and, for streams,
 * the usage chunk asked for), else a shallow copy of the parsed body with the upstream model,
 * serialized. Never a mutation of the client's body.
 */
export function upstreamBody(input: AttemptInput): string | Buffer | undefined {
  if (input.operation === 'passthrough') return input.rawBody && input.rawBody.length > 0 ? input.rawBody : undefined
  return splicedBody(input) ?? serializedBody(input)
}

const asksForUsage = (input: AttemptInput): boolean => input.stream && (input.operation === 'chat' || input.operation === 'completions')
const INCLUDE_USAGE = Buffer.from('"stream_options":{"include_usage":true},')

/** The common case, without a second serialization; undefined when only serializing can do it. */
function splicedBody(input: AttemptInput): Buffer | undefined {
  const raw = input.rawBody
  if (!raw || (input.operation === 'chat' && hasReasoningDetails(input.body.messages))) return undefined
  let prepend: Buffer | undefined
  if (asksForUsage(input)) {
    const so = input.body.stream_options
    if (so === undefined) prepend = INCLUDE_USAGE
    else if (!isObject(so) || so.include_usage !== true) return undefined
  }
  return withModel(raw, input.body.model, input.upstreamModel, prepend)
}

function serializedBody(input: AttemptInput): string {
  const body: JsonObject = { ...(input.rawBody ? input.body : withoutCacheHint(input.body)), model: input.upstreamModel }
  if (asksForUsage(input)) {
    const so = input.body.stream_options
    body.stream_options = { ...(isObject(so) ? so : {}), include_usage: true }
  }
  const messages = input.body.messages
  if (input.operation === 'chat' && hasReasoningDetails(messages)) {
    // reasoning_details is our extension for vendors that need reasoning state back; OpenAI-type vendors reject unknown fields.
    body.messages = messages.map((m) => {
      if (!isObject(m) || !('reasoning_details' in m)) return m
      const { reasoning_details: _drop, ...rest } = m
      return rest
    })
  }
  return JSON.stringify(body)
}

/**
 * A body translated from another API (no client bytes): its prompt_cache_key is a hint for vendors
 * that cache only on request (Anthropic); OpenAI-compatible hosts may refuse the unknown member.
 */
function withoutCacheHint(body: JsonObject): JsonObject {
  if (!('prompt_cache_key' in body)) return body
  const { prompt_cache_key: _hint, ...rest } = body
  return rest
}

function hasReasoningDetails(messages: Json | undefined): messages is Json[] {
  return Array.isArray(messages) && messages.some((m) => isObject(m) && 'reasoning_details' in m)
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

/**
 * Azure serves the Responses API on its v1 surface, `/openai/v1/responses` (the deployment goes in
 * the body's model, no api-version needed), or on `/openai/responses` with a dated preview version
 * (`2025-04-01-preview`). A configured dated preview picks the second; anything else (the default
 * 2024-10-21 predates Responses) the first.
 */
function azureResponsesPath(prefix: string, version: string | undefined): string {
  if (version !== undefined && /^\d{4}-\d{2}-\d{2}-preview$/.test(version)) return `${prefix}/openai/responses?api-version=${version}`
  return version === 'preview' ? `${prefix}/openai/v1/responses?api-version=preview` : `${prefix}/openai/v1/responses`
}

/** Azure OpenAI: deployment in the path, api-version in the query, key in `api-key`. */
export function buildAzureRequest(input: AttemptInput): UpstreamRequest {
  const { origin, prefix } = splitBase(input.provider.baseUrl)
  const version = input.provider.apiVersion ?? '2024-10-21'
  const deployment = encodeURIComponent(input.upstreamModel)
  let path: string
  if (input.operation === 'responses') path = azureResponsesPath(prefix, input.provider.apiVersion)
  else if (input.operation === 'passthrough') path = `${prefix}/openai${input.path ?? ''}?${input.query ? `${input.query}&` : ''}api-version=${version}`
  else path = `${prefix}/openai/deployments/${deployment}${PATHS[input.operation] ?? ''}?api-version=${version}`
  const body = upstreamBody(input)
  const headers: Record<string, string> = { ...input.provider.headers, ...contentHeaders(input, body) }
  if (input.apiKey) headers['api-key'] = input.apiKey
  if (input.stream) headers.accept = 'text/event-stream'
  return { origin, path, method: input.method ?? 'POST', headers, body }
}
