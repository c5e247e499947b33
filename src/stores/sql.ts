/**
 * One small SQL interface over SQLite (`node:sqlite`, the embedded default) and PostgreSQL (`pg`),
 * so the key store, the ledger and the audit trail are written once. Statements use `$1, $2...`
 * placeholders; the SQLite side rewrites them (sqlite.ts).
 */
export type SqlValue = string | number | bigint | null | boolean
export type Row = Record<string, unknown>

export interface SqlDb {
  readonly dialect: 'sqlite' | 'postgres'
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>
  /** Runs one statement once per row of parameters (bulk inserts; on SQLite a plain loop, no promise per row). */
  runEach(sql: string, rows: ReadonlyArray<readonly SqlValue[]>): Promise<void>
  /** Runs several statements (schema set-up). */
  exec(sql: string): Promise<void>
  /** Runs fn inside one transaction. */
  transaction<T>(fn: (db: SqlDb) => Promise<T>): Promise<T>
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<boolean>
  close(): Promise<void>
}

/**
 * Runs schema set-up (CREATE ... IF NOT EXISTS, migrations) in one transaction. On Postgres,
 * replicas starting together take turns on one advisory lock: IF NOT EXISTS checks the catalog and
 * then inserts into it, so two replicas creating the same table at once can fail with a duplicate
 * key on pg_type and crash one of them at its first start.
 */
export function migrate<T>(db: SqlDb, fn: (tx: SqlDb) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.query(`SELECT pg_advisory_xact_lock(hashtext('${SCHEMA_LOCK}'))`)
    return fn(tx)
  })
}
export const SCHEMA_LOCK = 'switchboard.schema'

/** Opens the store named by `store.url`: sqlite://./rel.db, sqlite:///abs.db, postgres://... (?schema=name). */
export async function openSqlDb(url: string): Promise<SqlDb> {
  if (url.startsWith('sqlite:')) {
    const { openSqlite } = await import('./sqlite.ts')
    return openSqlite(sqlitePath(url))
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgres } = await import('./postgres.ts')
    return openPostgres(url)
  }
  throw new Error(`store.url: expected sqlite://path or postgres://..., got "${url.replace(/\/\/[^@]*@/, '//***@')}"`)
}

/** sqlite://./x.db is relative to the working directory; sqlite:///abs/x.db is absolute; sqlite::memory: is in memory. */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length)
  if (rest === ':memory:' || rest === '//:memory:') return ':memory:'
  if (rest.startsWith('///')) return rest.slice(2)
  if (rest.startsWith('//')) return rest.slice(2)
  return rest
}
