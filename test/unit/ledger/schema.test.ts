/**
 * The ledger migration on the real SQLite and PostgreSQL: an older layout (a full index on run_id)
 * becomes the current one (a partial index that rows without a run skip), and replicas starting at
 * once on one Postgres do not race each other.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { openSqlDb } from '../../../src/stores/sql.ts'
import { LEDGER_COLUMNS, migrateLedger } from '../../../src/ledger/schema.ts'
import { PG_BASE, pgAvailable } from '../../helpers/services.ts'
import { runId } from '../../helpers/gateway.ts'

/** The layout before the partial index: today's table with the full run_id index. */
const OLD_INDEX = 'DROP INDEX ledger_run_set; CREATE INDEX ledger_run ON ledger (run_id, ts);'

describe('ledger migration on SQLite', () => {
  it('replaces the full run_id index with a partial one, and is idempotent', async () => {
    const db = await openSqlDb('sqlite::memory:')
    await migrateLedger(db)
    await db.exec(OLD_INDEX)
    await migrateLedger(db)
    await migrateLedger(db)
    const indexes = await db.query<{ name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger' ORDER BY name")
    expect(indexes.map((i) => i.name)).toEqual(['ledger_key_ts', 'ledger_run_set', 'ledger_team_ts', 'ledger_ts'])
    expect(indexes.find((i) => i.name === 'ledger_run_set')!.sql).toMatch(/WHERE run_id IS NOT NULL/)
    await db.close()
  })
})

/** A ledger made before the client column: its rows stay, new rows carry the column. */
async function upgradesWithoutClient(url: string): Promise<void> {
  const db = await openSqlDb(url)
  await migrateLedger(db)
  await db.exec('ALTER TABLE ledger DROP COLUMN client')
  const old = LEDGER_COLUMNS.filter((c) => c !== 'client')
  const row = (id: string) => old.map((c) => (c === 'request_id' ? id : c === 'day' || c === 'team' || c === 'key_id' || c === 'operation' || c === 'requested_model' || c === 'cache' ? 'x' : 0))
  await db.query(`INSERT INTO ledger (${old.join(',')}) VALUES (${old.map((_, i) => `$${i + 1}`).join(',')})`, row('before'))
  await migrateLedger(db)
  await migrateLedger(db)
  await db.query(`INSERT INTO ledger (${LEDGER_COLUMNS.join(',')}) VALUES (${LEDGER_COLUMNS.map((_, i) => `$${i + 1}`).join(',')})`, [...row('after'), 'claude-cli/2.0.14'])
  const rows = await db.query<{ request_id: string; client: string | null }>('SELECT request_id, client FROM ledger ORDER BY id')
  expect(rows).toEqual([{ request_id: 'before', client: null }, { request_id: 'after', client: 'claude-cli/2.0.14' }])
  await db.close()
}

describe('ledger upgrade: the client column', () => {
  it('on SQLite, an older ledger gains it; old rows keep theirs as NULL', () => upgradesWithoutClient('sqlite::memory:'))
  it.skipIf(!pgAvailable)('on PostgreSQL too', async () => {
    const schema = `sbtest_${runId()}_client`
    try {
      await upgradesWithoutClient(`${PG_BASE}?schema=${schema}`)
    } finally {
      const db = await openSqlDb(PG_BASE)
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await db.close()
    }
  })
})

describe.skipIf(!pgAvailable)('ledger migration on PostgreSQL', () => {
  const schema = `sbtest_${runId()}_mig`
  const url = `${PG_BASE}?schema=${schema}`
  afterAll(async () => {
    const db = await openSqlDb(PG_BASE)
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await db.close()
  })

  it('four replicas migrating at once all succeed and leave the current layout', async () => {
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openSqlDb(url)))
    await migrateLedger(dbs[0]!)
    await dbs[0]!.exec(OLD_INDEX)
    await Promise.all(dbs.map((db) => migrateLedger(db)))
    const indexes = await dbs[0]!.query<{ indexname: string; indexdef: string }>('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname', [schema, 'ledger'])
    expect(indexes.map((i) => i.indexname)).toEqual(['ledger_key_ts', 'ledger_pkey', 'ledger_run_set', 'ledger_team_ts', 'ledger_ts'])
    expect(indexes.find((i) => i.indexname === 'ledger_run_set')!.indexdef).toMatch(/WHERE \(run_id IS NOT NULL\)/)
    await Promise.all(dbs.map((db) => db.close()))
  })
})
