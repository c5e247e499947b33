/**
 * The ledger on the real PostgreSQL (a schema of its own): records written in batches, read back
 * through the requests and spend APIs, and a restart that rebuilds budget spend from it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, PG_BASE, admin, chat, ledgerRecord } from './ledger-support.ts'
import { pgAvailable } from '../helpers/services.ts'

const available = pgAvailable
const KEY = 'sk-sb-ledger-pg-key-000001'

describe.skipIf(!available)('ledger on PostgreSQL', () => {
  let vendor: StandIn
  let gw: TestGateway
  const schema = `sbtest_${runId()}`
  const config = () => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "${PG_BASE}?schema=${schema}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: gpt-4o-mini }] }
routing: { retries: { max_attempts: 1 } }
teams:
  pgteam:
    budget: { usd: 0.0003, period: monthly }
    keys: { k: { key: "${KEY}" } }
`
  // gpt-4o-mini: 0.15 in, 0.075 cached, 0.60 out. 1000 prompt (400 cached) + 200 out:
  // 600 x 0.15 = 90; 400 x 0.075 = 30; 200 x 0.60 = 120 -> 240 / 1e6 = $0.00024
  const usage = { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200, prompt_tokens_details: { cached_tokens: 400 } }
  beforeAll(async () => {
    vendor = await startStandIn(json(200, chatCompletion('ok', 'gpt-4o-mini', usage as never)))
    gw = await startTestGateway(config())
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
    const c = new pg.Client({ connectionString: PG_BASE })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
  })

  it('records land in Postgres with exact cost, and the spend API reads them', async () => {
    const r = await chat(gw.url, KEY, { model: 'm', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'pg-ledger-1', 'x-switchboard-run-id': 'pg-run' })
    expect(r.status).toBe(200)
    expect(r.headers.get('x-switchboard-cost-usd')).toBe('0.00024000')
    const rec = await ledgerRecord(gw.url, 'pg-ledger-1')
    expect(rec).toMatchObject({ team: 'pgteam', key_id: 'cfg:pgteam/k', run_id: 'pg-run', input_tokens: 1000, cached_tokens: 400, output_tokens: 200, cost_usd: 0.00024, status: 200, estimated: false })
    const c = new pg.Client({ connectionString: PG_BASE })
    await c.connect()
    const rows = await c.query(`SELECT request_id, cost_usd FROM ${schema}.ledger`)
    await c.end()
    expect(rows.rows).toEqual([{ request_id: 'pg-ledger-1', cost_usd: 0.00024 }])
    const spend = await admin<Record<string, unknown>>(gw.url, '/admin/v1/spend?group_by=team,run')
    expect(spend.body.rows).toEqual([{ team: 'pgteam', run: 'pg-run', requests: 1, input_tokens: 1000, output_tokens: 200, cached_tokens: 400, cost_usd: 0.00024 }])
  })

  it('after a restart the budget starts from the Postgres ledger', async () => {
    await gw.stop()
    gw = await startTestGateway(config())
    // $0.00024 spent of $0.0003: a call that may cost up to 50 x 0.60 / 1e6 + prompt does not fit.
    const r = await chat(gw.url, KEY, { model: 'm', max_tokens: 200, messages: [{ role: 'user', content: 'hi' }] })
    expect(r.status).toBe(429)
    expect(r.body.error?.message).toMatch(/^Budget exceeded: team 'pgteam' has \$0\.0001 left of its \$0\.0003 monthly budget \(\$0\.0002 spent\)/)
  })
})
