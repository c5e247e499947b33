/**
 * Retention keeps deleted rows' spend for budgets, on the real SQLite and PostgreSQL: rows before
 * the cutoff move to ledger_rollup in the same transaction as their delete, per team, key, run and
 * 15 minutes; a bucket cut in two by successive passes adds up; spentSince reads ledger plus
 * roll-up for every scope and period start, so its answers are those before the delete; replicas
 * pruning at once on one Postgres never count a row twice.
 */
import { describe, expect, it } from 'vitest'
import { openSqlDb, type SqlDb } from '../../../src/stores/sql.ts'
import { LEDGER_COLUMNS, migrateLedger, ROLLUP_BUCKET_MS } from '../../../src/ledger/schema.ts'
import { pruneLedger } from '../../../src/ledger/retention.ts'
import { spentSince } from '../../../src/ledger/queries.ts'
import { PG_BASE, pgAvailable } from '../../helpers/services.ts'
import { runId } from '../../helpers/gateway.ts'

const HOUR = 3_600_000
// A Monday, 00:00 UTC, and a period start at local midnight in Kathmandu (UTC+5:45).
const T0 = Date.UTC(2026, 0, 5)
const NEPAL_MIDNIGHT = Date.UTC(2026, 0, 5, 18, 15)

interface Row { ts: number; team: string; key: string; run: string | null; cost: number | null }

const ROWS: Row[] = [
  { ts: T0 + 1000, team: 'a', key: 'cfg:a/k1', run: null, cost: 0.1 },
  { ts: T0 + 5 * 60_000, team: 'a', key: 'cfg:a/k1', run: 'r1', cost: 0.2 },
  { ts: T0 + 10 * 60_000, team: 'a', key: 'cfg:a/k1', run: 'r1', cost: 0.4 },
  { ts: T0 + 20 * 60_000, team: 'a', key: 'cfg:a/k2', run: 'r1', cost: 0.8 },
  { ts: T0 + 2 * HOUR, team: 'a', key: 'cfg:a/k2', run: null, cost: null },
  { ts: T0 + 3 * HOUR, team: 'b', key: 'rt-1', run: null, cost: 1.6 },
  { ts: NEPAL_MIDNIGHT - 1, team: 'a', key: 'cfg:a/k1', run: null, cost: 3.2 },
  { ts: NEPAL_MIDNIGHT, team: 'a', key: 'cfg:a/k1', run: null, cost: 6.4 },
  { ts: T0 + 30 * HOUR, team: 'a', key: 'cfg:a/k1', run: 'r1', cost: 12.8 },
]

async function insert(db: SqlDb, rows: readonly Row[]): Promise<void> {
  const cols = LEDGER_COLUMNS.join(',')
  const marks = LEDGER_COLUMNS.map((_, i) => `$${i + 1}`).join(',')
  for (const r of rows) {
    const values = LEDGER_COLUMNS.map((c) => {
      switch (c) {
        case 'ts': return r.ts
        case 'team': return r.team
        case 'key_id': return r.key
        case 'run_id': return r.run
        case 'cost_usd': return r.cost
        case 'day': case 'request_id': case 'operation': case 'requested_model': case 'cache': return 'x'
        case 'key_name': case 'tags': case 'provider': case 'served_model': case 'response_model': case 'attempts_detail':
        case 'saved_usd': case 'ttft_ms': case 'error_code': case 'client': return null
        default: return 0
      }
    })
    await db.query(`INSERT INTO ledger (${cols}) VALUES (${marks})`, values)
  }
}

const SCOPES = [{ team: 'a' }, { team: 'b' }, { keyId: 'cfg:a/k1' }, { keyId: 'cfg:a/k2' }, { team: 'a', runId: 'r1' }, { keyId: 'cfg:a/k1', runId: 'r1' }, { keyId: 'rt-1' }]
const STARTS = [0, T0, T0 + 15 * 60_000, NEPAL_MIDNIGHT, T0 + 24 * HOUR]

async function answers(db: SqlDb): Promise<number[]> {
  const out: number[] = []
  for (const where of SCOPES) for (const from of STARTS) out.push(Math.round((await spentSince(db, where, from)) * 1e9))
  return out
}

async function keepsSpend(url: string): Promise<void> {
  const db = await openSqlDb(url)
  try {
    await migrateLedger(db)
    await insert(db, ROWS)
    const before = await answers(db)
    // Two passes: the first cuts the 00:00-00:15 bucket in two (the 00:10 row stays), the second takes the rest.
    expect(await pruneLedger(db, T0 + 7 * 60_000)).toBe(2)
    expect(await answers(db)).toEqual(before)
    expect(await pruneLedger(db, T0 + 25 * HOUR)).toBe(6)
    expect(await pruneLedger(db, T0 + 25 * HOUR)).toBe(0)
    expect(await answers(db)).toEqual(before)
    expect((await db.query('SELECT COUNT(*) AS n FROM ledger'))[0]!.n).toBe(db.dialect === 'sqlite' ? 1 : '1')
    const rolled = await db.query<{ team: string; key_id: string; run_id: string; bucket: number | string; cost_usd: number }>('SELECT team, key_id, run_id, bucket, cost_usd FROM ledger_rollup ORDER BY bucket, team, key_id, run_id')
    expect(rolled.map((r) => [r.team, r.key_id, r.run_id, Number(r.bucket) - T0, Math.round(r.cost_usd * 10) / 10])).toEqual([
      ['a', 'cfg:a/k1', '', 0, 0.1],
      ['a', 'cfg:a/k1', 'r1', 0, 0.6],
      ['a', 'cfg:a/k2', 'r1', ROLLUP_BUCKET_MS, 0.8],
      ['b', 'rt-1', '', 3 * HOUR, 1.6],
      ['a', 'cfg:a/k1', '', NEPAL_MIDNIGHT - T0 - ROLLUP_BUCKET_MS, 3.2],
      ['a', 'cfg:a/k1', '', NEPAL_MIDNIGHT - T0, 6.4],
    ])
  } finally {
    await db.close()
  }
}

describe('ledger retention keeps spend for budgets', () => {
  it('on SQLite', () => keepsSpend('sqlite::memory:'))

  it.skipIf(!pgAvailable)('on PostgreSQL', async () => {
    const schema = `sbtest_${runId()}_ret`
    try {
      await keepsSpend(`${PG_BASE}?schema=${schema}`)
    } finally {
      const db = await openSqlDb(PG_BASE)
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await db.close()
    }
  })

  it.skipIf(!pgAvailable)('four replicas pruning at once on one PostgreSQL count each row once', async () => {
    const schema = `sbtest_${runId()}_ret4`
    const url = `${PG_BASE}?schema=${schema}`
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openSqlDb(url)))
    try {
      await migrateLedger(dbs[0]!)
      await insert(dbs[0]!, ROWS)
      const before = await answers(dbs[0]!)
      const deleted = await Promise.all(dbs.map((db) => pruneLedger(db, T0 + 25 * HOUR)))
      expect(deleted.reduce((a, b) => a + b, 0)).toBe(8)
      expect(await answers(dbs[0]!)).toEqual(before)
    } finally {
      await Promise.all(dbs.map((db) => db.close()))
      const db = await openSqlDb(PG_BASE)
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await db.close()
    }
  })
})
