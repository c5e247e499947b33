/**
 * Key changes across replicas in Redis mode: the replica that changes a key publishes
 * `{type, id}` on `<key_prefix>keys`; every replica (itself included) listens on its own
 * subscriber connection (a subscribed ioredis connection can run nothing else). A revocation is
 * applied from the message itself; any message also triggers a store refresh. Messages carry key
 * ids only, never key material. A missed message (Redis down, reconnect) is covered by the
 * store poll, and a reconnect triggers a refresh.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'

export type KeyChange = { type: 'revoked' | 'changed'; id: string }

export interface KeyChangeBus {
  publish(change: KeyChange): void
  close(): Promise<void>
}

export const keyChannel = (prefix: string): string => `${prefix}keys`

export function createKeyChangeBus(redis: Redis, prefix: string, onChange: (c: KeyChange) => void, onResync: () => void, log: Logger): KeyChangeBus {
  const channel = keyChannel(prefix)
  // The shared client fails fast while disconnected; the subscriber may queue its SUBSCRIBE.
  const sub = redis.duplicate({ enableOfflineQueue: true, autoResubscribe: true, socketTimeout: undefined })
  let readyBefore = false
  sub.on('error', () => {}) // state changes are reported by the shared client; reconnects are automatic
  sub.on('ready', () => {
    if (readyBefore) onResync()
    readyBefore = true
  })
  sub.subscribe(channel).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not subscribe to key changes; relying on the store poll'))
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return
    try {
      const m = JSON.parse(message) as Partial<KeyChange>
      if ((m.type === 'revoked' || m.type === 'changed') && typeof m.id === 'string') onChange({ type: m.type, id: m.id })
    } catch {
      // not ours; ignore
    }
  })
  return {
    publish(change) {
      redis.publish(channel, JSON.stringify(change)).catch(() => {
        // Redis down: the other replicas pick the change up from the store within the poll interval.
      })
    },
    async close() {
      sub.disconnect()
    },
  }
}
