/**
 * PostgreSQL that stops answering without closing anything (a stalled server, a half-open path):
 * behind a freezable TCP proxy, the gateway keeps serving (keys from memory, ledger rows queued),
 * catches the ledger up once the store answers again, and still shuts down within a bound while
 * the store is frozen.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startFreezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.ts'
import { PG_BASE, pgAvailable } from '../helpers/services.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const KEY = 'sk-sb-frozen-store-key-0001'
const tempDir = tempDirs()

describe.skipIf(!pgAvailable)('a frozen PostgreSQL', () => {
  let vendor: StandIn
  let proxy: FreezableProxy
  let gw: TestGateway | undefined
  const schema = `sbtest_${runId()}_frozen`
  const spillDir = tempDir('sb-frozen-spill-')
  const rows = async (): Promise<string[]> => {
    const c = new pg.Client({ connectionString: PG_BASE })
    await c.connect()
    try {
      const r = await c.query<{ request_id: string }>(`SELECT request_id FROM ${schema}.ledger ORDER BY id`)
      return r.rows.map((x) => x.request_id)
    } finally {
      await c.end()
    }
  }
  const ask = async (id: string) => {
    const t0 = performance.now()
    const r = await fetch(`${gw!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    })
    await r.text()
    return { status: r.status, ms: performance.now() - t0 }
  }

  beforeAll(async () => {
    vendor = await startStandIn(json(200, chatCompletion('ok', 'up-model')))
    proxy = await startFreezableProxy(5432)
    gw = await startTestGateway(`
store: { url: "postgres://postgres@127.0.0.1:${proxy.port}/test?schema=${schema}", ledger_spill_dir: "${spillDir}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: up-model }], pricing: { input: 1, output: 1 } }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    budget: { usd: 100, period: monthly }
    keys: { k: { key: "${KEY}" } }
`)
  })
  afterAll(async () => {
    proxy?.thaw()
    await gw?.stop()
    await vendor?.close()
    await proxy?.close()
    const c = new pg.Client({ connectionString: PG_BASE })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
  })

  it('requests are served while it is frozen, and the ledger catches up once it answers', async () => {
    expect((await ask('frozen-0')).status).toBe(200)
    await expect.poll(rows, { timeout: 5000 }).toEqual(['frozen-0'])
    proxy.freeze()
    const during = [await ask('frozen-1'), await ask('frozen-2'), await ask('frozen-3')]
    expect(during.map((r) => r.status)).toEqual([200, 200, 200])
    // A hang detector, not a speed goal: nothing on the request path waits for the store.
    for (const r of during) expect(r.ms).toBeLessThan(2000)
    // Long enough for a flush to be stuck on the frozen connection.
    await new Promise((r) => setTimeout(r, 1500))
    proxy.thaw()
    await expect.poll(rows, { timeout: 20_000, interval: 250 }).toEqual(['frozen-0', 'frozen-1', 'frozen-2', 'frozen-3'])
  }, 30_000)

  it('shutdown finishes within a bound while the store is frozen', async () => {
    expect((await ask('frozen-4')).status).toBe(200)
    proxy.freeze()
    const t0 = performance.now()
    await gw!.shutdown(500)
    gw = undefined
    expect(performance.now() - t0).toBeLessThan(15_000)
    // The row the frozen store never took is in a spill file for the next start.
    const files = readdirSync(spillDir).filter((f) => f.endsWith('.ndjson'))
    expect(files).toHaveLength(1)
    expect(readFileSync(join(spillDir, files[0]!), 'utf8')).toContain('"frozen-4"')
  }, 30_000)
})
