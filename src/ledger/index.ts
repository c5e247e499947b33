/** The durable ledger: schema, batched writer and retention, over the SQL store. */
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Pricing } from '../core/ports.ts'
import type { SqlDb } from '../stores/sql.ts'
import { migrateLedger } from './schema.ts'
import { createLedgerWriter, type LedgerOptions, type LedgerWriter } from './writer.ts'
import { startLedgerRetention } from './retention.ts'

export type { LedgerWriter } from './writer.ts'

export async function createLedger(db: SqlDb, config: Config, pricing: Pricing, log: Logger, opts?: LedgerOptions): Promise<LedgerWriter> {
  await migrateLedger(db)
  const writer = createLedgerWriter(db, pricing, log, opts)
  const stopRetention = startLedgerRetention(db, config.store.ledger_retention_days, log)
  return {
    ...writer,
    async close() {
      stopRetention()
      await writer.close()
    },
  }
}
