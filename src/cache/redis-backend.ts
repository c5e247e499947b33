/**
 * The shared backend (redis.url set): SET with a PX TTL, keys under redis.key_prefix. The client
 * has no offline queue, so a down Redis fails at once; a slow one is cut off after a short wait
 * so it never adds more than that to a request. Either way the cache reads as a miss.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { CacheBackend } from './backend.ts'
import { fromWire, pendingWire, toWire } from './entry-codec.ts'

/** The most a cache read may add to a request when Redis is slow. */
const READ_TIMEOUT_MS = 100

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

export function redisBackend(redis: Redis, log: Logger): CacheBackend {
  let lastWarn = 0
  const warn = (err: unknown, op: string) => {
    // One line per 10 s at most: a Redis outage must not flood the log from every request.
    const now = Date.now()
    if (now - lastWarn < 10_000) return
    lastWarn = now
    log.warn({ err: err instanceof Error ? err.message : String(err), op }, 'response cache: redis unavailable, treating as a miss')
  }
  return {
    kind: 'redis',
    async get(key) {
      try {
        const buf = await withTimeout(redis.getBuffer(key), READ_TIMEOUT_MS)
        return buf ? fromWire(buf) : undefined
      } catch (err) {
        warn(err, 'get')
        return undefined
      }
    },
    async set(key, entry, ttlMs) {
      try {
        await redis.set(key, toWire(entry), 'PX', Math.max(1, Math.round(ttlMs)))
      } catch (err) {
        warn(err, 'set')
      }
    },
    async claim(key, fp, ttlMs) {
      try {
        return (await withTimeout(redis.set(key, pendingWire(fp), 'PX', Math.max(1, Math.round(ttlMs)), 'NX'), READ_TIMEOUT_MS)) === 'OK'
      } catch (err) {
        warn(err, 'claim')
        return true
      }
    },
    async release(key) {
      try {
        await redis.del(key)
      } catch (err) {
        warn(err, 'release')
      }
    },
  }
}
