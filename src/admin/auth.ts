/**
 * Admin authentication for /admin/v1/*: a bearer token from `server.admin_keys`. A missing or
 * wrong admin key is 401; a valid *virtual* key on an admin path is 403 (it authenticates, but
 * may not administer). The admin is identified in the audit trail by a short id derived from its
 * key's hash, never by the key.
 */
import type { MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
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

/**
 * Every admin key empty: none set, or each an unset variable (`"${SWITCHBOARD_ADMIN_KEY}"` without
 * the variable, the documented setup). Empty keys are ignored, so no key can administer.
 */
export const adminDisabled = (adminKeys: readonly string[]): boolean => !adminKeys.some((k) => k.length > 0)

export const ADMIN_DISABLED_WARNING = 'no admin key is configured (server.admin_keys is empty, or each entry is empty: an unset variable?); the admin API is disabled'

/** log: where the admin API being disabled is told, once per config (at start and on each reload). */
export function adminAuth(adminKeys: readonly string[], auth: Authenticator, log?: Logger): MiddlewareHandler {
  const hashes = adminKeys.filter((k) => k.length > 0).map((k) => Buffer.from(sha256Hex(k), 'hex'))
  if (hashes.length === 0) {
    log?.warn(ADMIN_DISABLED_WARNING)
    // Said as it is: "the admin key is not valid" sent operators looking for a typo in a key that
    // could not have worked. Whatever is presented, nothing can administer, so nothing is checked.
    return function adminDisabledMiddleware() {
      throw new GatewayError({ status: 403, code: 'admin_api_disabled', message: 'The admin API is disabled: no admin key is configured on this gateway (server.admin_keys is empty, or each entry is empty, e.g. an unset ${SWITCHBOARD_ADMIN_KEY}). Set one; a config reload applies it.' })
    }
  }
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
