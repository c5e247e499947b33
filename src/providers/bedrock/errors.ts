/** Bedrock errors ({message} + x-amzn-errortype, or stream exceptions) classified for routing. */
import { isObject, type Json } from '../../core/json.ts'
import type { ProviderError } from '../types.ts'
import { nameMap } from '../../core/name-map.ts'

const CONTEXT_LENGTH = /too long|too many (input )?tokens|context (length|window)|exceeds? the maximum/i

const STATUS_BY_TYPE: Record<string, number> = nameMap({
  ThrottlingException: 429,
  ServiceQuotaExceededException: 429,
  ServiceUnavailableException: 503,
  ModelNotReadyException: 503,
  InternalServerException: 500,
  ModelStreamErrorException: 500,
  ModelErrorException: 424,
  ModelTimeoutException: 408,
  ValidationException: 400,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  ExpiredTokenException: 403,
  ResourceNotFoundException: 404,
})

function kindOf(type: string, status: number, message: string): ProviderError['kind'] {
  switch (type) {
    case 'ThrottlingException':
    case 'ServiceQuotaExceededException': return 'rate_limited'
    case 'ServiceUnavailableException':
    case 'ModelNotReadyException': return 'overloaded'
    case 'InternalServerException':
    case 'ModelStreamErrorException':
    case 'ModelErrorException':
    case 'ModelTimeoutException': return 'server'
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException': return 'auth'
    case 'ResourceNotFoundException': return 'not_found'
  }
  if (status === 429) return 'rate_limited'
  if (status === 503) return 'overloaded'
  if (status >= 500) return 'server'
  if (status === 401 || status === 403) return 'auth'
  if (status === 404) return 'not_found'
  if (CONTEXT_LENGTH.test(message)) return 'context_length'
  if (status >= 400) return 'bad_request'
  return 'other'
}

/** `ThrottlingException:http://internal.amazon.com/coral/...` -> `ThrottlingException`. */
export function errorTypeName(raw: string | undefined): string {
  const name = (raw ?? '').split(':', 1)[0]?.trim() ?? ''
  return name.charAt(0).toUpperCase() + name.slice(1)
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

function messageOf(parsed: Json | undefined, fallback: string): string {
  if (isObject(parsed)) {
    const m = parsed['message'] ?? parsed['Message']
    if (typeof m === 'string') return m
  }
  return fallback
}

export function bedrockError(type: string, status: number, message: string, retryAfterMs?: number): ProviderError {
  const out: ProviderError = { status, code: type || String(status), message, kind: kindOf(type, status, message) }
  if (type) out.type = type
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs
  return out
}

export function parseBedrockError(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): ProviderError {
  const text = body.toString('utf8')
  let parsed: Json | undefined
  try {
    parsed = JSON.parse(text) as Json
  } catch {
    parsed = undefined
  }
  const fromBody = isObject(parsed) && typeof parsed['__type'] === 'string' ? parsed['__type'].split('#').pop() : undefined
  const type = errorTypeName(header(headers, 'x-amzn-errortype') ?? fromBody)
  const retry = header(headers, 'retry-after')
  const retryAfterMs = retry !== undefined && /^\d+(\.\d+)?$/.test(retry.trim()) ? Math.round(Number(retry) * 1000) : undefined
  return bedrockError(type, status, messageOf(parsed, text.trim().slice(0, 500) || `Bedrock returned HTTP ${status}`), retryAfterMs)
}

/** An exception delivered inside converse-stream (event name = exception type, data = {message}). */
export function bedrockStreamError(eventName: string, data: string): ProviderError {
  let parsed: Json | undefined
  try {
    parsed = JSON.parse(data) as Json
  } catch {
    parsed = undefined
  }
  const code = isObject(parsed) && typeof parsed['code'] === 'string' ? parsed['code'] : eventName
  const type = errorTypeName(code)
  return bedrockError(type, STATUS_BY_TYPE[type] ?? 500, messageOf(parsed, data || type))
}
