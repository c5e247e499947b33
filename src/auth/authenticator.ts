/**
 * Resolves the caller from the presented key. Lookups are in memory (no store round trip on the
 * request path). With `server.auth: none` every call is the anonymous principal of team `default`.
 */
import type { Config } from '../config/schema.ts'
import type { Principal } from '../core/call.ts'
import type { Authenticator } from '../core/ports.ts'
import { GatewayError } from '../core/errors.ts'
import { configKeysByHash } from './config-keys.ts'
import { presentedKey, sha256Hex } from './present-key.ts'

const ANONYMOUS: Principal = { keyId: 'anonymous', keyName: 'anonymous', team: 'default' }

export const invalidKey = (why: string): GatewayError =>
  new GatewayError({ status: 401, code: 'invalid_api_key', message: `${why} Pass a Switchboard virtual key as 'Authorization: Bearer <key>' (or x-api-key).` })

export function createAuthenticator(config: Config, warn: (msg: string, fields: Record<string, unknown>) => void): Authenticator {
  if (config.server.auth === 'none') return { authenticate: () => ANONYMOUS }
  const keys = configKeysByHash(config, warn)
  return {
    authenticate(headers) {
      const key = presentedKey(headers)
      if (!key) throw invalidKey('No API key was provided.')
      const found = keys.get(sha256Hex(key))
      if (!found) throw invalidKey('The API key is not valid (unknown, revoked or expired).')
      if (found.expiresAt !== undefined && found.expiresAt <= Date.now()) throw invalidKey('The API key is not valid (unknown, revoked or expired).')
      return found.principal
    },
  }
}
