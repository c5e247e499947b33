/**
 * The ledger writer: `record` only queues a compact row; a timer flushes the queue every
 * `flushMs` (or sooner once `batchSize` rows wait) inside one transaction (multi-row INSERTs on
 * Postgres, a prepared single-row INSERT per row on SQLite).
 * When the store fails, rows stay queued and are retried with backoff; the queue is bounded, and
 * rows that do not fit are dropped, counted and logged. `close` flushes what is left, retrying
 * until the end of the shutdown grace, and hands what the store still refuses to `spill`.
 * A crash loses what is queued: at most `flushMs` of traffic while the store is up.
 */
import type { Logger } from 'pino'
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { Ledger, Pricing } from '../core/ports.ts'
import type { SqlDb, SqlValue } from '../stores/sql.ts'
import { settleCost } from '../accounting/settle-cost.ts'
import { LEDGER_COLUMNS, ledgerInsert } from './schema.ts'
import { ledgerRow, type LedgerRow } from './row.ts'

export interface LedgerOptions {
  flushMs?: number
  batchSize?: number
  maxQueue?: number
  /**
   * Keeps rows the store did not take by the end of `close` (PostgreSQL: a local file replayed at
   * the next start, spill.ts); returns where they went. Without it they are logged as lost.
   */
  spill?: (rows: readonly LedgerRow[]) => Promise<string>
}

export interface LedgerStats {
  queued: number
  written: number
  dropped: number
  failedFlushes: number
}

export interface LedgerWriter extends Ledger {
  /** Writes everything queued now (tests, shutdown). */
  flush(): Promise<void>
  /**
   * Writes what is queued, retrying with backoff until `deadline` (epoch ms; at least
   * MIN_CLOSE_MS from now), then spills or logs what the store still has not taken.
   */
  close(deadline?: number): Promise<void>
  stats(): LedgerStats
}

const REQUEST_ID = LEDGER_COLUMNS.indexOf('request_id')

/**
 * An error about the data rather than the store being reachable: PostgreSQL's SQLSTATE classes 22
 * (data exception: out of range, bad encoding) and 23 (constraint violation), SQLite's constraint
 * and type mismatch errors.
 */
export function isDataError(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown }
  if (typeof e?.code === 'string' && /^2[23][0-9A-Z]{3}$/.test(e.code)) return true
  const msg = typeof e?.message === 'string' ? e.message : ''
  return /constraint failed|datatype mismatch|too big/i.test(msg) && (e?.code === 'ERR_SQLITE_ERROR' || typeof e?.errcode === 'number')
}

/** However late shutdown comes to the ledger, it gets this long to write (the kubelet allows 5 s past the grace). */
export const MIN_CLOSE_MS = 2000
/** Waits between close's tries: doubling from the first, at most the second. */
const CLOSE_BACKOFF_MS = [200, 2000] as const

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export function createLedgerWriter(db: SqlDb, pricing: Pricing, log: Logger, opts: LedgerOptions = {}): LedgerWriter {
  const flushMs = opts.flushMs ?? 500
  const batchSize = opts.batchSize ?? 256
  const maxQueue = opts.maxQueue ?? 50_000
  let queue: LedgerRow[] = []
  const stats = { written: 0, dropped: 0, failedFlushes: 0 }
  let flushing: Promise<void> | undefined
  let failures = 0
  let retryAt = 0
  let lastDropLog = 0
  let closed = false
  const pending = new Set<Promise<void>>()

  const enqueue = (row: LedgerRow) => {
    if (queue.length >= maxQueue) {
      stats.dropped++
      const now = Date.now()
      if (now - lastDropLog > 10_000) {
        lastDropLog = now
        log.error({ dropped: stats.dropped, queued: queue.length }, 'ledger queue full (the store is failing): dropping records')
      }
      return
    }
    queue.push(row)
    if (queue.length === batchSize && failures === 0) setImmediate(kick)
  }

  const insertSql = new Map<number, string>()
  const sqlFor = (rows: number): string => {
    let sql = insertSql.get(rows)
    if (!sql) insertSql.set(rows, (sql = ledgerInsert(rows)))
    return sql
  }

  /** Full batches, then the remainder in power-of-two chunks, so only a few statement shapes exist. */
  const chunks = (n: number): number[] => {
    const out: number[] = []
    while (n >= batchSize) { out.push(batchSize); n -= batchSize }
    for (let size = 1 << 30; size >= 1; size >>= 1) if (n >= size) { out.push(size); n -= size }
    return out
  }

  /** The rows the next write takes from the head of the queue (at most four batches). */
  const nextBatch = (): LedgerRow[] => (queue.length > batchSize * 4 ? queue.slice(0, batchSize * 4) : queue)

  const writeOnce = async (): Promise<void> => {
    if (queue.length === 0) return
    const rows = nextBatch()
    const taken = rows.length
    await db.transaction(async (tx) => {
      // SQLite: one prepared single-row INSERT per row inside the transaction (~1.2 us a row
      // before its indexes; its multi-row form grows superlinearly with the parameter count).
      // Postgres: multi-row INSERTs, so a batch costs a few round trips instead of one per row.
      if (db.dialect === 'sqlite') return tx.runEach(sqlFor(1), rows)
      let at = 0
      for (const n of chunks(taken)) {
        const params: SqlValue[] = []
        for (let i = at; i < at + n; i++) for (const v of rows[i]!) params.push(v)
        await tx.query(sqlFor(n), params)
        at += n
      }
    })
    queue = queue.length === taken ? [] : queue.slice(taken)
    stats.written += taken
  }

  /**
   * The store refused the batch's data (not the connection): write its rows one by one and drop
   * only those it refuses, logged with their request id and counted. Without this one bad row would
   * fail its batch at every retry and stop the ledger for everyone.
   */
  const isolateBadRows = async (): Promise<void> => {
    const rows = nextBatch()
    const one = sqlFor(1)
    let done = 0
    try {
      for (const row of rows) {
        try {
          await db.query(one, row)
          stats.written++
        } catch (err) {
          if (!isDataError(err)) throw err
          stats.dropped++
          log.error({ err: (err as Error).message, requestId: row[REQUEST_ID] }, 'ledger: the store refused a record; it is dropped')
        }
        done++
      }
    } finally {
      // Rows handled leave the queue, so a connection failure midway repeats none of them.
      queue = queue.slice(done)
    }
  }

  const flushNow = async (): Promise<void> => {
    while (queue.length > 0) {
      try {
        try {
          await writeOnce()
        } catch (err) {
          if (!isDataError(err)) throw err
          await isolateBadRows()
        }
        if (failures > 0) log.info({ queued: queue.length }, 'ledger store is back: writing queued records')
        failures = 0
      } catch (err) {
        failures++
        stats.failedFlushes++
        retryAt = Date.now() + Math.min(30_000, flushMs * 2 ** Math.min(failures, 8))
        if (failures === 1 || failures % 20 === 0) log.warn({ err: (err as Error).message, queued: queue.length, failures }, 'ledger flush failed; will retry')
        throw err
      }
    }
  }

  function kick(): void {
    if (flushing || queue.length === 0 || Date.now() < retryAt) return
    flushing = flushNow().catch(() => {}).finally(() => { flushing = undefined })
  }

  const timer = setInterval(kick, flushMs)
  timer.unref()

  return {
    record(call: CallInfo, outcome: CallOutcome): void {
      if (closed) return
      const settled = settleCost(call, outcome, pricing)
      if (!(settled instanceof Promise)) {
        enqueue(ledgerRow(call, outcome, settled.usage, settled.costUsd))
        return
      }
      const p = settled.then((s) => enqueue(ledgerRow(call, outcome, s.usage, s.costUsd)), (err: unknown) => {
        log.error({ err, requestId: call.requestId }, 'ledger: could not price an estimated call')
        enqueue(ledgerRow(call, outcome, undefined, null))
      }).finally(() => pending.delete(p))
      pending.add(p)
    },
    async flush() {
      await Promise.all([...pending])
      if (flushing) await flushing
      await flushNow().catch(() => {})
    },
    async close(deadline = 0) {
      clearInterval(timer)
      await Promise.all([...pending])
      closed = true
      // A store that refuses connections fails each try at once: keep trying for the rest of the
      // shutdown grace, not two tries in 0.4 s. One that does not answer holds a try up to its
      // query timeout: the deadline cuts the wait short (the rows of a write in flight are spilled
      // too; the replay skips those it finds written).
      const until = Math.max(deadline, Date.now() + MIN_CLOSE_MS)
      let timedOut = false
      let cutoff: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<void>((resolve) => { cutoff = setTimeout(() => { timedOut = true; resolve() }, until - Date.now()) })
      const tryWrite = async (): Promise<void> => {
        if (flushing) await flushing
        await flushNow()
      }
      let wait: number = CLOSE_BACKOFF_MS[0]
      while (queue.length > 0 && !timedOut) {
        let failed = false
        await Promise.race([tryWrite().catch(() => { failed = true }), timeout])
        if (!failed || timedOut) continue
        await Promise.race([sleep(Math.min(wait, until - Date.now())), timeout])
        wait = Math.min(wait * 2, CLOSE_BACKOFF_MS[1])
      }
      clearTimeout(cutoff)
      if (queue.length === 0) return
      const rows = queue.slice()
      if (!opts.spill) {
        log.error({ lost: rows.length }, 'ledger: the store is unavailable at shutdown; queued records are lost')
        return
      }
      try {
        const file = await opts.spill(rows)
        log.warn({ spilled: rows.length, file }, 'ledger: the store is unavailable at shutdown; queued records were written to a spill file, which the next start writes to the store')
      } catch (err) {
        log.error({ err: (err as Error).message, lost: rows.length }, 'ledger: the store is unavailable at shutdown and the spill file could not be written; queued records are lost')
      }
    },
    stats: () => ({ queued: queue.length, ...stats }),
  }
}
