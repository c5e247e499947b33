/** OpenAI-type error bodies ({error:{message,type,param,code}}) classified for routing. */
import { isObject } from '../../core/json.ts'
import { retryAfterMs } from '../retry-after.ts'
import type { ProviderError } from '../types.ts'

const CONTEXT = /context[_ ]length|maximum context|too many tokens|prompt is too long|context window/i

export function parseOpenAIError(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): ProviderError {
  let message = `vendor answered ${status}`
  let code: string | undefined
  let type: string | undefined
  let param: string | null = null
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    const err = isObject(parsed) ? (isObject(parsed.error) ? parsed.error : parsed) : undefined
    if (err) {
      if (typeof err.message === 'string') message = err.message
      if (typeof err.code === 'string') code = err.code
      if (typeof err.type === 'string') type = err.type
      if (typeof err.param === 'string') param = err.param
    }
  } catch {
    const text = body.toString('utf8').trim()
    if (text) message = text.slice(0, 500)
  }
  const kind = classify(status, code, message)
  return {
    status,
    code: code ?? (kind === 'context_length' ? 'context_length_exceeded' : defaultCode(status)),
    message,
    kind,
    retryAfterMs: retryAfterMs(headers),
    type,
    param,
  }
}

function classify(status: number, code: string | undefined, message: string): ProviderError['kind'] {
  if (code === 'context_length_exceeded' || (status === 400 && CONTEXT.test(message))) return 'context_length'
  // invalid_prompt: a reasoning model (o-series, gpt-5, Codex) flagging the prompt under the usage policy.
  if (code === 'content_filter' || code === 'content_policy_violation' || code === 'invalid_prompt') return 'content_filter'
  if (status === 429) return 'rate_limited'
  if (status === 401 || status === 403) return 'auth'
  if (status === 404) return 'not_found'
  if (status === 529 || status === 503) return 'overloaded'
  if (status >= 500) return 'server'
  if (status >= 400) return 'bad_request'
  return 'other'
}

function defaultCode(status: number): string {
  if (status === 429) return 'rate_limit_exceeded'
  if (status === 401) return 'invalid_api_key'
  if (status >= 500) return 'upstream_error'
  return 'invalid_request'
}
