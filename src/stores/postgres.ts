/**
 * PostgreSQL through `pg` (pure JS). `?schema=name` in the URL selects (and creates) a schema, so
 * tenants of one database, and test runs, never see each other's tables.
 */
import pg from 'pg'
import { SCHEMA_LOCK, type Row, type SqlDb, type SqlValue } from './sql.ts'

const QUERY_TIMEOUT_MS = 5000
const isReadTimeout = (err: unknown): boolean => err instanceof Error && err.message === 'Query read timeout'

export async function openPostgres(url: string): Promise<SqlDb> {
  const u = new URL(url)
  const schema = u.searchParams.get('schema') ?? undefined
  u.searchParams.delete('schema')
  if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`store.url: schema must match [a-z_][a-z0-9_]*, got "${schema}"`)
  const pool = new pg.Pool({
    connectionString: u.toString(),
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // A server that stops answering (stalled, or a half-open path) must not hold a ledger flush, a
    // key poll or shutdown forever: a query unanswered for 5 s fails and its connection is dropped.
    query_timeout: QUERY_TIMEOUT_MS,
    keepAlive: true,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  })
  // A dropped connection must not crash the process; queries will fail and callers retry.
  pool.on('error', () => {})
  if (schema) {
    const c = await pool.connect()
    try {
      // Replicas starting together race on IF NOT EXISTS (Postgres checks, then inserts): one at a time.
      await c.query('BEGIN')
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('${SCHEMA_LOCK}'))`)
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await c.query('COMMIT')
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      c.release()
    }
  }
  const make = (run: (sql: string, params?: unknown[]) => Promise<{ rows: Row[] }>): Omit<SqlDb, 'transaction' | 'ping' | 'close'> => ({
    dialect: 'postgres',
    async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      return (await run(sql, params as unknown[])).rows as T[]
    },
    async runEach(sql: string, rows: ReadonlyArray<readonly SqlValue[]>) {
      for (const r of rows) await run(sql, r as unknown[])
    },
    async exec(sql: string) {
      await run(sql)
    },
  })
  const api: SqlDb = {
    ...make((sql, params) => pool.query(sql, params)),
    async transaction(fn) {
      const client = await pool.connect()
      let broken: Error | undefined
      try {
        await client.query('BEGIN')
        const inner: SqlDb = { ...make((sql, params) => client.query(sql, params)), transaction: (f) => f(inner), ping: api.ping, close: async () => {} }
        const out = await fn(inner)
        await client.query('COMMIT')
        return out
      } catch (err) {
        // A connection whose query timed out is still busy: a ROLLBACK would only queue behind it.
        // Dropping it (release with the error) ends the transaction on the server as well.
        if (isReadTimeout(err)) broken = err as Error
        else await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release(broken)
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1')
        return true
      } catch {
        return false
      }
    },
    close: () => pool.end(),
  }
  return api
}
