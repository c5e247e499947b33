/**
 * Virtual key material: `sk-sb-` + 32 random bytes (base64url). The secret is shown once at
 * creation; everything after that works with its sha256 digest and a four-character hint.
 */
import { randomBytes } from 'node:crypto'
import { sha256Hex } from '../auth/present-key.ts'

export const KEY_PREFIX = 'sk-sb-'

export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url')
}

/** Runtime key ids: not secret, safe in logs, URLs and the ledger. */
export function generateKeyId(): string {
  return 'key_' + randomBytes(9).toString('base64url')
}

export const hashKey = (key: string): string => sha256Hex(key)

/** `...abcd`: enough to tell keys apart in a list, useless for guessing. */
export const keyHint = (key: string): string => `...${key.slice(-4)}`

/**
 * Constant-time comparison of two hex digests. The index is keyed by digest, so timing there can
 * only reveal digest prefixes (useless to a guesser); this keeps the final check timing-flat too.
 */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}
