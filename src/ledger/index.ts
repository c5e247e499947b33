/** The durable ledger: schema, batched writer and retention, over the SQL store. */
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Pricing } from '../core/ports.ts'
import type { SqlDb } from '../stores/sql.ts'
import { migrateLedger } from './schema.ts'
import { createLedgerWriter, type LedgerOptions, type LedgerWriter } from './writer.ts'
import { startLedgerRetention } from './retention.ts'
import { replaySpills, storeIdentity, writeSpill } from './spill.ts'

export type { LedgerWriter } from './writer.ts'

/** Where spill files go unless store.ledger_spill_dir says: the data directory (the image's /app/data volume). */
export const DEFAULT_SPILL_DIR = './data'

export async function createLedger(db: SqlDb, config: Config, pricing: Pricing, log: Logger, opts?: LedgerOptions): Promise<LedgerWriter> {
  await migrateLedger(db)
  // PostgreSQL: rows it did not take by the end of shutdown go to a local file, written to it at
  // the next start (spill.ts). Before serving: budgets start from the ledger's spend, which then
  // includes them.
  let spill: LedgerOptions['spill']
  if (db.dialect === 'postgres') {
    const dir = config.store.ledger_spill_dir ?? DEFAULT_SPILL_DIR
    const store = storeIdentity(config.store.url)
    spill = (rows) => writeSpill(dir, store, rows)
    await replaySpills(db, dir, store, log).catch((err: unknown) => log.error({ err: (err as Error).message, dir }, 'ledger: could not read the spill directory'))
  }
  const writer = createLedgerWriter(db, pricing, log, { spill, ...opts })
  const stopRetention = startLedgerRetention(db, config.store.ledger_retention_days, log)
  return {
    ...writer,
    async close(deadline?: number) {
      stopRetention()
      await writer.close(deadline)
    },
  }
}
