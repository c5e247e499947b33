/**
 * Budgets per key, team and agent run: the guard, and read access for the admin API and metrics.
 * Counters live in Redis when `redis.url` is set (shared by every replica) or in memory, and each
 * starts from the ledger's spend of its period on first use, so a restart does not reset spend.
 */
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import type { Config } from '../config/schema.ts'
import type { Guard, Pricing } from '../core/ports.ts'
import type { SqlDb } from '../stores/sql.ts'
import { spentSince } from '../ledger/queries.ts'
import type { SpendScope } from '../admin/spend.ts'
import { budgetGuard } from './guard.ts'
import { memoryCounters } from './memory-counters.ts'
import { redisCounters } from './redis-counters.ts'
import { windowAt } from './period.ts'
import { counterId, inWindowAt, keyRule, NANO, scopeOf, teamRule, type Scope, type ScopeKind } from './scopes.ts'
import type { Baseline, BudgetCounters, Totals } from './counters.ts'

export interface BudgetState {
  /** The metric's `scope` label: key, team or run. */
  scope: 'key' | 'team' | 'run'
  kind: ScopeKind
  id: string
  team: string
  period: string
  limit_usd: number
  spent_usd: number
  reserved_usd: number
  remaining_usd: number
  resets_at: string | null
}

export interface Budgets {
  guard: Guard
  /** USD spent in the scope's current budget period (this calendar month, UTC, when it has no budget). */
  spendThisPeriod(scope: SpendScope): Promise<number | null>
  /** The latest known state of every budget used by this replica in its current period (for switchboard_budget_remaining_usd). */
  budgetStates(): BudgetState[]
  readonly backend: 'memory' | 'redis'
  /** Writes leased spend to Redis and hands the leases back. */
  close(): Promise<void>
}

export interface BudgetDeps {
  config: Config
  pricing: Pricing
  db: SqlDb
  redis: Redis | undefined
  log: Logger
}

const MAX_STATES = 10_000
/** Local spend reaches Redis (and the other replicas' view) within this long. */
const LEASE_FLUSH_MS = 100

export function createBudgets(deps: BudgetDeps): Budgets {
  const { config, db, redis, log } = deps
  const memory = memoryCounters()
  const holdMs = config.routing.timeouts.total_ms + 60_000
  const leases = config.redis.leases
  const shared = redis
    ? redisCounters(redis, config.redis.key_prefix, holdMs, leases.enabled ? { divisor: leases.divisor, maxBlock: leases.max_block, ttlMs: leases.ttl_ms, flushMs: LEASE_FLUSH_MS } : undefined)
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
  const counters = (): BudgetCounters | Promise<BudgetCounters> => {
    if (!shared || !redis) return memory
    if (firstConnect) return firstConnect.then(pick)
    return pick()
  }
  const pick = (): BudgetCounters => {
    if (redis!.status === 'ready' || !failOpen) return shared!
    if (!degradedLogged) {
      degradedLogged = true
      log.warn('budgets: redis unavailable; counting in this replica only until it returns (redis.on_failure: fail-open)')
    }
    return memory
  }
  const baseline: Baseline = (s) => spentSince(db, s.where, s.window.start)

  const states = new Map<string, { scope: Scope; totals: Totals }>()
  const observe = (scope: Scope, totals: Totals) => {
    const id = counterId(scope)
    if (!states.has(id) && states.size >= MAX_STATES) {
      const now = Date.now()
      for (const [k, v] of states) if (v.scope.window.end <= now || v.scope.kind.endsWith('run')) states.delete(k)
      if (states.size >= MAX_STATES) states.clear()
    }
    states.set(id, { scope, totals })
    if (degradedLogged && redis?.status === 'ready') degradedLogged = false
  }

  const guard = budgetGuard({
    config, pricing: deps.pricing, counters, baseline, log, observe,
    onStoreError(err, call) {
      log.warn({ err: (err as Error).message, requestId: call.requestId }, `budgets: counter store failed; ${failOpen ? 'admitting' : 'refusing'} (redis.on_failure)`)
      return failOpen ? 'admit' : 'refuse'
    },
  })

  const monthToDate = (where: Scope['where']) => spentSince(db, where, windowAt('monthly', 'UTC', Date.now()).start)

  return {
    guard,
    backend: shared ? 'redis' : 'memory',
    close: async () => { await shared?.close() },
    async spendThisPeriod(s: SpendScope): Promise<number | null> {
      const now = Date.now()
      if (s.type === 'team') {
        const rule = teamRule(config, s.id)
        if (!rule) return round(await monthToDate({ team: s.id }))
        const t = await (await counters()).read(scopeOf('team', s.id, s.id, rule, rule.usd, now, { team: s.id }), baseline)
        return round(t.spent / NANO)
      }
      let scope: Scope | undefined
      const cfg = /^cfg:([^/]+)\/(.+)$/.exec(s.id)
      if (cfg) {
        const rule = keyRule(config, { keyId: s.id, team: cfg[1]!, keyName: cfg[2]! })
        if (rule) scope = scopeOf('key', s.id, cfg[1]!, rule, rule.usd, now, { keyId: s.id })
      } else {
        // A runtime key's budget is known from its calls; one not used by this replica yet reads month to date.
        for (const v of states.values()) if (v.scope.kind === 'key' && v.scope.id === s.id) scope = inWindowAt(v.scope, now)
      }
      if (!scope) return round(await monthToDate({ keyId: s.id }))
      return round((await (await counters()).read(scope, baseline)).spent / NANO)
    },
    budgetStates(): BudgetState[] {
      const now = Date.now()
      const out: BudgetState[] = []
      for (const { scope: s, totals: t } of states.values()) {
        if (s.window.end <= now) continue
        const limit = s.limitUsd
        const spent = t.spent / NANO
        out.push({
          scope: s.kind === 'key' ? 'key' : s.kind === 'team' ? 'team' : 'run',
          kind: s.kind, id: s.id, team: s.team, period: s.period,
          limit_usd: limit, spent_usd: round(spent), reserved_usd: round(t.reserved / NANO),
          remaining_usd: round(Math.max(0, limit - spent)),
          resets_at: Number.isFinite(s.window.end) ? new Date(s.window.end).toISOString() : null,
        })
      }
      return out
    },
  }
}

const round = (usd: number): number => Math.round(usd * 1e8) / 1e8
