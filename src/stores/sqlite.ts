/**
 * SQLite through node:sqlite, in WAL mode. node:sqlite is synchronous; statements here are small
 * and batched by their callers (the ledger writes in batches off the request path), and reads on
 * the request path are served from memory, never from here.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Row, SqlDb, SqlValue } from './sql.ts'

/**
 * `$1, $2, ...` (our portable placeholders) to SQLite's. When they appear exactly in order, each
 * once (inserts), they become anonymous `?`: node:sqlite looks up the name of every numbered
 * parameter for every bound argument, which made a 30-column ledger insert ~35% slower (measured
 * 1.6 against 1.2 us a row). Otherwise `?N`, which allows reuse and any order.
 */
function toSqlite(sql: string): string {
  let expected = 1
  const inOrder = [...sql.matchAll(/\$(\d+)/g)].every((m) => Number(m[1]) === expected++)
  return sql.replace(/\$(\d+)/g, inOrder ? '?' : '?$1')
}

function bind(params: readonly SqlValue[]): Array<string | number | bigint | null> {
  // Copies only when a boolean needs mapping: the ledger binds thousands of rows a second. An
  // indexed loop: V8 left this for-of calling the array iterator's next() per element (~3k
  // instructions a ledger row, measured).
  for (let i = 0; i < params.length; i++) if (typeof params[i] === 'boolean') return params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))
  return params as Array<string | number | bigint | null>
}

interface Prepared { statement: StatementSync; returnsRows: boolean }

export function openSqlite(path: string): SqlDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new DatabaseSync(path)
  // A checkpoint every 10000 pages (~40 MiB of WAL) rather than SQLite's 1000: the ledger appends
  // to the same last pages in every batch, and a rarer checkpoint copies each page once instead of
  // many times (~0.5 us less per ledger row, measured). The WAL file is truncated back to 64 MiB.
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864;')
  const cache = new Map<string, Prepared>()
  const prepare = (sql: string): Prepared => {
    let p = cache.get(sql)
    if (!p) {
      p = { statement: db.prepare(toSqlite(sql)), returnsRows: /^\s*(select|with|pragma)|\breturning\b/i.test(sql) }
      if (cache.size < 500) cache.set(sql, p)
    }
    return p
  }
  let depth = 0
  const api: SqlDb = {
    dialect: 'sqlite',
    async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      const { statement, returnsRows } = prepare(sql)
      if (returnsRows) return statement.all(...bind(params)) as T[]
      statement.run(...bind(params))
      return []
    },
    async runEach(sql, rows) {
      const { statement } = prepare(sql)
      for (const r of rows) statement.run(...bind(r))
    },
    async exec(sql) {
      db.exec(sql)
    },
    async transaction(fn) {
      // node:sqlite is synchronous and single-connection: nested calls join the outer transaction.
      if (depth > 0) return fn(api)
      depth++
      db.exec('BEGIN IMMEDIATE')
      try {
        const out = await fn(api)
        db.exec('COMMIT')
        return out
      } catch (err) {
        db.exec('ROLLBACK')
        throw err
      } finally {
        depth--
      }
    },
    async ping() {
      try {
        db.prepare('SELECT 1').get()
        return true
      } catch {
        return false
      }
    },
    async close() {
      cache.clear()
      if (db.isOpen) db.close()
    },
  }
  return api
}
