/**
 * The in-process backend (no redis.url): an LRU bounded by cache.max_bytes, with a TTL per entry.
 * One process, so Idempotency-Key claims are settled by the coordinator's in-flight map alone.
 */
import { LRUCache } from 'lru-cache'
import type { CacheBackend } from './backend.ts'
import { entryBytes, type StoredEntry, type WireValue } from './entry-codec.ts'

export function memoryBackend(maxBytes: number): CacheBackend {
  const lru = new LRUCache<string, StoredEntry>({
    maxSize: Math.max(1, maxBytes),
    sizeCalculation: entryBytes,
  })
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
  }
}
