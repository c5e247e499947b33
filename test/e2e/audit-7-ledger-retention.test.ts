/**
 * Issue 7, point 4: ledger retention is configurable. Records older than
 * `store.ledger_retention_days` are deleted when the gateway starts; newer ones stay. Without the
 * setting nothing is ever deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, chat, ledgerRecord } from './ledger-support.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()

const KEY = 'sk-sb-audit7-retention-key-01'
const DAY_MS = 86_400_000

let vendor: StandIn
let dbFile: string
let gw: TestGateway | undefined

const config = (retention: string) => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite://${dbFile}"${retention} }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: gpt-4o-mini }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`

const ids = async (base: string): Promise<string[]> =>
  (await admin<{ data: Array<{ request_id: string }> }>(base, '/admin/v1/requests?limit=1000')).body.data.map((r) => r.request_id).sort()

beforeAll(async () => {
  vendor = await startStandIn()
  dbFile = join(tempDir('sb-retention-'), 'ledger.db')
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

describe('ledger retention', () => {
  it('deletes records older than ledger_retention_days at start-up, keeps newer ones; unset keeps all', async () => {
    gw = await startTestGateway(config(''))
    for (const id of ['ret-old', 'ret-mid', 'ret-new']) {
      expect((await chat(gw.url, KEY, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': id })).status).toBe(200)
    }
    await ledgerRecord(gw.url, 'ret-new')
    await gw.stop()
    gw = undefined

    // Age two records directly in the file: 10 days and 5 days old.
    const db = new DatabaseSync(dbFile)
    const age = db.prepare('UPDATE ledger SET ts = ? WHERE request_id = ?')
    age.run(Date.now() - 10 * DAY_MS, 'ret-old')
    age.run(Date.now() - 5 * DAY_MS, 'ret-mid')
    db.close()

    // No retention configured: a restart deletes nothing.
    gw = await startTestGateway(config(''))
    expect(await ids(gw.url)).toEqual(['ret-mid', 'ret-new', 'ret-old'])
    await gw.stop()

    // 7 days: the 10-day-old record goes, the 5-day-old one stays.
    gw = await startTestGateway(config(', ledger_retention_days: 7'))
    let seen: string[] = []
    for (let i = 0; i < 50; i++) {
      seen = await ids(gw.url)
      if (!seen.includes('ret-old')) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(seen).toEqual(['ret-mid', 'ret-new'])
    expect(gw.logs.some((l) => l.includes('ledger retention: deleted old records') && l.includes('"deleted":1'))).toBe(true)
  })
})
