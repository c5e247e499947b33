/**
 * Soft alerts: when a scope's spend crosses `alert_at` of its limit, a warning is logged and, if
 * `alert_webhook` is set, a JSON POST is sent, once per scope and period (across replicas in
 * Redis mode). Fire and forget with a 5 s timeout: an alert never delays or fails a request.
 */
import type { Logger } from 'pino'
import { describe, NANO, toNano, type Scope } from './scopes.ts'
import type { BudgetCounters, Totals } from './counters.ts'

export function checkAlert(scope: Scope, totals: Totals, counters: BudgetCounters, log: Logger): void {
  if (scope.alertAt === undefined) return
  const limit = toNano(scope.limitUsd)
  if (totals.spent < scope.alertAt * limit) return
  void counters.claimAlert(scope).then((first) => {
    if (!first) return
    const payload = {
      type: 'budget.alert',
      scope: scope.kind,
      id: scope.id,
      team: scope.team,
      period: scope.period,
      limit_usd: scope.limitUsd,
      spent_usd: totals.spent / NANO,
      alert_at: scope.alertAt,
      period_start: new Date(scope.window.start).toISOString(),
      resets_at: Number.isFinite(scope.window.end) ? new Date(scope.window.end).toISOString() : null,
    }
    log.warn(payload, `budget alert: ${describe(scope)} has spent ${Math.round((totals.spent / limit) * 100)}% of its ${scope.period} budget`)
    if (!scope.webhook) return
    fetch(scope.webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload), signal: AbortSignal.timeout(5000) })
      .then((res) => {
        void res.body?.cancel()
        if (!res.ok) log.warn({ status: res.status, scope: scope.kind, id: scope.id }, 'budget alert webhook answered with an error')
      })
      .catch((err: unknown) => log.warn({ err: (err as Error).message, scope: scope.kind, id: scope.id }, 'budget alert webhook failed'))
  }, (err: unknown) => log.warn({ err: (err as Error).message }, 'budget alert: could not claim the alert'))
}
