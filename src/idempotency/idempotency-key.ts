/** The Idempotency-Key request header: 1-255 visible ASCII characters, else a 400 naming it. */
import type { CallInfo } from '../core/call.ts'
import { GatewayError } from '../core/errors.ts'

const VALID = /^[\x21-\x7e]{1,255}$/

export function idempotencyKeyOf(headers: CallInfo['headers']): string | undefined {
  const raw = headers['idempotency-key']
  if (raw === undefined) return undefined
  const v = (Array.isArray(raw) ? raw[0] ?? '' : raw).trim()
  if (!VALID.test(v)) {
    throw new GatewayError({ status: 400, code: 'invalid_request', message: 'The Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID is a good choice).' })
  }
  return v
}
