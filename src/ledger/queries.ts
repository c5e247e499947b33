/**
 * Reading the ledger: spend grouped by team/key/model/provider/run/day, pages of records, and the
 * sums budgets start from. Filters are bound parameters; grouping columns come from a fixed table.
 */
import type { SqlDb, SqlValue } from '../stores/sql.ts'
import { ROLLUP_BUCKET_MS } from './schema.ts'

export const GROUPS = { team: 'team', key: 'key_id', model: 'requested_model', provider: 'provider', run: 'run_id', day: 'day' } as const
export type GroupBy = keyof typeof GROUPS

export interface SpendRow {
  team?: string | null
  key?: string | null
  model?: string | null
  provider?: string | null
  run?: string | null
  day?: string | null
  requests: number
  input_tokens: number
  output_tokens: number
  cached_tokens: number
  cost_usd: number
}

/** USD sums are rounded to 1e-8 (the header's precision) so float noise never shows. */
const usd = (v: unknown): number => Math.round(Number(v ?? 0) * 1e8) / 1e8

export async function spendBy(db: SqlDb, groupBy: readonly GroupBy[], fromMs: number, toMs: number): Promise<{ rows: SpendRow[]; total: number }> {
  const cols = groupBy.map((g) => `${GROUPS[g]} AS g_${g}`)
  const sql = `SELECT ${[...cols, 'COUNT(*) AS requests', 'SUM(input_tokens) AS input_tokens', 'SUM(output_tokens) AS output_tokens', 'SUM(cached_tokens) AS cached_tokens', 'SUM(cost_usd) AS cost_usd'].join(', ')}
    FROM ledger WHERE ts >= $1 AND ts < $2
    ${groupBy.length ? `GROUP BY ${groupBy.map((g) => GROUPS[g]).join(', ')} ORDER BY ${groupBy.map((g) => `${GROUPS[g]} NULLS FIRST`).join(', ')}` : ''}`
  const raw = await db.query(sql, [fromMs, toMs])
  let total = 0
  const rows = raw.map((r) => {
    const row: Record<string, unknown> = {}
    for (const g of groupBy) row[g] = r[`g_${g}`] ?? null
    row.requests = Number(r.requests)
    row.input_tokens = Number(r.input_tokens ?? 0)
    row.output_tokens = Number(r.output_tokens ?? 0)
    row.cached_tokens = Number(r.cached_tokens ?? 0)
    row.cost_usd = usd(r.cost_usd)
    total += Number(r.cost_usd ?? 0)
    return row as unknown as SpendRow
  })
  return { rows: groupBy.length === 0 && rows[0]?.requests === 0 ? [] : rows, total: usd(total) }
}

export interface RequestFilter {
  team?: string
  key?: string
  model?: string
  status?: number
  run?: string
  fromMs: number
  toMs: number
  /** Rows with an id below this (the cursor), newest first. */
  beforeId?: number
  limit: number
}

export interface LedgerRecord {
  id: number
  time: string
  request_id: string
  team: string
  key_id: string
  key_name: string | null
  run_id: string | null
  tags: string[]
  operation: string
  requested_model: string
  provider: string | null
  served_model: string | null
  response_model: string | null
  stream: boolean
  attempts: number
  attempts_detail: unknown[]
  input_tokens: number
  output_tokens: number
  cached_tokens: number
  cache_write_tokens: number
  reasoning_tokens: number
  cost_usd: number | null
  saved_usd: number | null
  estimated: boolean
  latency_ms: number
  ttft_ms: number | null
  status: number
  error_code: string | null
  cache: string
  client_aborted: boolean
  /** The calling program: x-client-app, else user-agent. */
  client: string | null
}

export async function requestsPage(db: SqlDb, f: RequestFilter): Promise<LedgerRecord[]> {
  const where: string[] = ['ts >= $1', 'ts < $2']
  const params: SqlValue[] = [f.fromMs, f.toMs]
  const add = (col: string, v: SqlValue | undefined) => {
    if (v === undefined) return
    params.push(v)
    where.push(`${col} = $${params.length}`)
  }
  add('team', f.team)
  add('key_id', f.key)
  add('requested_model', f.model)
  add('status', f.status)
  add('run_id', f.run)
  if (f.beforeId !== undefined) {
    params.push(f.beforeId)
    where.push(`id < $${params.length}`)
  }
  params.push(f.limit)
  const rows = await db.query(`SELECT * FROM ledger WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.length}`, params)
  return rows.map(toRecord)
}

const n = (v: unknown): number => Number(v)
const nn = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

function toRecord(r: Record<string, unknown>): LedgerRecord {
  return {
    id: n(r.id),
    time: new Date(n(r.ts)).toISOString(),
    request_id: String(r.request_id),
    team: String(r.team),
    key_id: String(r.key_id),
    key_name: s(r.key_name),
    run_id: s(r.run_id),
    tags: r.tags ? String(r.tags).split(',') : [],
    operation: String(r.operation),
    requested_model: String(r.requested_model),
    provider: s(r.provider),
    served_model: s(r.served_model),
    response_model: s(r.response_model),
    stream: n(r.stream) === 1,
    attempts: n(r.attempts),
    attempts_detail: r.attempts_detail ? (JSON.parse(String(r.attempts_detail)) as unknown[]) : [],
    input_tokens: n(r.input_tokens),
    output_tokens: n(r.output_tokens),
    cached_tokens: n(r.cached_tokens),
    cache_write_tokens: n(r.cache_write_tokens),
    reasoning_tokens: n(r.reasoning_tokens),
    cost_usd: nn(r.cost_usd),
    saved_usd: nn(r.saved_usd),
    estimated: n(r.estimated) === 1,
    latency_ms: n(r.latency_ms),
    ttft_ms: nn(r.ttft_ms),
    status: n(r.status),
    error_code: s(r.error_code),
    cache: String(r.cache),
    client_aborted: n(r.client_aborted) === 1,
    client: s(r.client),
  }
}

/**
 * The spend a budget scope starts from: the ledger's cost since the period began, plus the spend
 * retention rolled up from rows it deleted (ledger/retention.ts). One statement, so one snapshot:
 * a row is counted in the ledger or in the roll-up, never both nor neither.
 */
export async function spentSince(db: SqlDb, where: { team?: string; keyId?: string; runId?: string }, fromMs: number): Promise<number> {
  const conds = ['ts >= $1']
  // A bucket that overlaps the period counts whole: exact for every period start (a bucket start),
  // and a call too many rather than too few otherwise.
  const rolled = [`bucket > $1 - ${ROLLUP_BUCKET_MS}`]
  const params: SqlValue[] = [fromMs]
  const add = (col: string, v: string | undefined) => {
    if (v === undefined) return
    params.push(v)
    conds.push(`${col} = $${params.length}`)
    rolled.push(`${col} = $${params.length}`)
  }
  add('team', where.team)
  add('key_id', where.keyId)
  add('run_id', where.runId)
  const rows = await db.query(`SELECT (SELECT COALESCE(SUM(cost_usd), 0) FROM ledger WHERE ${conds.join(' AND ')})
    + (SELECT COALESCE(SUM(cost_usd), 0) FROM ledger_rollup WHERE ${rolled.join(' AND ')}) AS usd`, params)
  return Number(rows[0]?.usd ?? 0)
}
