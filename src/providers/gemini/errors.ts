/** Google API errors ({error:{code,message,status,details}}) classified for routing. */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import type { ProviderError } from '../types.ts'

const CONTEXT_LENGTH = /exceeds the maximum number of tokens|input token count.*exceeds|too many tokens|context length/i

/** "13s" / "34.4s" (protobuf Duration as JSON) -> milliseconds. */
export function durationToMs(value: Json | undefined): number | undefined {
  if (typeof value !== 'string') return undefined
  const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim())
  return m?.[1] === undefined ? undefined : Math.round(Number(m[1]) * 1000)
}

function retryDelayMs(details: Json | undefined): number | undefined {
  if (!Array.isArray(details)) return undefined
  for (const d of details) {
    if (isObject(d) && d['retryDelay'] !== undefined) return durationToMs(d['retryDelay'])
  }
  return undefined
}

function headerMs(headers: Record<string, string | string[] | undefined>): number | undefined {
  const raw = headers['retry-after']
  const value = Array.isArray(raw) ? raw[0] : raw
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined
  return Math.round(Number(value) * 1000)
}

function hasReason(details: Json | undefined, reason: string): boolean {
  return Array.isArray(details) && details.some((d) => isObject(d) && d['reason'] === reason)
}

function kindOf(status: number, googleStatus: string, message: string, details: Json | undefined): ProviderError['kind'] {
  // An invalid key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID on the Gemini API.
  if (status === 401 || status === 403 || googleStatus === 'UNAUTHENTICATED' || googleStatus === 'PERMISSION_DENIED' || hasReason(details, 'API_KEY_INVALID')) return 'auth'
  if (status === 429 || googleStatus === 'RESOURCE_EXHAUSTED') return 'rate_limited'
  if (status === 503 || googleStatus === 'UNAVAILABLE') return 'overloaded'
  if (status === 404 || googleStatus === 'NOT_FOUND') return 'not_found'
  if (status >= 500) return 'server'
  if (CONTEXT_LENGTH.test(message)) return 'context_length'
  if (status >= 400) return 'bad_request'
  return 'other'
}

/** The error object of a Google error body: `{error:{...}}`, or `[{error:{...}}]` from non-SSE streams. */
export function googleErrorObject(parsed: Json): JsonObject | undefined {
  const root = Array.isArray(parsed) ? parsed[0] : parsed
  return isObject(root) && isObject(root['error']) ? root['error'] : undefined
}

export function geminiErrorFromObject(status: number, err: JsonObject | undefined, headers: Record<string, string | string[] | undefined> = {}): ProviderError {
  const effectiveStatus = typeof err?.['code'] === 'number' ? err['code'] : status
  const googleStatus = typeof err?.['status'] === 'string' ? err['status'] : ''
  const message = typeof err?.['message'] === 'string' ? err['message'] : `Gemini returned HTTP ${status}`
  const kind = kindOf(effectiveStatus, googleStatus, message, err?.['details'])
  const out: ProviderError = { status: status >= 400 ? status : effectiveStatus, code: googleStatus || String(effectiveStatus), message, kind }
  if (googleStatus) out.type = googleStatus
  const retry = retryDelayMs(err?.['details']) ?? headerMs(headers)
  if (retry !== undefined) out.retryAfterMs = retry
  return out
}

export function parseGeminiError(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): ProviderError {
  let err: JsonObject | undefined
  try {
    err = googleErrorObject(JSON.parse(body.toString('utf8')) as Json)
  } catch {
    err = undefined
  }
  if (!err) {
    const text = body.toString('utf8').trim().slice(0, 500)
    return { status, code: String(status), message: text || `Gemini returned HTTP ${status}`, kind: kindOf(status, '', text, undefined) }
  }
  return geminiErrorFromObject(status, err, headers)
}
