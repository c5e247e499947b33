/** The virtual key a client presented: Authorization: Bearer, x-api-key or api-key. */
import { hash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

type Headers = Readonly<Record<string, string | string[] | undefined>>

export function presentedKey(h: Headers): string | undefined {
  const auth = h.authorization
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim())
    if (m?.[1]) return m[1].trim()
  }
  const x = h['x-api-key'] ?? h['api-key']
  return typeof x === 'string' && x.length > 0 ? x.trim() : undefined
}

/** One-shot hash to hex: several times cheaper than createHash()...digest() or a Buffer digest (measured). */
export const sha256Hex = (s: string): string => hash('sha256', s, 'hex')

/**
 * The client's address on a Hono route under @hono/node-server (`c.env.incoming` is the Node
 * request). Every authentication passes it: without it the failed-auth throttle counts nothing,
 * and a route authenticating without it becomes an unthrottled key-validity oracle.
 */
export function remoteAddressOf(env: unknown): string | undefined {
  return (env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress
}
