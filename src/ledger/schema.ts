/**
 * The ledger table: one row per request, the same columns on SQLite and PostgreSQL. Times are
 * epoch milliseconds (`ts`, when the request started) plus its UTC `day`, so grouping by day is
 * portable SQL. Booleans are 0/1 integers for the same reason.
 */
import { migrate, type SqlDb } from '../stores/sql.ts'

/** Insert order of the columns; a row is an array in this order. */
export const LEDGER_COLUMNS = [
  'ts', 'day', 'request_id', 'team', 'key_id', 'key_name', 'run_id', 'tags', 'operation',
  'requested_model', 'provider', 'served_model', 'response_model', 'stream', 'attempts', 'attempts_detail',
  'input_tokens', 'output_tokens', 'cached_tokens', 'cache_write_tokens', 'reasoning_tokens',
  'cost_usd', 'saved_usd', 'estimated', 'latency_ms', 'ttft_ms', 'status', 'error_code', 'cache', 'client_aborted',
  'client',
] as const

/** A multi-row INSERT of every ledger column for `rows` rows, with `$n` placeholders in row order. */
export function ledgerInsert(rows: number): string {
  const n = LEDGER_COLUMNS.length
  const values: string[] = []
  for (let r = 0; r < rows; r++) {
    const ps: string[] = []
    for (let c = 1; c <= n; c++) ps.push(`$${r * n + c}`)
    values.push(`(${ps.join(',')})`)
  }
  return `INSERT INTO ledger (${LEDGER_COLUMNS.join(',')}) VALUES ${values.join(',')}`
}

/**
 * Creates the table and its indexes, and brings an older layout up to date. Replicas starting
 * together on one Postgres take turns (an advisory lock), so index changes never race.
 */
export async function migrateLedger(db: SqlDb): Promise<void> {
  await migrate(db, createLedger)
}

async function createLedger(db: SqlDb): Promise<void> {
  // SQLite: the rowid itself (no AUTOINCREMENT and its sqlite_sequence update on every insert,
  // ~0.4 us a row measured). Ids still only grow: retention deletes the oldest rows, never the newest.
  const id = db.dialect === 'postgres' ? 'id BIGSERIAL PRIMARY KEY' : 'id INTEGER PRIMARY KEY'
  await db.exec(`
    CREATE TABLE IF NOT EXISTS ledger (
      ${id},
      ts BIGINT NOT NULL,
      day TEXT NOT NULL,
      request_id TEXT NOT NULL,
      team TEXT NOT NULL,
      key_id TEXT NOT NULL,
      key_name TEXT,
      run_id TEXT,
      tags TEXT,
      operation TEXT NOT NULL,
      requested_model TEXT NOT NULL,
      provider TEXT,
      served_model TEXT,
      response_model TEXT,
      stream INTEGER NOT NULL,
      attempts INTEGER NOT NULL,
      attempts_detail TEXT,
      input_tokens BIGINT NOT NULL,
      output_tokens BIGINT NOT NULL,
      cached_tokens BIGINT NOT NULL,
      cache_write_tokens BIGINT NOT NULL,
      reasoning_tokens BIGINT NOT NULL,
      cost_usd DOUBLE PRECISION,
      saved_usd DOUBLE PRECISION,
      estimated INTEGER NOT NULL,
      latency_ms INTEGER NOT NULL,
      ttft_ms INTEGER,
      status INTEGER NOT NULL,
      error_code TEXT,
      cache TEXT NOT NULL,
      client_aborted INTEGER NOT NULL,
      client TEXT
    );
    CREATE INDEX IF NOT EXISTS ledger_ts ON ledger (ts);
    CREATE INDEX IF NOT EXISTS ledger_team_ts ON ledger (team, ts);
    CREATE INDEX IF NOT EXISTS ledger_key_ts ON ledger (key_id, ts);
    -- Most calls carry no run id: a partial index costs those rows nothing on insert (about a
    -- microsecond a row on SQLite, measured), and a lookup by run_id = ? still uses it.
    DROP INDEX IF EXISTS ledger_run;
    CREATE INDEX IF NOT EXISTS ledger_run_set ON ledger (run_id, ts) WHERE run_id IS NOT NULL;
  `)
  // Columns added after the first layout: a ledger made by an earlier version gains them (NULL in its old rows).
  for (const [column, type] of ADDED_COLUMNS) {
    if (db.dialect === 'postgres') await db.exec(`ALTER TABLE ledger ADD COLUMN IF NOT EXISTS ${column} ${type}`)
    else if (!(await db.query<{ name: string }>('PRAGMA table_info(ledger)')).some((c) => c.name === column)) await db.exec(`ALTER TABLE ledger ADD COLUMN ${column} ${type}`)
  }
  await createRollup(db)
}

/**
 * The spend of ledger rows that retention deleted, per team, key, run ('' for none) and
 * ROLLUP_BUCKET_MS span (ledger/retention.ts), which retention never deletes: budget counters
 * start from the ledger plus this (ledger/queries.ts spentSince), so a `period: total` budget, a
 * monthly one under a shorter retention, or a run cap still knows what old calls spent.
 */
async function createRollup(db: SqlDb): Promise<void> {
  await db.exec(`
    CREATE TABLE IF NOT EXISTS ledger_rollup (
      team TEXT NOT NULL,
      key_id TEXT NOT NULL,
      run_id TEXT NOT NULL,
      bucket BIGINT NOT NULL,
      cost_usd DOUBLE PRECISION NOT NULL,
      PRIMARY KEY (team, key_id, run_id, bucket)
    );
    CREATE INDEX IF NOT EXISTS ledger_rollup_key ON ledger_rollup (key_id, bucket);
    CREATE INDEX IF NOT EXISTS ledger_rollup_run ON ledger_rollup (run_id, bucket);
  `)
}

/**
 * The span a roll-up row covers. Budget periods start at local midnight, and every time zone in use
 * is a whole number of 15 minutes from UTC, so a period start is always a bucket start.
 */
export const ROLLUP_BUCKET_MS = 15 * 60_000

/** `client`: the calling program (x-client-app, else user-agent), e.g. claude-cli/2.0.14 or codex_cli_rs/0.50.0. */
const ADDED_COLUMNS: ReadonlyArray<readonly [string, string]> = [['client', 'TEXT']]
