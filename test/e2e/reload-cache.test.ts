/**
 * A config reload keeps the in-memory response cache and the Idempotency-Key records (no Redis,
 * the default). Each runtime used to make its own: after any reload an agent's retry under the
 * same Idempotency-Key, or the same cacheable question, went to the vendor again (billed twice),
 * and so did a duplicate of a call in flight across the reload. The settings themselves (enabled,
 * TTLs, scope) still come from the config in force.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.ts'
import { startStandIn, json, chatCompletion, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-reload-cache-0001'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const slow = (ms: number, handler: Handler): Handler => async (req, res) => {
  await sleep(ms)
  await handler(req, res)
}

describe('a config reload keeps the in-memory cache and Idempotency-Key records', () => {
  let vendor: StandIn
  let gw: TestGateway
  const yaml = (opts: { budget?: number; cache?: string } = {}) => `
store: { url: "sqlite::memory:" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: up-m }], pricing: { input: 1, output: 1 } }
routing: { retries: { max_attempts: 1 } }
cache: ${opts.cache ?? '{ enabled: true }'}
teams:
  t:
    budget: { usd: ${opts.budget ?? 100}, period: monthly }
    keys: { k: { key: "${KEY}" } }
`
  const reload = async (opts: { budget?: number; cache?: string }) => {
    const r = await gw.reload(parseConfig(yaml(opts), 'test.yaml', {}))
    expect(r).toEqual({ applied: true, ignored: [] })
  }
  const seen = (nonce: string) => vendor.received.filter((r) => r.body.includes(nonce)).length
  const call = async (content: string, opts: { idem?: string; temperature?: number } = {}) => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...(opts.idem ? { 'idempotency-key': opts.idem } : {}) },
      body: JSON.stringify({ model: 'm', temperature: opts.temperature ?? 0.7, messages: [{ role: 'user', content }] }),
    })
    return { status: r.status, text: await r.text(), cache: r.headers.get('x-switchboard-cache'), replay: r.headers.get('x-switchboard-idempotent-replay') }
  }

  beforeAll(async () => {
    vendor = await startStandIn()
    gw = await startTestGateway(yaml())
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  it('an Idempotency-Key retry after a reload replays the first answer', async () => {
    const n = randomUUID()
    const idem = randomUUID()
    vendor.queue.push(json(200, chatCompletion(`answer ${n}`)))
    const first = await call(n, { idem })
    expect([first.status, first.cache]).toEqual([200, 'miss'])
    await sleep(50) // the record is written once the first client has its answer
    await reload({ budget: 102 })
    const retry = await call(n, { idem })
    expect([retry.status, retry.cache, retry.replay]).toEqual([200, 'hit', 'true'])
    expect(retry.text).toBe(first.text)
    expect(seen(n)).toBe(1)
  })

  it('a duplicate of a call in flight across a reload waits for it: one vendor call', async () => {
    const n = randomUUID()
    const idem = randomUUID()
    vendor.queue.push(slow(600, json(200, chatCompletion(`answer ${n}`))))
    const first = call(n, { idem })
    await expect.poll(() => seen(n)).toBe(1)
    await reload({ budget: 103 })
    const duplicate = await call(n, { idem })
    const a = await first
    expect([a.status, a.cache]).toEqual([200, 'miss'])
    expect([duplicate.status, duplicate.cache, duplicate.replay]).toEqual([200, 'hit', 'true'])
    expect(duplicate.text).toBe(a.text)
    expect(seen(n)).toBe(1)
  })

  it('a cached answer stays cached across a reload; the reloaded settings apply to it', async () => {
    const n = randomUUID()
    vendor.queue.push(json(200, chatCompletion(`answer ${n}`)))
    const first = await call(n, { temperature: 0 })
    expect([first.status, first.cache]).toEqual([200, 'miss'])
    await sleep(50)
    // A smaller max_bytes that still holds it: the entry is kept, not dropped with the old bound.
    await reload({ budget: 104, cache: '{ enabled: true, max_bytes: 1048576 }' })
    const again = await call(n, { temperature: 0 })
    expect([again.status, again.cache]).toEqual([200, 'hit'])
    expect(again.text).toBe(first.text)
    expect(seen(n)).toBe(1)
    // The cache switched off by a reload is off, whatever it holds.
    await reload({ budget: 105, cache: '{ enabled: false }' })
    vendor.queue.push(json(200, chatCompletion(`fresh ${n}`)))
    const off = await call(n, { temperature: 0 })
    expect([off.status, off.cache]).toEqual([200, 'bypass'])
    expect(seen(n)).toBe(2)
  })
})
