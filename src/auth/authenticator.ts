/**
 * Resolves the caller from the presented key: sha256 of the key, then one Map lookup in the key
 * index (no store round trip on the request path), then a constant-time digest check and the
 * expiry. With `server.auth: none` every call is the anonymous principal of team `default`.
 */
import type { Config } from '../config/schema.ts'
import type { Principal } from '../core/call.ts'
import type { Authenticator } from '../core/ports.ts'
import { GatewayError } from '../core/errors.ts'
import type { KeyCache } from '../keys/key-cache.ts'
import { digestsEqual } from '../keys/key-material.ts'
import type { FailedAuthThrottle } from './failed-auth-throttle.ts'
import { presentedKey, sha256Hex } from './present-key.ts'

const ANONYMOUS: Principal = Object.freeze({ keyId: 'anonymous', keyName: 'anonymous', team: 'default' })

export const invalidKey = (why: string): GatewayError =>
  new GatewayError({ status: 401, code: 'invalid_api_key', message: `${why} Pass a Switchboard virtual key as 'Authorization: Bearer <key>' (or x-api-key).` })

const NOT_VALID = 'The API key is not valid (unknown, revoked or expired).'

export function createAuthenticator(config: Config, keys: KeyCache, throttle: FailedAuthThrottle): Authenticator {
  if (config.server.auth === 'none') return { authenticate: () => ANONYMOUS }
  const refuse = (why: string, remote: string | undefined): never => {
    const wait = throttle.fail(remote)
    if (wait !== undefined) {
      throw new GatewayError({
        status: 429,
        code: 'rate_limit_exceeded',
        message: `Too many failed authentications from your address; retry in ${wait} s with a valid key.`,
        headers: { 'retry-after': String(wait) },
      })
    }
    throw invalidKey(why)
  }
  return {
    authenticate(headers, remote) {
      const key = presentedKey(headers)
      if (!key) return refuse('No API key was provided.', remote)
      const digest = sha256Hex(key)
      const found = keys.lookup(digest)
      if (!found || !digestsEqual(found.digest, digest)) return refuse(NOT_VALID, remote)
      if (found.expiresAt !== undefined && found.expiresAt <= Date.now()) return refuse(NOT_VALID, remote)
      return found.principal
    },
  }
}
