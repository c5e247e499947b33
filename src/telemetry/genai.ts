/**
 * OpenTelemetry GenAI semantic-convention names and the mappings from our operations and provider
 * types to their values. Computed once per request at most; tables are built at start-up.
 */
import type { Operation } from '../core/call.ts'
import type { JsonObject } from '../core/json.ts'
import type { Attributes } from '@opentelemetry/api'

/** `gen_ai.operation.name`: Responses and Anthropic Messages are chat as far as the conventions go. */
export const OPERATION_NAME: Readonly<Record<Operation, string>> = {
  chat: 'chat',
  responses: 'chat',
  messages: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  // Not GenAI operations in the conventions; named for what they are.
  count_tokens: 'count_tokens',
  passthrough: 'passthrough',
}

/** `gen_ai.provider.name` by provider type (the conventions' well-known values). */
const PROVIDER_BY_TYPE: Readonly<Record<string, string>> = {
  openai: 'openai',
  // An OpenAI-compatible server is spoken to as OpenAI; the configured name is in switchboard.provider.
  'openai-compatible': 'openai',
  azure: 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  bedrock: 'aws.bedrock',
  mock: 'switchboard.mock',
}

export function providerNameByConfigName(providers: Readonly<Record<string, { type: string }>>): Map<string, string> {
  const m = new Map<string, string>()
  for (const [name, p] of Object.entries(providers)) m.set(name, PROVIDER_BY_TYPE[p.type] ?? p.type)
  return m
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/** Request parameters as `gen_ai.request.*`, from the body in any ingress format. */
export function requestAttributes(body: JsonObject, into: Attributes): void {
  const maxTokens = num(body.max_tokens) ?? num(body.max_completion_tokens) ?? num(body.max_output_tokens)
  if (maxTokens !== undefined) into['gen_ai.request.max_tokens'] = maxTokens
  const temperature = num(body.temperature)
  if (temperature !== undefined) into['gen_ai.request.temperature'] = temperature
  const topP = num(body.top_p)
  if (topP !== undefined) into['gen_ai.request.top_p'] = topP
  const topK = num(body.top_k)
  if (topK !== undefined) into['gen_ai.request.top_k'] = topK
  const fp = num(body.frequency_penalty)
  if (fp !== undefined) into['gen_ai.request.frequency_penalty'] = fp
  const pp = num(body.presence_penalty)
  if (pp !== undefined) into['gen_ai.request.presence_penalty'] = pp
  const seed = num(body.seed)
  if (seed !== undefined) into['gen_ai.request.seed'] = seed
  const n = num(body.n)
  if (n !== undefined && n !== 1) into['gen_ai.request.choice.count'] = n
  const stop = body.stop ?? body.stop_sequences
  if (typeof stop === 'string') into['gen_ai.request.stop_sequences'] = [stop]
  else if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) into['gen_ai.request.stop_sequences'] = stop as string[]
  const output = outputType(body)
  if (output !== undefined) into['gen_ai.output.type'] = output
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const JSON_FORMATS = new Set(['json_object', 'json_schema'])

/**
 * `gen_ai.output.type` (the convention's `json`, `text`, `speech`), only when the request names an
 * output format: OpenAI Chat `response_format`, Responses `text.format`, Anthropic
 * `output_config.format` (or the older `output_format`), and audio asked for in Chat `modalities`.
 */
export function outputType(body: JsonObject): string | undefined {
  const format = isObj(body.response_format) ? body.response_format
    : isObj(body.text) && isObj(body.text.format) ? body.text.format
    : isObj(body.output_config) && isObj(body.output_config.format) ? body.output_config.format
    : isObj(body.output_format) ? body.output_format
    : undefined
  const type = format?.type
  if (typeof type === 'string' && JSON_FORMATS.has(type)) return 'json'
  if (Array.isArray(body.modalities) && body.modalities.includes('audio')) return 'speech'
  return type === 'text' ? 'text' : undefined
}

/** `server.address` and `server.port` from an origin like `https://api.openai.com` or `http://127.0.0.1:8080`. */
export function serverAddress(origin: string, into: Attributes): void {
  const schemeEnd = origin.indexOf('://')
  let rest = schemeEnd >= 0 ? origin.slice(schemeEnd + 3) : origin
  const slash = rest.indexOf('/')
  if (slash >= 0) rest = rest.slice(0, slash)
  let host = rest
  let port: number | undefined
  const bracket = rest.lastIndexOf(']')
  const colon = rest.lastIndexOf(':')
  if (colon > bracket) {
    host = rest.slice(0, colon)
    port = Number(rest.slice(colon + 1))
  } else {
    port = origin.startsWith('https') ? 443 : origin.startsWith('http') ? 80 : undefined
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  into['server.address'] = host
  if (port !== undefined && Number.isInteger(port)) into['server.port'] = port
}
