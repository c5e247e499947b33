/**
 * Admin authentication for /admin/v1/*: a bearer token from `server.admin_keys`. A missing or
 * wrong admin key is 401; a valid *virtual* key on an admin path is 403 (it authenticates, but
 * may not administer). The admin is identified in the audit trail by a short id derived from its
 * key's hash, never by the key.
 */
import type { MiddlewareHandler } from 'hono'
import { timingSafeEqual } from 'node:crypto'
import { GatewayError } from '../core/errors.ts'
import type { Authenticator } from '../core/ports.ts'
import { presentedKey, remoteAddressOf, sha256Hex } from '../auth/present-key.ts'

declare module 'hono' {
  interface ContextVariableMap {
    /** The acting admin's id (`admin:<first 12 hex of sha256>`). */
    adminId: string
  }
}

export function adminAuth(adminKeys: readonly string[], auth: Authenticator): MiddlewareHandler {
  const hashes = adminKeys.filter((k) => k.length > 0).map((k) => Buffer.from(sha256Hex(k), 'hex'))
  return async function adminAuthMiddleware(c, next) {
    const headers = Object.fromEntries(c.req.raw.headers)
    const key = presentedKey(headers)
    if (!key) throw new GatewayError({ status: 401, code: 'invalid_api_key', message: 'The admin API needs an admin key: Authorization: Bearer <one of server.admin_keys>.' })
    const h = Buffer.from(sha256Hex(key), 'hex')
    const match = hashes.some((x) => timingSafeEqual(x, h))
    if (!match) {
      let isVirtual = false
      try {
        // With the client's address, so wrong admin keys count towards the failed-auth throttle.
        await auth.authenticate(headers, remoteAddressOf(c.env))
        isVirtual = true
      } catch (err) {
        if (err instanceof GatewayError && err.status === 429) throw err
        isVirtual = false
      }
      if (isVirtual) throw new GatewayError({ status: 403, code: 'permission_denied', message: 'A virtual key cannot use the admin API; use an admin key from server.admin_keys.' })
      throw new GatewayError({ status: 401, code: 'invalid_api_key', message: 'The admin key is not valid.' })
    }
    c.set('adminId', `admin:${h.toString('hex').slice(0, 12)}`)
    await next()
  }
}
