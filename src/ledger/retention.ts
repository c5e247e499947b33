/** Deletes ledger rows older than `store.ledger_retention_days`, at start-up and then hourly. */
import type { Logger } from 'pino'
import type { SqlDb } from '../stores/sql.ts'

const DAY_MS = 86_400_000

export function startLedgerRetention(db: SqlDb, days: number | undefined, log: Logger): () => void {
  if (!days) return () => {}
  const prune = async () => {
    try {
      const cutoff = Date.now() - days * DAY_MS
      const rows = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM ledger WHERE ts < $1', [cutoff])
      const n = Number(rows[0]?.n ?? 0)
      if (n > 0) {
        await db.query('DELETE FROM ledger WHERE ts < $1', [cutoff])
        log.info({ deleted: n, retention_days: days }, 'ledger retention: deleted old records')
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'ledger retention: delete failed; will retry')
    }
  }
  void prune()
  const timer = setInterval(() => void prune(), 3_600_000)
  timer.unref()
  return () => clearInterval(timer)
}
