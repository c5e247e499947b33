/**
 * Client-chosen text that PostgreSQL's text type cannot hold (a NUL character, a lone UTF-16
 * surrogate) in a ledger row must not poison the batch it is written with: that row is stored with
 * the text made safe, and the requests around it are recorded as usual; a row the store refuses
 * anyway (a number out of range) is dropped alone instead of stopping the ledger. SQLite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, PG_BASE, ledgerRecord } from './ledger-support.ts'
import { pgAvailable } from '../helpers/services.ts'

const KEY = 'sk-sb-ledger-poison-key-001'

const stores = [
  { name: 'SQLite', available: true, url: () => 'sqlite::memory:', drop: async () => {} },
  { name: 'PostgreSQL', available: pgAvailable, url: (schema: string) => `${PG_BASE}?schema=${schema}`, drop: async (schema: string) => {
    const c = new pg.Client({ connectionString: PG_BASE })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
  } },
]

for (const store of stores) {
  describe.skipIf(!store.available)(`ledger rows with unstorable text, ${store.name}`, () => {
    let vendor: StandIn
    let gw: TestGateway
    const schema = `sbtest_${runId()}_poison`
    beforeAll(async () => {
      vendor = await startStandIn(json(200, chatCompletion('ok', 'up-model')))
      gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "${store.url(schema)}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: up-model }] }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`)
    })
    afterAll(async () => {
      await gw?.stop()
      await vendor?.close()
      await store.drop(schema)
    })

    const call = (id: string, model: string, runHeader?: string) => fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id, ...(runHeader ? { 'x-switchboard-run-id': runHeader } : {}) },
      body: `{"model":${JSON.stringify(model)},"messages":[{"role":"user","content":"hi"}]}`,
    }).then(async (r) => { await r.text(); return r.status })

    it('a NUL or a lone surrogate in a client-chosen model name does not stop the ledger', async () => {
      expect(await call('poison-ok-1', 'm')).toBe(200)
      expect(await call('poison-nul', 'bad\u0000model')).toBe(404)
      expect(await call('poison-surrogate', 'bad\ud800model')).toBe(404)
      expect(await call('poison-ok-2', 'm')).toBe(200)
      const ok2 = await ledgerRecord(gw.url, 'poison-ok-2', 8000)
      expect(ok2).toMatchObject({ status: 200, requested_model: 'm' })
      const nul = await ledgerRecord(gw.url, 'poison-nul', 2000)
      expect(nul).toMatchObject({ status: 404, error_code: 'model_not_found' })
      expect(nul.requested_model).not.toContain('\u0000')
      const sur = await ledgerRecord(gw.url, 'poison-surrogate', 2000)
      expect(sur).toMatchObject({ status: 404 })
    }, 20_000)

    it('a row the store refuses (a vendor reporting more tokens than a BIGINT holds) is dropped alone', async () => {
      vendor.queue.push(json(200, chatCompletion('ok', 'up-model', { prompt_tokens: 1e20, completion_tokens: 1, total_tokens: 1e20 } as never)))
      expect(await call('poison-huge', 'm')).toBe(200)
      expect(await call('poison-ok-3', 'm')).toBe(200)
      expect(await ledgerRecord(gw.url, 'poison-ok-3', 8000)).toMatchObject({ status: 200 })
      // Every record is accounted for in /metrics: written, or dropped (only where the store refused one).
      const metrics = await (await fetch(`${gw.url}/metrics`)).text()
      const count = (result: string) => Number(new RegExp(`^switchboard_ledger_records_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(metrics)?.[1])
      expect(count('dropped')).toBe(store.name === 'PostgreSQL' ? 1 : 0)
      expect(count('written')).toBe(store.name === 'PostgreSQL' ? 5 : 6)
      expect(metrics).toMatch(/^switchboard_ledger_queued_records 0$/m)
    }, 20_000)
  })
}
