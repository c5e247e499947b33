/**
 * Anthropic failures -> ProviderError. The `kind` drives routing: rate_limited, overloaded and
 * server are retried; context_length triggers context-window fallbacks; the rest reach the client
 * with Anthropic's own message.
 */
import { isObject } from '../../core/json.ts'
import type { ProviderError } from '../types.ts'
import { retryAfterMs } from '../retry-after.ts'

/** Anthropic's ways of saying the prompt does not fit the model's context window. */
const CONTEXT_LENGTH = /prompt is too long|input length and `?max_tokens`? exceed context limit|exceeds? (?:the )?context (?:limit|window)|input is too long/i

type Headers = Record<string, string | string[] | undefined>

export function parseError(status: number, headers: Headers, body: Buffer): ProviderError {
  const { type, message } = readErrorBody(body, status)
  const err = classify(status, type, message)
  const wait = retryAfterMs(headers)
  if (wait !== undefined) err.retryAfterMs = wait
  return err
}

/** An `error` event inside a 200 stream carries the same object as an error body, but no status. */
export function streamErrorToProviderError(error: unknown): ProviderError {
  const type = isObject(error) && typeof error['type'] === 'string' ? error['type'] : 'api_error'
  const message = isObject(error) && typeof error['message'] === 'string' ? error['message'] : 'Anthropic reported an error in the stream'
  return classify(statusForType(type), type, message)
}

function classify(status: number, type: string | undefined, message: string): ProviderError {
  const base = { message, ...(type !== undefined ? { type } : {}) }
  if (status === 529 || type === 'overloaded_error') return { ...base, status: 503, code: type ?? 'overloaded_error', kind: 'overloaded' }
  if (status === 429) return { ...base, status, code: type ?? 'rate_limit_error', kind: 'rate_limited' }
  if (status >= 500) return { ...base, status, code: type ?? 'api_error', kind: 'server' }
  if (status === 401 || status === 403) return { ...base, status, code: type ?? 'authentication_error', kind: 'auth' }
  if (status === 404) return { ...base, status, code: type ?? 'not_found_error', kind: 'not_found' }
  if ((status === 400 || status === 413) && CONTEXT_LENGTH.test(message)) {
    return { ...base, status: 400, code: 'context_length_exceeded', kind: 'context_length' }
  }
  if (status >= 400 && status < 500) return { ...base, status, code: type ?? 'invalid_request_error', kind: 'bad_request' }
  return { ...base, status, code: type ?? 'api_error', kind: 'other' }
}

function statusForType(type: string): number {
  switch (type) {
    case 'invalid_request_error': return 400
    case 'authentication_error': return 401
    case 'permission_error': return 403
    case 'not_found_error': return 404
    case 'request_too_large': return 413
    case 'rate_limit_error': return 429
    case 'overloaded_error': return 529
    case 'timeout_error': return 504
    default: return 500
  }
}

function readErrorBody(body: Buffer, status: number): { type: string | undefined; message: string } {
  const text = body.toString('utf8')
  try {
    const parsed: unknown = JSON.parse(text)
    const error = isObject(parsed) ? parsed['error'] : undefined
    if (isObject(error)) {
      return {
        type: typeof error['type'] === 'string' ? error['type'] : undefined,
        message: typeof error['message'] === 'string' ? error['message'] : `Anthropic returned HTTP ${status}`,
      }
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): the text itself is the best message there is.
  }
  const trimmed = text.trim().slice(0, 500)
  return { type: undefined, message: trimmed === '' ? `Anthropic returned HTTP ${status}` : trimmed }
}
