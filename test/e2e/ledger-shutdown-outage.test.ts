/**
 * Shutdown while PostgreSQL refuses connections (restarting, failing over: the usual outage at
 * rollout time). The real PostgreSQL sits behind a proxy that can be cut. The ledger keeps trying
 * for the rest of the shutdown grace, so a store back within it gets every queued row; rows it
 * still has not taken then are spilled to a local file, which the next start writes to the store,
 * once only, however many times it is replayed.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startFreezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.ts'
import { PG_BASE, pgAvailable } from '../helpers/services.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const KEY = 'sk-sb-ledger-outage-key-0001'
const tempDir = tempDirs()

describe.skipIf(!pgAvailable)('the ledger at shutdown while PostgreSQL refuses connections', () => {
  let vendor: StandIn
  let proxy: FreezableProxy
  let gw: TestGateway | undefined
  const schema = `sbtest_${runId()}_ledger_outage`
  let spillDir: string

  const start = () => startTestGateway(`
store: { url: "postgres://postgres@127.0.0.1:${proxy.port}/test?schema=${schema}", ledger_spill_dir: "${spillDir}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: up-model }], pricing: { input: 1, output: 1 } }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    keys: { k: { key: "${KEY}" } }
`)
  const rows = async (): Promise<string[]> => {
    const c = new pg.Client({ connectionString: PG_BASE })
    await c.connect()
    try {
      const r = await c.query<{ request_id: string }>(`SELECT request_id FROM ${schema}.ledger`)
      return r.rows.map((x) => x.request_id).sort()
    } finally {
      await c.end()
    }
  }
  const ask = async (id: string) => {
    const r = await fetch(`${gw!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    })
    await r.text()
    return r.status
  }
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`)
  const spillFiles = () => readdirSync(spillDir).filter((f) => f.endsWith('.ndjson'))

  beforeAll(async () => {
    spillDir = tempDir('sb-ledger-spill-')
    vendor = await startStandIn(json(200, chatCompletion('ok', 'up-model')))
    proxy = await startFreezableProxy(5432)
    gw = await start()
  })
  afterAll(async () => {
    await proxy?.restore()
    await gw?.stop()
    await vendor?.close()
    await proxy?.close()
    const c = new pg.Client({ connectionString: PG_BASE })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
  })

  it('keeps trying within the grace period: a store back after 2 s gets every queued row', { timeout: 30_000 }, async () => {
    expect(await ask('a-first')).toBe(200)
    await expect.poll(rows, { timeout: 5000 }).toEqual(['a-first'])
    await proxy.cut()
    const during = ids('a', 20)
    for (const id of during) expect(await ask(id)).toBe(200)
    const back = setTimeout(() => void proxy.restore(), 2000)
    const t0 = performance.now()
    await gw!.shutdown(15_000)
    gw = undefined
    clearTimeout(back)
    // It waited for the store (it used to give up after two tries 200 ms apart) and no longer than needed.
    expect(performance.now() - t0).toBeGreaterThan(1900)
    expect(performance.now() - t0).toBeLessThan(12_000)
    expect(await rows()).toEqual([...during, 'a-first'].sort())
    expect(spillFiles()).toEqual([])
  })

  it('spills what the store has not taken by the end of the grace, and the next start writes it once', { timeout: 40_000 }, async () => {
    await proxy.restore()
    gw = await start()
    expect(await ask('b-first')).toBe(200)
    await expect.poll(rows, { timeout: 5000 }).toContain('b-first')
    await proxy.cut()
    const during = ids('b', 10)
    for (const id of during) expect(await ask(id)).toBe(200)
    await gw.shutdown(1000)
    gw = undefined
    const written = await rows()
    expect(written.filter((r) => r.startsWith('b-'))).toEqual(['b-first'])

    // One file, only this user may read it, and it names the store it belongs to (not its host or password).
    const [file] = spillFiles()
    expect(spillFiles()).toHaveLength(1)
    const path = join(spillDir, file!)
    const text = readFileSync(path, 'utf8')
    expect(JSON.parse(text.split('\n')[0]!)).toMatchObject({ format: 'switchboard-ledger-spill', version: 1, store: `test/${schema}` })
    expect(text.trim().split('\n')).toHaveLength(1 + during.length)

    // The next start (the store is back) writes the rows and deletes the file.
    await proxy.restore()
    gw = await start()
    await expect.poll(rows, { timeout: 10_000 }).toEqual([...written, ...during].sort())
    await expect.poll(() => existsSync(path), { timeout: 5000 }).toBe(false)
    const all = await rows()

    // A replay cut short after its commit (the file still there): replayed again, nothing is written twice.
    writeFileSync(path, text)
    await gw.stop()
    gw = await start()
    await expect.poll(() => existsSync(path), { timeout: 10_000 }).toBe(false)
    expect(await rows()).toEqual(all)
    expect(gw.logs.some((l) => l.includes('"written":0') && l.includes('"skipped":10'))).toBe(true)
  })
})
