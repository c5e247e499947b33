/**
 * Deletes ledger rows older than `store.ledger_retention_days`, at start-up and then hourly.
 *
 * Budget counters start from the ledger's spend of their period (ledger/queries.ts spentSince), so
 * deleting rows alone made a `period: total` budget, a monthly one under a shorter retention, or a
 * run cap forget old spend at the next restart. So in the same transaction the deleted rows' spend
 * is first added to `ledger_rollup` (per team, key, run and 15 minutes; ledger/schema.ts), which
 * retention never touches.
 */
import type { Logger } from 'pino'
import type { SqlDb } from '../stores/sql.ts'
import { ROLLUP_BUCKET_MS } from './schema.ts'

const DAY_MS = 86_400_000

/**
 * Adds the spend of rows before the cutoff to the roll-up (calls at 0 or of unknown price have
 * none to keep). A bucket the cutoff cut through gets the rest at the next pass, added up.
 */
const ROLL_UP = `
  INSERT INTO ledger_rollup (team, key_id, run_id, bucket, cost_usd)
  SELECT team, key_id, COALESCE(run_id, ''), (ts / ${ROLLUP_BUCKET_MS}) * ${ROLLUP_BUCKET_MS}, SUM(cost_usd)
  FROM ledger WHERE ts < $1 AND cost_usd <> 0
  GROUP BY team, key_id, COALESCE(run_id, ''), (ts / ${ROLLUP_BUCKET_MS}) * ${ROLLUP_BUCKET_MS}
  ON CONFLICT (team, key_id, run_id, bucket) DO UPDATE SET cost_usd = ledger_rollup.cost_usd + excluded.cost_usd`

/** Rolls up and deletes the rows before `cutoff` in one transaction; how many it deleted. */
export async function pruneLedger(db: SqlDb, cutoff: number): Promise<number> {
  return db.transaction(async (tx) => {
    // Replicas on one Postgres take turns: two roll-ups of the same rows before either deleted
    // them would count their spend twice.
    if (tx.dialect === 'postgres') await tx.query("SELECT pg_advisory_xact_lock(hashtext('switchboard.ledger_retention'))")
    const rows = await tx.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM ledger WHERE ts < $1', [cutoff])
    const n = Number(rows[0]?.n ?? 0)
    if (n === 0) return 0
    await tx.query(ROLL_UP, [cutoff])
    await tx.query('DELETE FROM ledger WHERE ts < $1', [cutoff])
    return n
  })
}

export function startLedgerRetention(db: SqlDb, days: number | undefined, log: Logger): () => void {
  if (!days) return () => {}
  const prune = async () => {
    try {
      const n = await pruneLedger(db, Date.now() - days * DAY_MS)
      if (n > 0) log.info({ deleted: n, retention_days: days }, 'ledger retention: deleted old records (their spend kept in ledger_rollup for budgets)')
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'ledger retention: delete failed; will retry')
    }
  }
  void prune()
  const timer = setInterval(() => void prune(), 3_600_000)
  timer.unref()
  return () => clearInterval(timer)
}
