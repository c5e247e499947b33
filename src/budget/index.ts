/**
 * Budgets per key, team and agent run: the guard, and read access for the admin API and metrics.
 * Counters live in Redis when `redis.url` is set (shared by every replica) or in memory, and each
 * starts from the ledger's spend of its period on first use, so a restart does not reset spend.
 * The counters are the process's (store.ts), built once; the rules are each config runtime's.
 */
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Guard, Pricing } from '../core/ports.ts'
import type { SqlDb } from '../stores/sql.ts'
import { spentSince } from '../ledger/queries.ts'
import type { SpendScope } from '../admin/spend.ts'
import { budgetGuard } from './guard.ts'
import { windowAt } from './period.ts'
import { inWindowAt, keyRule, NANO, scopeOf, teamRule, type Scope, type ScopeKind } from './scopes.ts'
import type { BudgetStore } from './store.ts'

export { createBudgetStore, type BudgetStore } from './store.ts'

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
}

export interface BudgetDeps {
  config: Config
  pricing: Pricing
  /** The counters, shared by every config runtime (store.ts). */
  store: BudgetStore
  db: SqlDb
  log: Logger
}

/** The budgets of one config runtime: its rules, over the process's counters. */
export function createBudgets(deps: BudgetDeps): Budgets {
  const { config, db, log, store } = deps
  const { counters, baseline } = store

  const guard = budgetGuard({
    config, pricing: deps.pricing, counters, baseline, log, observe: store.observe, fallback: store.fallback,
    onStoreError(err, call) {
      log.warn({ err: (err as Error).message, requestId: call.requestId }, `budgets: counter store failed; ${store.failOpen ? 'admitting' : 'refusing'} (redis.on_failure)`)
      return store.failOpen ? 'admit' : 'refuse'
    },
  })

  const monthToDate = (where: Scope['where']) => spentSince(db, where, windowAt('monthly', 'UTC', Date.now()).start)

  return {
    guard,
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
        for (const v of store.states()) if (v.scope.kind === 'key' && v.scope.id === s.id) scope = inWindowAt(v.scope, now)
      }
      if (!scope) return round(await monthToDate({ keyId: s.id }))
      return round((await (await counters()).read(scope, baseline)).spent / NANO)
    },
    budgetStates(): BudgetState[] {
      const now = Date.now()
      const out: BudgetState[] = []
      for (const { scope: s, totals: t } of store.states()) {
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
