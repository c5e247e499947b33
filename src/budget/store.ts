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
import { redisCounters, type RedisBudgetCounters } from './redis-counters.ts'
import { counterId, NANO, type Scope } from './scopes.ts'
import type { Baseline, BudgetCounters, Totals } from './counters.ts'

export interface BudgetStore {
  /** Which counters count now; a promise only while the shared store's first connection is pending. */
  counters(): BudgetCounters | Promise<BudgetCounters>
  /** Where a call counts when the shared store fails under fail-open (this replica's memory); else none. */
  fallback(): BudgetCounters | undefined
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
  const owed = redis && shared && failOpen ? owedSpend(redis, shared, log) : undefined
  const sharedCounters: BudgetCounters | undefined = owed?.shared ?? shared
  const pick = (): BudgetCounters => {
    if (redis!.status === 'ready' || !failOpen) return sharedCounters!
    if (!degradedLogged) {
      degradedLogged = true
      log.warn('budgets: redis unavailable; counting in this replica only until it returns (redis.on_failure: fail-open)')
    }
    return owed!.counters()
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
    fallback: () => owed?.counters(),
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
    close: async () => {
      owed?.close()
      await shared?.close()
    },
  }
}

/**
 * Fail-open counting while Redis is unreachable, and what it owes Redis. Calls then count in this
 * replica's memory; their spend, and that of calls whose settlement in Redis failed, is added to
 * the Redis counters once Redis is back (and whenever such a call settles after that). Otherwise
 * it was missing from enforcement for the rest of the period while the ledger had it. The memory
 * counters are replaced at each reconnection: kept, the next outage would start from this one's
 * totals, which lack everything spent through Redis in between; fresh ones start from the ledger.
 *
 * A settlement whose reply was lost may have been applied: its spend is then counted twice, which
 * errs towards refusing (as lease flushes do).
 */
function owedSpend(redis: Redis, shared: RedisBudgetCounters, log: Logger): { counters(): BudgetCounters; shared: BudgetCounters; close(): void } {
  const owed = new Map<string, { scope: Scope; amount: number }>()
  const owe = (scopes: readonly Scope[], cost: number) => {
    if (cost <= 0) return
    for (const s of scopes) {
      const o = owed.get(counterId(s))
      if (o) o.amount += cost
      else owed.set(counterId(s), { scope: s, amount: cost })
    }
    if (redis.status === 'ready') schedule(0)
  }
  const failOpen = (): BudgetCounters => {
    const m = memoryCounters()
    return {
      ...m,
      settle(scopes, amount, token, cost) {
        const totals = m.settle(scopes, amount, token, cost)
        owe(scopes, cost)
        return totals
      },
    }
  }
  let local = failOpen()

  let replaying = false
  let timer: NodeJS.Timeout | undefined
  const schedule = (ms: number) => {
    if (timer) return
    timer = setTimeout(() => {
      timer = undefined
      void replay()
    }, ms)
    timer.unref()
  }
  const replay = async (): Promise<void> => {
    if (replaying || owed.size === 0 || redis.status !== 'ready') return
    replaying = true
    const batch = [...owed.values()]
    owed.clear()
    const results = await Promise.allSettled(batch.map((o) => shared.addSpent(o.scope, o.amount)))
    replaying = false
    let added = 0
    let failed = 0
    results.forEach((r, i) => {
      const o = batch[i]!
      if (r.status === 'fulfilled') {
        added += o.amount
        return
      }
      // Not written: owed still, and tried again (a second later while Redis answers, else at its return).
      failed++
      owe([o.scope], o.amount)
    })
    if (failed > 0) log.warn({ scopes: failed }, 'budgets: could not add spend counted during the redis outage yet; retrying')
    else log.info({ scopes: batch.length, usd: added / NANO }, 'budgets: spend counted in this replica while redis was unreachable added to the shared counters')
    if (owed.size > 0 && redis.status === 'ready') schedule(failed > 0 ? 1000 : 0)
  }

  const onReady = () => {
    local = failOpen()
    void replay()
  }
  redis.on('ready', onReady)

  return {
    counters: () => local,
    // A settlement in Redis that failed (Redis went away mid-call): its cost is owed too (its hold expires).
    shared: {
      ...shared,
      settle(scopes, amount, token, cost) {
        const totals = shared.settle(scopes, amount, token, cost)
        if (totals instanceof Promise) totals.catch(() => owe(scopes, cost))
        return totals
      },
    },
    close: () => {
      redis.off('ready', onReady)
      if (timer) clearTimeout(timer)
    },
  }
}
