/**
 * The budget guard: before the call, reserve its worst-case cost against every budget that
 * applies (key, team, agent run), atomically, or refuse with 429 `budget_exceeded`; when the call
 * ends, settle the reservation to the real cost (estimated when the vendor reported no usage).
 */
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { CallInfo, CallOutcome } from '../core/call.ts'
import { GatewayError } from '../core/errors.ts'
import type { Guard, Pricing, Reservation } from '../core/ports.ts'
import { settleCost, type Settled } from '../accounting/settle-cost.ts'
import { describe, NANO, scopesFor, toNano, type Scope } from './scopes.ts'
import type { Baseline, BudgetCounters, ReserveResult, Totals } from './counters.ts'
import { checkAlert } from './alerts.ts'

export interface GuardDeps {
  config: Config
  pricing: Pricing
  /** Which counters count now; a promise only while the shared store's first connection is pending. */
  counters: () => BudgetCounters | Promise<BudgetCounters>
  baseline: Baseline
  log: Logger
  /** Remembers the latest totals of each scope, for metrics and the admin API. */
  observe(scope: Scope, totals: Totals): void
  /** What to do when the counters' store fails (Redis down). */
  onStoreError(err: unknown, call: CallInfo): 'admit' | 'refuse'
  /** Where a call admitted despite a store failure counts (fail-open: this replica's memory); none: uncounted. */
  fallback?: () => BudgetCounters | undefined
}

let seq = 0
const tokenPrefix = `${process.pid.toString(36)}${Date.now().toString(36)}`

/**
 * Dollars to the cent, with up to four decimals when the cents would hide the difference: small
 * budgets (agent runs, tests) read "$0.045 spent of $0.05", not "$0.04 of $0.05".
 */
export const usd = (nano: number): string => {
  const v = nano / NANO
  const cents = v.toFixed(2)
  if (Math.abs(v) >= 10 || Math.abs(Number(cents) - v) < 5e-7) return `$${cents}`
  const fine = v.toFixed(4).replace(/0+$/, '')
  return fine.endsWith('.') || fine.length <= cents.length ? `$${cents}` : `$${fine}`
}

export function budgetGuard(deps: GuardDeps): Guard {
  return {
    name: 'budget',
    reserve(call: CallInfo): Reservation | undefined | Promise<Reservation | undefined> {
      const scopes = scopesFor(deps.config, call, call.startedAt)
      if (scopes.length === 0) return undefined
      const worst = deps.pricing.worstCase(call.publicModel, call)
      const amount = worst === null ? 0 : toNano(worst)
      const token = `${tokenPrefix}.${(seq++).toString(36)}`
      // A promise only when the counters answer with one (Redis): memory counters decide at once,
      // and each needless await is another trip through the microtask queue on every call.
      // The failure handler is made only on the paths that can need it: the memory counters'
      // synchronous success (every call without Redis) allocates no closure for it.
      let c: BudgetCounters | Promise<BudgetCounters>
      try {
        c = deps.counters()
      } catch (err) {
        return storeFailed(err, call, scopes, amount, token)
      }
      if (c instanceof Promise) {
        return c
          .then(async (counters) => ({ counters, result: await counters.reserve(scopes, amount, token, deps.baseline) }))
          .then(({ counters, result }) => reserved(call, scopes, amount, token, result, counters), (err: unknown) => storeFailed(err, call, scopes, amount, token))
      }
      let r: ReserveResult | Promise<ReserveResult>
      try {
        r = c.reserve(scopes, amount, token, deps.baseline)
      } catch (err) {
        return storeFailed(err, call, scopes, amount, token)
      }
      const counters = c
      if (r instanceof Promise) return r.then((result) => reserved(call, scopes, amount, token, result, counters), (err: unknown) => storeFailed(err, call, scopes, amount, token))
      return reserved(call, scopes, amount, token, r, counters)
    },
  }

  /**
   * The counter store failed: refuse with 503, or admit as the policy says. Admitted, the call
   * counts in the fallback counters like the calls after it (whose store is then known to be down),
   * so its spend is not lost (the fallback's spend is added to the shared counters once they are back).
   */
  function storeFailed(err: unknown, call: CallInfo, scopes: Scope[], amount: number, token: string): Reservation | undefined | Promise<Reservation | undefined> {
    if (deps.onStoreError(err, call) !== 'admit') {
      throw new GatewayError({ status: 503, code: 'no_healthy_upstream', message: 'Budgets cannot be checked right now (the shared counter store is unavailable); try again shortly.' })
    }
    const fallback = deps.fallback?.()
    if (!fallback) return undefined
    let r: ReserveResult | Promise<ReserveResult>
    try {
      r = fallback.reserve(scopes, amount, token, deps.baseline)
    } catch {
      return undefined
    }
    // A fallback that cannot load its baseline (the ledger is down too) admits uncounted, as before.
    if (r instanceof Promise) return r.then((result) => reserved(call, scopes, amount, token, result, fallback), () => undefined)
    return reserved(call, scopes, amount, token, r, fallback)
  }

  /** The reservation of an admitted call, or the 429 of a refused one (thrown). */
  function reserved(call: CallInfo, scopes: Scope[], amount: number, token: string, result: ReserveResult, counters: BudgetCounters): Reservation {
    if (!result.ok) throw refusal(scopes[result.index]!, result.totals, amount)
    for (let i = 0; i < scopes.length; i++) deps.observe(scopes[i]!, result.totals[i]!)
    let settled = false
    return {
      settle(outcome: CallOutcome): void {
        if (settled) return
        settled = true
        const apply = (s: Settled) => {
          if (s.costUsd === null && outcome.provider) deps.log.debug({ requestId: call.requestId, model: call.publicModel }, 'budget: the call has no known price; settled at 0')
          const cost = s.costUsd === null ? 0 : toNano(s.costUsd)
          const settledTotals = (totals: Totals[]) => {
            for (let i = 0; i < scopes.length; i++) {
              deps.observe(scopes[i]!, totals[i]!)
              checkAlert(scopes[i]!, totals[i]!, counters, deps.log)
            }
          }
          const failed = (err: unknown) => deps.log.warn({ err: (err as Error).message, requestId: call.requestId }, 'budget: settling failed; the reservation expires by itself')
          try {
            const totals = counters.settle(scopes, amount, token, cost)
            if (totals instanceof Promise) totals.then(settledTotals, failed)
            else settledTotals(totals)
          } catch (err) {
            failed(err)
          }
        }
        const s = settleCost(call, outcome, deps.pricing)
        if (s instanceof Promise) s.then(apply, (err: unknown) => { deps.log.error({ err, requestId: call.requestId }, 'budget: could not estimate the cost'); apply({ usage: undefined, costUsd: null }) })
        else apply(s)
      },
    }
  }
}

function refusal(s: Scope, t: Totals, amount: number): GatewayError {
  const limit = toNano(s.limitUsd)
  const what = s.kind === 'key_run' || s.kind === 'team_run' ? 'per-run budget' : `${s.period} budget`
  const resets = Number.isFinite(s.window.end) ? `It resets at ${new Date(s.window.end).toISOString()}.` : s.period === 'total' && (s.kind === 'key' || s.kind === 'team') ? 'It does not reset (period: total).' : 'A run budget does not reset; start a new run.'
  const spentNow = t.spent + t.reserved
  const message = spentNow >= limit
    ? `Budget exceeded: ${describe(s)} has spent ${usd(t.spent)} of its ${usd(limit)} ${what}. ${resets}`
    : `Budget exceeded: ${describe(s)} has ${usd(limit - spentNow)} left of its ${usd(limit)} ${what} (${usd(t.spent)} spent${t.reserved > 0 ? `, ${usd(t.reserved)} held by calls in flight` : ''}), less than this call may cost (up to ${usd(amount)}; a lower max_tokens asks for less). ${resets}`
  const headers: Record<string, string> = {}
  // Spent out: come back when the period resets, and tell the SDKs not to wait for that (they
  // would sleep through a retry-after of days, or retry a budget that never resets). Held by calls
  // in flight: retry soon (the default).
  if (t.spent + amount > limit && t.spent >= limit - amount) {
    if (Number.isFinite(s.window.end)) headers['retry-after'] = String(Math.max(1, Math.ceil((s.window.end - Date.now()) / 1000)))
    headers['x-should-retry'] = 'false'
  }
  return new GatewayError({ status: 429, code: 'budget_exceeded', type: 'insufficient_quota', message, headers })
}
