/**
 * The in-memory index every authentication is served from: key digest -> principal. Loaded from
 * the config and the store at start, then kept fresh by polling the store for rows changed since
 * the last change seen (every POLL_MS), and at once when a change message arrives (Redis mode).
 * When the store is unreachable the index keeps its last state: known keys keep working, and keys
 * the index has never seen are refused.
 */
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Principal } from '../core/call.ts'
import type { KeyRecord } from './key-record.ts'
import { principalOf } from './key-record.ts'
import type { KeyStore } from './key-store.ts'

export const POLL_MS = 500
/**
 * Rows are re-read this far behind the newest change seen: a transaction that took its
 * updated_at before a later one but committed after it is still picked up.
 */
const OVERLAP_MS = 5000

export interface KeyCacheEntry {
  readonly id: string
  /** Hex sha256 of the key. */
  readonly digest: string
  readonly principal: Principal
  readonly expiresAt: number | undefined
  readonly updatedAt: number | undefined
}

export interface KeyCacheStatus {
  store: 'ok' | 'unreachable'
  keys: number
  last_refresh_ms_ago: number | null
}

export interface KeyCache {
  lookup(hashHex: string): KeyCacheEntry | undefined
  /** Adds, replaces or drops a key according to its state. */
  apply(r: KeyRecord): void
  /** A revocation heard from another replica: drop it now, before the store confirms. */
  revoked(id: string): void
  /** Loads config keys and every active runtime key; throws when the store is unreachable. */
  load(configKeys: readonly KeyRecord[]): Promise<void>
  /** Reads changed rows (coalesced: concurrent callers share one pass). Never throws. */
  refresh(): Promise<void>
  start(): void
  stop(): void
  status(): KeyCacheStatus
}

export function createKeyCache(config: Config, store: KeyStore, log: Logger): KeyCache {
  const byHash = new Map<string, KeyCacheEntry>()
  const hashById = new Map<string, string>()
  // Revocation is final: a poll that read a row just before its revocation must not bring it back.
  const revokedIds = new Set<string>()
  const warnedOrphans = new Set<string>()
  const warnedCollisions = new Set<string>()
  let highWater = 0
  let storeOk = true
  let lastRefresh: number | undefined
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false

  const remove = (id: string) => {
    const hash = hashById.get(id)
    if (hash === undefined) return
    hashById.delete(id)
    byHash.delete(hash)
  }

  const apply = (r: KeyRecord) => {
    if (r.revokedAt !== undefined) revokedIds.add(r.id)
    if (r.revokedAt !== undefined || revokedIds.has(r.id) || !r.enabled || r.hash === undefined) return remove(r.id)
    if (!config.teams[r.team]) {
      // Without its team the key's model scope is unknown: refuse rather than allow everything.
      if (!warnedOrphans.has(r.id)) {
        warnedOrphans.add(r.id)
        log.warn({ key_id: r.id, team: r.team }, 'a virtual key belongs to a team that is not in the config; it is refused until the team is declared again')
      }
      return remove(r.id)
    }
    const existing = byHash.get(r.hash)
    if (existing && existing.id !== r.id) {
      // Two keys with one secret (a runtime key's value or sha256 copied into the config): the
      // first indexed keeps it; replacing it would make its callers another key, silently.
      if (!warnedCollisions.has(r.id)) {
        warnedCollisions.add(r.id)
        log.error({ key_id: r.id, same_secret_as: existing.id }, 'two virtual keys have the same secret; this one is refused until one of them changes')
      }
      return remove(r.id)
    }
    if (existing && existing.id === r.id && existing.updatedAt !== undefined && existing.updatedAt === r.updatedAt) return
    remove(r.id)
    hashById.set(r.id, r.hash)
    byHash.set(r.hash, { id: r.id, digest: r.hash, principal: principalOf(r, config), expiresAt: r.expiresAt, updatedAt: r.updatedAt })
  }

  const poll = async () => {
    try {
      const rows = await store.changedSince(highWater - OVERLAP_MS)
      for (const r of rows) {
        apply(r)
        if (r.updatedAt !== undefined && r.updatedAt > highWater) highWater = r.updatedAt
      }
      lastRefresh = Date.now()
      if (!storeOk) log.info('key store reachable again; key index refreshed')
      storeOk = true
    } catch (err) {
      if (storeOk) log.warn({ err: (err as Error).message }, 'key store unreachable; serving known keys from memory and refusing unknown ones')
      storeOk = false
    }
  }

  const refresh = (): Promise<void> => {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        await poll()
      } while (again)
    })().finally(() => {
      running = undefined
    })
    return running
  }

  return {
    lookup: (hashHex) => byHash.get(hashHex),
    apply,
    revoked(id) {
      revokedIds.add(id)
      remove(id)
      void refresh()
    },
    async load(configKeys) {
      for (const r of configKeys) apply(r)
      highWater = await store.now()
      for (const r of await store.loadActive()) apply(r)
      lastRefresh = Date.now()
    },
    refresh,
    start() {
      timer ??= setInterval(() => void refresh(), POLL_MS)
      timer.unref()
    },
    stop() {
      if (timer) clearInterval(timer)
      timer = undefined
    },
    status: () => ({ store: storeOk ? 'ok' : 'unreachable', keys: byHash.size, last_refresh_ms_ago: lastRefresh === undefined ? null : Date.now() - lastRefresh }),
  }
}
