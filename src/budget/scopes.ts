/**
 * Which budgets apply to a call: the key's, the team's, and the agent run's caps under each
 * (`per_run_usd` on the key or the team budget). A run's cap covers the whole run (no period).
 */
import type { Config } from '../config/schema.ts'
import type { CallInfo, KeyBudget, Principal } from '../core/call.ts'
import { windowAt, type Period, type Window } from './period.ts'

export type BudgetRule = KeyBudget & { timezone?: string; alert_webhook?: string }
export type ScopeKind = 'key' | 'team' | 'key_run' | 'team_run'

export interface Scope {
  kind: ScopeKind
  /** keyId, team, or `<keyId or team>|<runId>` for run scopes. */
  id: string
  team: string
  limitUsd: number
  period: Period
  timezone: string
  window: Window
  alertAt: number | undefined
  webhook: string | undefined
  /** Ledger filter that sums this scope's spend. */
  where: { team?: string; keyId?: string; runId?: string }
  /** The counter's identity (counterId), built once: every reserve and settle looks it up. */
  counter: string
}

/** USD amounts are counted in integer nano-dollars so sums never drift. */
export const NANO = 1e9
export const toNano = (usd: number): number => Math.round(usd * NANO)

export function keyRule(config: Config, p: Principal): BudgetRule | undefined {
  if (p.budget) return p.budget
  if (!p.keyId.startsWith('cfg:')) return undefined
  return config.teams[p.team]?.keys[p.keyName]?.budget
}

export function teamRule(config: Config, team: string): BudgetRule | undefined {
  return config.teams[team]?.budget
}

export function scopeOf(kind: ScopeKind, id: string, team: string, rule: BudgetRule, limitUsd: number, now: number, where: Scope['where']): Scope {
  const run = kind === 'key_run' || kind === 'team_run'
  const period: Period = run ? 'total' : rule.period
  const timezone = rule.timezone ?? 'UTC'
  const window = windowAt(period, timezone, now)
  return {
    kind, id, team, limitUsd, period, timezone, window,
    alertAt: run ? undefined : rule.alert_at,
    webhook: rule.alert_webhook,
    where,
    counter: counterKey(kind, id, window),
  }
}

/** The same scope in the period that contains `now`. */
export function inWindowAt(s: Scope, now: number): Scope {
  const window = windowAt(s.period, s.timezone, now)
  return window === s.window ? s : { ...s, window, counter: counterKey(s.kind, s.id, window) }
}

export function scopesFor(config: Config, call: CallInfo, now: number): Scope[] {
  const p = call.principal
  const kr = keyRule(config, p)
  const tr = teamRule(config, p.team)
  if (!kr && !tr) return []
  const out: Scope[] = []
  if (kr) {
    out.push(scopeOf('key', p.keyId, p.team, kr, kr.usd, now, { keyId: p.keyId }))
    if (call.runId && kr.per_run_usd !== undefined) out.push(scopeOf('key_run', `${p.keyId}|${call.runId}`, p.team, kr, kr.per_run_usd, now, { keyId: p.keyId, runId: call.runId }))
  }
  if (tr) {
    out.push(scopeOf('team', p.team, p.team, tr, tr.usd, now, { team: p.team }))
    if (call.runId && tr.per_run_usd !== undefined) out.push(scopeOf('team_run', `${p.team}|${call.runId}`, p.team, tr, tr.per_run_usd, now, { team: p.team, runId: call.runId }))
  }
  return out
}

const counterKey = (kind: ScopeKind, id: string, w: Window): string => `${kind}:${id}:${w.start}`

/** The counter's identity: one per scope and period. */
export const counterId = (s: Scope): string => s.counter

export function describe(s: Scope): string {
  switch (s.kind) {
    case 'key': return `key '${s.id}'`
    case 'team': return `team '${s.id}'`
    case 'key_run': return `agent run '${s.id.slice(s.id.lastIndexOf('|') + 1)}' of key '${s.id.slice(0, s.id.lastIndexOf('|'))}'`
    case 'team_run': return `agent run '${s.id.slice(s.id.lastIndexOf('|') + 1)}' of team '${s.id.slice(0, s.id.lastIndexOf('|'))}'`
  }
}
