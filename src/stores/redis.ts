/**
 * The shared Redis client (limits, budgets, cache, key revocation). It never throws into the
 * request path on its own: commands fail fast while disconnected (no offline queue) and callers
 * apply their failure policy; it reconnects by itself.
 */
import { Redis } from 'ioredis'

export function createRedis(url: string, onState?: (state: 'ready' | 'down', err?: Error) => void): Redis {
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    // Commands issued in the same tick (many concurrent requests) leave in one write.
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  })
  client.on('ready', () => onState?.('ready'))
  client.on('error', (err: Error) => onState?.('down', err))
  // 'close' fires as soon as the connection drops; 'error' only when a reconnect attempt fails.
  client.on('close', () => onState?.('down'))
  client.on('end', () => onState?.('down'))
  return client
}
