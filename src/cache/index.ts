/**
 * The response cache and Idempotency-Key replay, behind the pipeline's ResponseCache port.
 *
 * lookup() runs after auth and the limit/budget guards, so hits still count against request
 * limits and are traced and recorded (at zero cost, with the saving). A call that returns 'miss'
 * is collected by the pipeline and ends in exactly one store() (complete, successful) or
 * abandon() (anything else), which is what releases duplicates waiting on its Idempotency-Key.
 * With the cache disabled and no Idempotency-Key, lookup() is two header checks.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { CallInfo } from '../core/call.ts'
import type { CacheLookup, CachedResponse, ResponseCache } from '../core/ports.ts'
import type { Config } from '../config/schema.ts'
import { createIdempotency, type IdempotencyCoordinator, type Ticket } from '../idempotency/coordinator.ts'
import { idempotencyKeyOf } from '../idempotency/idempotency-key.ts'
import type { CacheBackend } from './backend.ts'
import { CACHEABLE_OPERATIONS, cachePolicy, idempotencyTtl } from './cache-policy.ts'
import { hashOf, requestHash } from './canonical-request.ts'
import { decodeEntry, encodeEntry } from './entry-codec.ts'
import { looksComplete } from './complete-response.ts'
import { withZeroStreamCost } from './replay-cost.ts'
import { memoryBackend, type MemoryBackend } from './memory-backend.ts'
import { redisBackend } from './redis-backend.ts'

/**
 * The cache state of the process: the backend (entries and Idempotency-Key records), the
 * Idempotency-Keys in flight, and the entries still being written. Built once at start, like the
 * budget and rate-limit counters: made with each config runtime, every reload emptied the
 * in-memory cache and forgot every Idempotency-Key, so an agent's retry after a reload (or a
 * duplicate of a call in flight across it) went to the vendor again and was billed twice. What a
 * runtime decides (enabled, mode, TTLs, scope) is read from its own config in createResponseCache.
 */
export interface CacheStore {
  readonly backend: CacheBackend
  /** redis.key_prefix with Redis ('' in memory); read once, as the redis settings are. */
  readonly prefix: string
  readonly idempotency: IdempotencyCoordinator
  /**
   * Stores still being written (an entry of 1 KB or more is compressed first), by cache key. The
   * client has its answer before the entry lands, so the same question asked at once (an agent's
   * next identical call) waits for it here instead of missing and paying the vendor again. Each
   * entry leaves the map when its store settles.
   */
  readonly storing: Map<string, Promise<void>>
  /** Applies a runtime's cache.max_bytes to the in-memory backend (no-op with Redis). */
  fit(maxBytes: number): void
}

export interface CacheStoreOptions {
  /** The config at start: the redis settings are read once (changing them needs a restart). */
  config: Config
  redis: Redis | undefined
  log: Logger
}

export function createCacheStore(opts: CacheStoreOptions): CacheStore {
  const { config, log } = opts
  const memory: MemoryBackend | undefined = opts.redis ? undefined : memoryBackend(config.cache.max_bytes)
  const backend = memory ?? redisBackend(opts.redis!, log)
  const prefix = opts.redis ? config.redis.key_prefix : ''
  return {
    backend,
    prefix,
    idempotency: createIdempotency({ backend, prefix, log }),
    storing: new Map(),
    fit: (maxBytes) => memory?.resize(maxBytes),
  }
}

export interface ResponseCacheOptions {
  /** The runtime's config: enabled, mode, TTLs, scope, max_bytes. */
  config: Config
  store: CacheStore
  log: Logger
}

/** What lookup() decided for a call that went on to the vendor, for store()/abandon(). */
interface Pending {
  cacheKey: string | undefined
  ttlMs: number
  ticket: Ticket | undefined
  idempotencyTtlMs: number
}

type LookupResult = CacheLookup
const BYPASS: LookupResult = { result: 'bypass' }
const MISS: LookupResult = { result: 'miss' }
const REPLAY_HEADERS = { 'x-switchboard-idempotent-replay': 'true' } as const

/** A lock outlives the longest a request may run, so a crashed replica's key frees itself. */
const LOCK_MARGIN_MS = 30_000

export function createResponseCache(opts: ResponseCacheOptions): ResponseCache & { readonly backend: CacheBackend['kind'] } {
  const { config, log } = opts
  const { backend, prefix, idempotency, storing } = opts.store
  // Once per runtime, not per request: a reload's new bound applies to the entries already kept.
  opts.store.fit(config.cache.max_bytes)
  const lockTtlMs = config.routing.timeouts.total_ms + LOCK_MARGIN_MS
  // Keyed by the call object: gone with the request, never keeps it alive.
  const pending = new WeakMap<CallInfo, Pending>()

  const scopeOf = (call: CallInfo): string =>
    config.cache.scope === 'global' ? 'global' : config.cache.scope === 'key' ? `key:${call.principal.keyId}` : `team:${call.principal.team}`

  const storeEntry = (key: string, response: CachedResponse, ttlMs: number) => {
    const done: Promise<void> = encodeEntry(response)
      .then((entry) => backend.set(key, entry, ttlMs))
      .catch((err: unknown) => log.warn({ err }, 'response cache: could not store a response'))
      .finally(() => {
        if (storing.get(key) === done) storing.delete(key)
      })
    storing.set(key, done)
  }

  return {
    backend: backend.kind,

    lookup(call) {
      const idemKey = CACHEABLE_OPERATIONS.has(call.operation) ? idempotencyKeyOf(call.headers) : undefined
      if (idemKey === undefined && !config.cache.enabled) return BYPASS
      return lookupSlow(call, idemKey)
    },

    store(call, response) {
      const p = pending.get(call)
      if (!p) return
      pending.delete(call)
      const ok = looksComplete(call, response)
      // What is kept is what a replay sends, and a replay costs nothing (replay-cost.ts).
      const kept = ok ? withZeroStreamCost(call, response) : undefined
      if (p.ticket) idempotency.complete(p.ticket, kept, p.idempotencyTtlMs)
      if (kept && p.cacheKey) storeEntry(p.cacheKey, kept, p.ttlMs)
    },

    abandon(call) {
      const p = pending.get(call)
      if (!p) return
      pending.delete(call)
      if (p.ticket) idempotency.complete(p.ticket, undefined, 0)
    },
  }

  async function lookupSlow(call: CallInfo, idemKey: string | undefined): Promise<LookupResult> {
    const policy = cachePolicy(call, config)
    if (!policy && idemKey === undefined) return { result: 'bypass' }
    const hash = requestHash(call)
    const cacheKey = policy ? `${prefix}cache:${hashOf(scopeOf(call), hash)}` : undefined
    let ticket: Ticket | undefined
    const idempotencyTtlMs = idemKey === undefined ? 0 : idempotencyTtl(call, config)
    if (idemKey !== undefined) {
      const begun = await idempotency.begin(call.principal.team, idemKey, hash, lockTtlMs)
      if (begun.kind === 'replay') return { result: 'hit', response: begun.response, headers: REPLAY_HEADERS }
      ticket = begun.ticket
    }
    if (policy?.lookup && cacheKey) {
      const landing = storing.get(cacheKey)
      if (landing) await landing
      const v = await backend.get(cacheKey)
      if (v?.kind === 'result') {
        try {
          const response = await decodeEntry(v.entry)
          if (ticket) idempotency.complete(ticket, response, idempotencyTtlMs)
          return { result: 'hit', response }
        } catch (err) {
          log.warn({ err }, 'response cache: unreadable entry; treating as a miss')
        }
      }
    }
    pending.set(call, { cacheKey, ttlMs: policy?.ttlMs ?? 0, ticket, idempotencyTtlMs })
    return MISS
  }
}
