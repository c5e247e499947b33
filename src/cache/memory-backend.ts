/**
 * The in-process backend (no redis.url): an LRU bounded by cache.max_bytes, with a TTL per entry.
 * One process, so Idempotency-Key claims are settled by the coordinator's in-flight map alone.
 */
import { LRUCache } from 'lru-cache'
import type { CacheBackend } from './backend.ts'
import { entryBytes, type StoredEntry, type WireValue } from './entry-codec.ts'

export interface MemoryBackend extends CacheBackend {
  /**
   * Bounds the cache by a new cache.max_bytes (a reload), keeping the entries that fit, most
   * recently used first, with the TTL they had left. The backend lives as long as the process, so
   * a new bound must not cost the entries: the LRU's own bound is fixed when it is made.
   */
  resize(maxBytes: number): void
}

const newLru = (maxBytes: number) => new LRUCache<string, StoredEntry>({ maxSize: Math.max(1, maxBytes), sizeCalculation: entryBytes })

export function memoryBackend(maxBytes: number): MemoryBackend {
  let lru = newLru(maxBytes)
  return {
    kind: 'memory',
    get(key) {
      const entry = lru.get(key)
      return Promise.resolve<WireValue | undefined>(entry ? { kind: 'result', entry } : undefined)
    },
    set(key, entry, ttlMs) {
      lru.set(key, entry, { ttl: ttlMs })
      return Promise.resolve()
    },
    claim: () => Promise.resolve(true),
    release: () => Promise.resolve(),
    resize(next) {
      if (Math.max(1, next) === lru.maxSize) return
      const old = lru
      lru = newLru(next)
      // Least recently used first, so the most recent are the last set and the last evicted.
      for (const key of old.rkeys()) {
        const entry = old.peek(key)
        const ttl = old.getRemainingTTL(key)
        if (entry && ttl > 0) lru.set(key, entry, { ttl })
      }
    },
  }
}
