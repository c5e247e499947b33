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
