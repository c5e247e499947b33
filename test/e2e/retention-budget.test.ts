/**
 * `store.ledger_retention_days` and budgets that reach further back than it. Budget counters start
 * from the ledger at start-up, and retention deleted the rows they start from: after a restart a
 * spent `period: total` team budget (whose refusal says "It does not reset") and a spent run cap
 * admitted paid calls again. Through the real gateway, restarted on the same store with its rows
 * aged past the retention, on SQLite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { chatCompletion, json, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, PG_BASE, chat, ledgerCount } from './ledger-support.ts'
import { pgAvailable } from '../helpers/services.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()
const DAY_MS = 86_400_000
const PLAIN = 'sk-sb-retention-budget-plain-01'
const RUNNER = 'sk-sb-retention-budget-runner-01'

// $1000 per million tokens: 10 prompt + 5 output tokens reported = $0.015 a call. A call reserves
// (17 estimated prompt + 5) x $0.001 = $0.022.
const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }

for (const store of ['sqlite', 'postgres'] as const) {
  describe.skipIf(store === 'postgres' && !pgAvailable)(`retention keeps the spend budgets start from (${store})`, () => {
    let vendor: StandIn
    let gw: TestGateway | undefined
    let url: string
    const schema = `sbtest_${runId()}_retb`

    const config = (retention: string) => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "${url}"${retention} }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] } }
models: { m: { targets: [{ provider: up, model: m-up }], pricing: { input: 1000, output: 1000 } } }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    budget: { usd: 0.06, period: total }
    keys:
      plain: { key: ${PLAIN} }
      runner: { key: ${RUNNER}, budget: { usd: 100, period: daily, per_run_usd: 0.03 } }
`
    const ask = (key: string, headers: Record<string, string> = {}) => chat(gw!.url, key, { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, headers)

    async function age(ms: number): Promise<void> {
      if (store === 'sqlite') {
        const db = new DatabaseSync(url.slice('sqlite://'.length))
        db.prepare('UPDATE ledger SET ts = ts - ?').run(ms)
        db.close()
        return
      }
      const c = new pg.Client({ connectionString: PG_BASE })
      await c.connect()
      await c.query(`UPDATE ${schema}.ledger SET ts = ts - $1`, [ms])
      await c.end()
    }

    beforeAll(async () => {
      vendor = await startStandIn(json(200, chatCompletion('ok', 'm-up', USAGE)))
      url = store === 'sqlite' ? `sqlite://${join(tempDir('sb-retention-budget-'), 'ledger.db')}` : `${PG_BASE}?schema=${schema}`
    })
    afterAll(async () => {
      await gw?.stop()
      await vendor?.close()
      if (store === 'postgres') {
        const c = new pg.Client({ connectionString: PG_BASE })
        await c.connect()
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
        await c.end()
      }
    })

    it('a spent total budget and a spent run cap stay spent after their rows are deleted and the gateway restarts', async () => {
      gw = await startTestGateway(config(''))
      expect((await ask(PLAIN)).status).toBe(200)
      expect((await ask(PLAIN)).status).toBe(200)
      expect((await ask(RUNNER, { 'x-switchboard-run-id': 'run-old' })).status).toBe(200)
      // $0.045 of $0.06 spent: a call that may cost $0.022 no longer fits, nor a second call of the run.
      const team = await ask(PLAIN)
      expect(team.status).toBe(429)
      expect(team.body.error?.message).toContain("team 't' has $0.015 left of its $0.06 total budget ($0.045 spent)")
      const run = await ask(RUNNER, { 'x-switchboard-run-id': 'run-old' })
      expect(run.status).toBe(429)
      expect(run.body.error?.message).toContain("agent run 'run-old'")
      expect(await ledgerCount(gw.url, 5)).toBe(5)
      await gw.stop()
      gw = undefined

      // Ten days pass; the gateway restarts with a 7-day retention, which deletes every row.
      await age(10 * DAY_MS)
      gw = await startTestGateway(config(', ledger_retention_days: 7'))
      for (let i = 0; i < 50 && !gw.logs.some((l) => l.includes('ledger retention: deleted old records')); i++) await new Promise((r) => setTimeout(r, 50))
      expect(gw.logs.some((l) => l.includes('ledger retention: deleted old records') && l.includes('"deleted":5'))).toBe(true)

      const after = await ask(PLAIN)
      expect(after.status).toBe(429)
      expect(after.body.error?.message).toContain("team 't' has $0.015 left of its $0.06 total budget ($0.045 spent)")
      expect(after.body.error?.message).toContain('It does not reset (period: total).')
      const runAfter = await ask(RUNNER, { 'x-switchboard-run-id': 'run-old' })
      expect(runAfter.status).toBe(429)
      expect(runAfter.body.error?.message).toContain("agent run 'run-old' of key 'cfg:t/runner' has $0.015 left")
      expect(vendor.received.length).toBe(3)
    })
  })
}
