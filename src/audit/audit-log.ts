/**
 * The audit trail: every admin action (keys created, updated, revoked; config reloaded) as a row in
 * the SQL store's `audit_log` table, with who (the admin's id, never its key), what, on what, and
 * when. Writes are queued and flushed in order off the caller's path; reads wait for them, so a
 * read after an action always sees it.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { AuditLog } from '../core/ports.ts'
import { migrate, type SqlDb, type SqlValue } from '../stores/sql.ts'

export interface AuditEntry {
  id: string
  at: string
  actor: string
  action: string
  target: string
  detail: Record<string, unknown> | null
}

export interface AuditQuery {
  action?: string
  actor?: string
  /** ISO-8601, inclusive. */
  from?: string
  /** ISO-8601, exclusive. */
  to?: string
  /** From a previous page's next_cursor. */
  cursor?: string
  limit: number
}

export interface AuditStore extends AuditLog {
  list(q: AuditQuery): Promise<{ entries: AuditEntry[]; nextCursor: string | null }>
  /** Resolves when every recorded entry is written. */
  flush(): Promise<void>
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  seq BIGINT NOT NULL,
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at, seq);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, at);
`

/** Keys whose values are secrets never reach the audit table, whatever a caller puts in detail. */
const SECRET_KEY = /^(key|api_?key|secret|password|token|authorization|secret_access_key|session_token)$/i
function scrub(detail: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!detail) return null
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(detail)) {
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : v !== null && typeof v === 'object' && !Array.isArray(v) ? scrub(v as Record<string, unknown>) : v
  }
  return out
}

/** Cursor: the last row's (at, seq, id), opaque to clients; id breaks ties between replicas. */
const encodeCursor = (at: string, seq: number, id: string): string => Buffer.from(`${at}|${seq}|${id}`).toString('base64url')
function decodeCursor(c: string): { at: string; seq: number; id: string } | undefined {
  const [at, seq, id] = Buffer.from(c, 'base64url').toString('utf8').split('|')
  // A safe integer only: a larger seq (garbled or made up) reached the store as an out-of-range bigint, a 500.
  const n = seq !== undefined && /^\d{1,16}$/.test(seq) ? Number(seq) : NaN
  return at && id && Number.isSafeInteger(n) ? { at, seq: n, id } : undefined
}
export class BadCursor extends Error {}

export async function createAuditLog(db: SqlDb, log: Logger): Promise<AuditStore> {
  await migrate(db, (tx) => tx.exec(SCHEMA))
  const [{ max } = { max: 0 }] = await db.query<{ max: number | string | null }>('SELECT MAX(seq) AS max FROM audit_log')
  // A per-process sequence breaks ties between entries in the same millisecond; a restart continues it.
  let seq = Number(max ?? 0)
  let lastAt = ''
  let tail: Promise<void> = Promise.resolve()

  return {
    record(entry) {
      // Timestamps never go backwards within the trail, even if the wall clock does.
      let at = new Date().toISOString()
      if (at < lastAt) at = lastAt
      lastAt = at
      const row: SqlValue[] = [++seq, randomUUID(), at, entry.actor, entry.action, entry.target, JSON.stringify(scrub(entry.detail))]
      tail = tail.then(() => db.query('INSERT INTO audit_log (seq, id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)', row)).then(
        () => undefined,
        (err: unknown) => log.error({ err, action: entry.action, target: entry.target, actor: entry.actor }, 'audit: could not write an entry'),
      )
    },
    flush: () => tail,
    async list(q) {
      await tail
      const where: string[] = []
      const params: SqlValue[] = []
      const p = (v: SqlValue): string => {
        params.push(v)
        return `$${params.length}`
      }
      if (q.action) where.push(`action = ${p(q.action)}`)
      if (q.actor) where.push(`actor = ${p(q.actor)}`)
      if (q.from) where.push(`at >= ${p(q.from)}`)
      if (q.to) where.push(`at < ${p(q.to)}`)
      if (q.cursor) {
        const c = decodeCursor(q.cursor)
        if (!c) throw new BadCursor('cursor')
        const at = p(c.at)
        const sq = p(c.seq)
        where.push(`(at < ${at} OR (at = ${at} AND (seq < ${sq} OR (seq = ${sq} AND id < ${p(c.id)}))))`)
      }
      const sql = `SELECT seq, id, at, actor, action, target, detail FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, seq DESC, id DESC LIMIT ${p(q.limit + 1)}`
      const rows = await db.query<{ seq: number | string; id: string; at: string; actor: string; action: string; target: string; detail: string | null }>(sql, params)
      const page = rows.slice(0, q.limit)
      const last = page[page.length - 1]
      return {
        entries: page.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown> | null) : null })),
        nextCursor: rows.length > q.limit && last ? encodeCursor(last.at, Number(last.seq), last.id) : null,
      }
    },
  }
}
