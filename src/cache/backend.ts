/**
 * Where entries live: process memory (LRU bounded by bytes) or Redis (shared by replicas). Both
 * hold cache entries and Idempotency-Key records. A backend never throws into the request path: a
 * failing Redis reads as "absent", and a claim it cannot make is granted locally.
 */
import type { StoredEntry, WireValue } from './entry-codec.ts'

export interface CacheBackend {
  readonly kind: 'memory' | 'redis'
  get(key: string): Promise<WireValue | undefined>
  set(key: string, entry: StoredEntry, ttlMs: number): Promise<void>
  /** Marks an Idempotency-Key as in flight unless another replica already has; true = it is ours. */
  claim(key: string, fp: string, ttlMs: number): Promise<boolean>
  release(key: string): Promise<void>
}
