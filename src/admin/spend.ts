/**
 * The admin API's window onto spend: implemented by the ledger/budget side and handed to the key
 * and team routes. Absent (or failing) = spend is shown as null.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { GatewayError } from '../core/errors.ts'
import type { SqlDb } from '../stores/sql.ts'
import { GROUPS, spendBy, type GroupBy, type SpendRow } from '../ledger/queries.ts'

export interface SpendScope {
  type: 'team' | 'key'
  /** Team name, or key id (`cfg:<team>/<name>` or `key_...`). */
  id: string
}

/** USD spent in the scope's current budget period (monthly when it has no budget); null when unknown. */
export type SpendThisPeriod = (scope: SpendScope) => Promise<number | null> | number | null

export async function spendOrNull(fn: SpendThisPeriod | undefined, scope: SpendScope): Promise<number | null> {
  if (!fn) return null
  try {
    return await fn(scope)
  } catch {
    return null
  }
}

// ---- GET /admin/v1/spend: the ledger's spend grouped by team, key, model, provider, run or day. ----

const ISO_DATE = z.iso.date()
const ISO_DATE_TIME = z.iso.datetime({ offset: true })

/**
 * An ISO-8601 date (a UTC day) or date-time with its zone (`Z` or `+01:00`); with `wholeDay`, a
 * date-only value means the end of that day (a `to` that includes it). Anything else is a 400
 * naming the param: Date.parse also took `1` (as 2001) and 'November 20, 2026', and read a
 * date-time without a zone in the server's own time zone, so replicas in different zones answered
 * one query differently. Shared by the spend, requests and audit endpoints.
 */
export function parseTime(v: string | undefined, name: string, wholeDay: boolean): number | undefined {
  if (v === undefined || v === '') return undefined
  const dateOnly = ISO_DATE.safeParse(v).success
  if (!dateOnly && !ISO_DATE_TIME.safeParse(v).success) {
    throw new GatewayError({ status: 400, code: 'invalid_request', param: name, message: `'${name}' must be an ISO-8601 date (2026-11-01, a UTC day) or date-time with a time zone (2026-11-01T12:00:00Z, 2026-11-01T13:00:00+01:00), got '${v.slice(0, 64)}'.` })
  }
  const ms = Date.parse(dateOnly ? `${v}T00:00:00Z` : v)
  return dateOnly && wholeDay ? ms + 86_400_000 : ms
}

/** from/to of a query, defaulting to this calendar month (UTC) up to now. */
export function timeRange(q: (k: string) => string | undefined): { fromMs: number; toMs: number } {
  const now = new Date()
  const fromMs = parseTime(q('from'), 'from', false) ?? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)
  const toMs = parseTime(q('to'), 'to', true) ?? now.getTime() + 1
  if (toMs <= fromMs) throw new GatewayError({ status: 400, code: 'invalid_request', param: 'to', message: "'to' must be after 'from'." })
  return { fromMs, toMs }
}

/**
 * One CSV cell. A text cell that a spreadsheet would read as a formula (= + - @, or a leading tab
 * or CR) gets a leading ' (OWASP's CSV injection advice): a model name is whatever a client sent,
 * and `=HYPERLINK(...)` in the admin's export would run when opened. Numbers are left as numbers.
 */
const csvCell = (v: unknown): string => {
  let s = v === null || v === undefined ? '' : String(v)
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function spendCsv(groupBy: readonly GroupBy[], rows: readonly SpendRow[]): string {
  const cols = [...groupBy, 'requests', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_usd'] as const
  const lines = [cols.join(',')]
  for (const r of rows) lines.push(cols.map((c) => csvCell((r as unknown as Record<string, unknown>)[c])).join(','))
  return `${lines.join('\n')}\n`
}

export function spendAdminRoutes(db: SqlDb): (app: Hono) => void {
  return (app) => {
    app.get('/admin/v1/spend', async (c) => {
      const raw = c.req.query('group_by') ?? ''
      const groupBy = raw.split(',').map((g) => g.trim()).filter(Boolean)
      for (const g of groupBy) {
        // Own keys only: `in` also finds constructor, toString... on the prototype (a 500 further on).
        if (!Object.hasOwn(GROUPS, g)) throw new GatewayError({ status: 400, code: 'invalid_request', param: 'group_by', message: `'group_by' takes a comma-separated list of ${Object.keys(GROUPS).join(', ')}; got '${g}'.` })
      }
      const unique = [...new Set(groupBy)] as GroupBy[]
      const format = c.req.query('format') ?? 'json'
      if (format !== 'json' && format !== 'csv') throw new GatewayError({ status: 400, code: 'invalid_request', param: 'format', message: `'format' is json or csv, got '${format}'.` })
      const { fromMs, toMs } = timeRange((k) => c.req.query(k))
      const { rows, total } = await spendBy(db, unique, fromMs, toMs)
      if (format === 'csv') {
        return c.body(spendCsv(unique, rows), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="spend.csv"' })
      }
      return c.json({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), group_by: unique, rows, total_cost_usd: total })
    })
  }
}
