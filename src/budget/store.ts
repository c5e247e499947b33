/**
 * The budget counters of the process: in memory, or in Redis with memory as the fail-open
 * fallback, plus the latest totals seen per scope (metrics, admin API).
 *
 * Built once at start, not with each config runtime: a counter is keyed by scope and period, and
 * its limit comes from the config on each call, so one store serves every runtime. Counters made
 * afresh on a reload started again from the ledger, which lacks the rows still queued for writing
 * and the calls still in flight (they settle on the runtime they started on): that spend was
 * forgotten and budgets were overspent (docs/config.md "Reloading").
 */
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import type { Config } from '../config/schema.ts'
import type { SqlDb } from '../stores/sql.ts'
import { spentSince } from '../ledger/queries.ts'
import { memoryCounters } from './memory-counters.ts'
import { redisCounters } from './redis-counters.ts'
import { counterId, type Scope } from './scopes.ts'
import type { Baseline, BudgetCounters, Totals } from './counters.ts'

export interface BudgetStore {
  /** Which counters count now; a promise only while the shared store's first connection is pending. */
  counters(): BudgetCounters | Promise<BudgetCounters>
  readonly backend: 'memory' | 'redis'
  /** redis.on_failure is fail-open: admit (counting locally) when the shared store fails. */
  readonly failOpen: boolean
  /** A scope's spend in its period, from the ledger: where a new counter starts. */
  baseline: Baseline
  /** Remembers the latest totals of a scope. */
  observe(scope: Scope, totals: Totals): void
  /** The latest totals of every scope this replica used (bounded; past periods may be dropped). */
  states(): IterableIterator<{ scope: Scope; totals: Totals }>
  /** Writes leased spend to Redis and hands the leases back. */
  close(): Promise<void>
}

export interface BudgetStoreDeps {
  /** The config at start: the redis settings are read once (changing them needs a restart). */
  config: Config
  /** routing.timeouts.total_ms of the running config: a reservation is held that long plus a minute. */
  totalMs: () => number
  db: SqlDb
  redis: Redis | undefined
  log: Logger
}

const MAX_STATES = 10_000
/** Local spend reaches Redis (and the other replicas' view) within this long. */
const LEASE_FLUSH_MS = 100
/** A reservation outlives the longest call by this much before a crashed replica's is released. */
const HOLD_MARGIN_MS = 60_000

export function createBudgetStore(deps: BudgetStoreDeps): BudgetStore {
  const { config, db, redis, log } = deps
  const memory = memoryCounters()
  const leases = config.redis.leases
  const shared = redis
    ? redisCounters(redis, config.redis.key_prefix, () => deps.totalMs() + HOLD_MARGIN_MS, leases.enabled ? { divisor: leases.divisor, maxBlock: leases.max_block, ttlMs: leases.ttl_ms, flushMs: LEASE_FLUSH_MS } : undefined)
    : undefined
  const failOpen = config.redis.on_failure === 'fail-open'
  let degradedLogged = false
  // Until the first connection is up (start-up), calls wait for it briefly instead of counting
  // locally: a replica that just started must not admit past a budget the others have spent.
  let firstConnect: Promise<void> | undefined = redis && redis.status !== 'ready'
    ? new Promise<void>((resolve) => {
      const done = () => { clearTimeout(t); redis.off('ready', done); firstConnect = undefined; resolve() }
      const t = setTimeout(done, 2000)
      t.unref()
      redis.once('ready', done)
    })
    : undefined
  const pick = (): BudgetCounters => {
    if (redis!.status === 'ready' || !failOpen) return shared!
    if (!degradedLogged) {
      degradedLogged = true
      log.warn('budgets: redis unavailable; counting in this replica only until it returns (redis.on_failure: fail-open)')
    }
    return memory
  }

  const states = new Map<string, { scope: Scope; totals: Totals }>()

  return {
    backend: shared ? 'redis' : 'memory',
    failOpen,
    counters() {
      if (!shared || !redis) return memory
      if (firstConnect) return firstConnect.then(pick)
      return pick()
    },
    baseline: (s) => spentSince(db, s.where, s.window.start),
    observe(scope, totals) {
      const id = counterId(scope)
      if (!states.has(id) && states.size >= MAX_STATES) {
        const now = Date.now()
        for (const [k, v] of states) if (v.scope.window.end <= now || v.scope.kind.endsWith('run')) states.delete(k)
        if (states.size >= MAX_STATES) states.clear()
      }
      states.set(id, { scope, totals })
      if (degradedLogged && redis?.status === 'ready') degradedLogged = false
    },
    states: () => states.values(),
    close: async () => { await shared?.close() },
  }
}
