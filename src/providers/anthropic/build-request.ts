/**
 * The HTTP request for one attempt. Native operations (/v1/messages, /v1/messages/count_tokens)
 * keep the client's body, anthropic-version, anthropic-beta and query string (Claude Code sends
 * `?beta=true` and a body that depends on its betas); only the model and the key change (and
 * thinking blocks the gateway itself signed are removed: strip-envelopes.ts). Chat is translated
 * from OpenAI.
 */
import { invalidRequest } from '../../core/errors.ts'
import type { ChatRequest } from '../../core/openai-chat.ts'
import type { UpstreamRequest } from '../../upstream/types.ts'
import { withModel } from '../../core/json-splice.ts'
import type { AttemptInput } from '../types.ts'
import { chatToAnthropic } from './chat-to-anthropic.ts'
import { withoutGatewayThinking } from './strip-envelopes.ts'

export const DEFAULT_BASE_URL = 'https://api.anthropic.com'
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01'

export const isNativeOperation = (op: AttemptInput['operation']): boolean => op === 'messages' || op === 'count_tokens'

export function buildRequest(input: AttemptInput): UpstreamRequest {
  const op = input.operation
  if (op !== 'chat' && !isNativeOperation(op)) throw invalidRequest(`Anthropic models do not support the '${op}' operation`)
  const native = isNativeOperation(op)

  const base = new URL(input.provider.baseUrl || DEFAULT_BASE_URL)
  const apiPath = op === 'count_tokens' ? '/v1/messages/count_tokens' : '/v1/messages'
  const query = native ? (input.query ?? '').replace(/^\?/, '') : ''
  const path = `${base.pathname.replace(/\/+$/, '')}${apiPath}${query === '' ? '' : `?${query}`}`

  return { origin: base.origin, path, method: 'POST', headers: buildHeaders(input, native), body: buildBody(input, native) }
}

function buildBody(input: AttemptInput, native: boolean): string | Buffer {
  if (!native) return JSON.stringify(chatToAnthropic(input.body as ChatRequest, input.upstreamModel, input.stream, input.maxOutputTokens))
  // Thinking blocks carrying our envelope of Gemini signatures would be refused by Anthropic.
  const stripped = withoutGatewayThinking(input.body)
  if (stripped) return JSON.stringify({ ...stripped, model: input.upstreamModel })
  // The client's exact bytes, the model swapped in place when it differs; serialized (spreading
  // keeps the client's key order) only when the member cannot be located with certainty.
  return (input.rawBody && withModel(input.rawBody, input.body['model'], input.upstreamModel)) || JSON.stringify({ ...input.body, model: input.upstreamModel })
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name]
  const joined = Array.isArray(v) ? v.join(',') : v
  return joined === undefined || joined.trim() === '' ? undefined : joined
}

function buildHeaders(input: AttemptInput, native: boolean): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(input.provider.headers)) headers[name.toLowerCase()] = value

  const clientVersion = native ? headerValue(input.clientHeaders, 'anthropic-version') : undefined
  headers['anthropic-version'] = clientVersion ?? input.provider.apiVersion ?? headers['anthropic-version'] ?? DEFAULT_ANTHROPIC_VERSION

  // Betas the client asked for explicitly are carried on every operation, merged with any configured ones.
  const betas = [headers['anthropic-beta'], headerValue(input.clientHeaders, 'anthropic-beta')]
    .flatMap(v => (v ?? '').split(','))
    .map(b => b.trim())
    .filter(b => b !== '')
  if (betas.length > 0) headers['anthropic-beta'] = [...new Set(betas)].join(',')
  else delete headers['anthropic-beta']

  headers['content-type'] = 'application/json'
  if (input.apiKey !== undefined) headers['x-api-key'] = input.apiKey
  return headers
}
