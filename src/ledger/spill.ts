/**
 * The ledger's spill files (PostgreSQL only): rows a failing store had not taken when shutdown
 * ended are written to a local NDJSON file, and written to the store at the next start, so a
 * Postgres outage at rollout time costs no ledger rows. SQLite needs none: its store is itself a
 * local file, on the same disk a spill file would go to.
 *
 * A file is a header line, then one JSON array per row in the header's column order:
 *   {"format":"switchboard-ledger-spill","version":1,"store":"test/tenant_a","columns":["ts",...]}
 *   [1767225600000,"2026-01-01","req_...",...]
 *
 * Replaying is idempotent. Ledger rows carry no id of their own (the store numbers them), so a row
 * counts as written when a row with the same start time, request id and key is already there: a
 * replay cut short after its commit, or rows of a write still in flight when shutdown spilled
 * them, are never written twice. Replicas sharing a spill directory take turns (an advisory lock).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { SqlDb, SqlValue } from '../stores/sql.ts'
import { LEDGER_COLUMNS, ledgerInsert } from './schema.ts'
import type { LedgerRow } from './row.ts'

const FORMAT = 'switchboard-ledger-spill'
const PREFIX = 'ledger-spill-'
const SUFFIX = '.ndjson'
/** Rows per existence check and per INSERT (31 columns: well under PostgreSQL's 65,535 parameters). */
const CHUNK = 256
const SPILL_LOCK = 'switchboard.ledger-spill'

const TS = LEDGER_COLUMNS.indexOf('ts')
const REQUEST_ID = LEDGER_COLUMNS.indexOf('request_id')
const KEY_ID = LEDGER_COLUMNS.indexOf('key_id')

interface Header {
  format: typeof FORMAT
  version: 1
  /** The store the rows belong to (storeIdentity). */
  store: string
  columns: string[]
}

/**
 * The store a spill file belongs to: its database and schema. Not its host or credentials: a
 * failover, a proxy or a rotated password leaves the rows' destination the same.
 */
export function storeIdentity(url: string): string {
  const u = new URL(url)
  return `${decodeURIComponent(u.pathname.slice(1))}/${u.searchParams.get('schema') ?? 'public'}`
}

/** A file name that sorts by time and never collides between replicas sharing a directory. */
function spillName(now: Date): string {
  return `${PREFIX}${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}${SUFFIX}`
}

/** Writes rows to a new spill file in `dir` (made if missing); returns its path. */
export async function writeSpill(dir: string, store: string, rows: readonly LedgerRow[], now = new Date()): Promise<string> {
  await mkdir(dir, { recursive: true })
  const header: Header = { format: FORMAT, version: 1, store, columns: [...LEDGER_COLUMNS] }
  let text = JSON.stringify(header) + '\n'
  for (const r of rows) text += JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n'
  const file = join(dir, spillName(now))
  // Written under another name, then renamed: a replay never reads half a file. Only this
  // process's user may read it (the ledger names teams, keys and clients).
  await writeFile(`${file}.tmp`, text, { mode: 0o600 })
  await rename(`${file}.tmp`, file)
  return file
}

/** A spill file's header and rows in the current column order (columns a file lacks are null). */
export function parseSpill(text: string): { header: Header; rows: LedgerRow[] } {
  const lines = text.split('\n')
  const header = JSON.parse(lines[0] ?? '') as Header
  if (header?.format !== FORMAT || header.version !== 1 || !Array.isArray(header.columns)) throw new Error('not a ledger spill file')
  const at = LEDGER_COLUMNS.map((c) => header.columns.indexOf(c))
  const rows: LedgerRow[] = []
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue
    const r = JSON.parse(lines[i]!) as SqlValue[]
    rows.push(at.map((j) => (j === -1 ? null : r[j] ?? null)))
  }
  return { header, rows }
}

const rowKey = (ts: unknown, requestId: unknown, keyId: unknown): string => `${String(ts)}\u0000${String(requestId)}\u0000${String(keyId)}`

/** Writes the rows not in the ledger yet, in one transaction; returns how many were written and skipped. */
async function replayRows(db: SqlDb, rows: readonly LedgerRow[]): Promise<{ written: number; skipped: number }> {
  return db.transaction(async (tx) => {
    // One replica at a time: another that replays the same file meanwhile then finds its rows.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('${SPILL_LOCK}'))`)
    let written = 0
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK)
      const stamps = [...new Set(chunk.map((r) => r[TS]!))]
      const there = await tx.query<{ ts: unknown; request_id: unknown; key_id: unknown }>(
        `SELECT ts, request_id, key_id FROM ledger WHERE ts IN (${stamps.map((_, k) => `$${k + 1}`).join(',')})`, stamps)
      const seen = new Set(there.map((r) => rowKey(r.ts, r.request_id, r.key_id)))
      const missing = chunk.filter((r) => !seen.has(rowKey(r[TS], r[REQUEST_ID], r[KEY_ID])))
      if (missing.length === 0) continue
      await tx.query(ledgerInsert(missing.length), missing.flat())
      written += missing.length
    }
    return { written, skipped: rows.length - written }
  })
}

/**
 * Writes every spill file of this store found in `dir` to the ledger, then deletes it. A file of
 * another store is left alone (and named in a warning); one that fails stays for the next start.
 */
export async function replaySpills(db: SqlDb, dir: string, store: string, log: Logger): Promise<void> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(PREFIX) && n.endsWith(SUFFIX)).sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  for (const name of names) {
    const file = join(dir, name)
    try {
      const { header, rows } = parseSpill(await readFile(file, 'utf8'))
      if (header.store !== store) {
        log.warn({ file, store: header.store }, 'ledger: a spill file of another store is left alone')
        continue
      }
      const { written, skipped } = await replayRows(db, rows)
      await unlink(file)
      log.info({ file, written, skipped }, 'ledger: records spilled at an earlier shutdown were written to the store')
    } catch (err) {
      // Deleted meanwhile by another replica sharing the directory: it replayed the file.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      log.error({ err: (err as Error).message, file }, 'ledger: could not replay a spill file; it is kept for the next start')
    }
  }
}
