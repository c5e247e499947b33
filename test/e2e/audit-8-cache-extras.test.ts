/**
 * Issue 8 acceptance, the points the main cache suite leaves out: the per-key switch, the global
 * scope, /v1/completions, the memory backend's byte bound (LRU eviction), and bodies stored
 * compressed in the real Redis when that pays (and as is when it does not).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { startStandIn, json, sse, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { REDIS_URL } from './ledger-support.ts'
import { fromWire } from '../../src/cache/entry-codec.ts'
import { redisAvailable } from '../helpers/services.ts'

const redisUp = redisAvailable

const KEY_A1 = 'sk-sb-audit8-a1'
const KEY_A2 = 'sk-sb-audit8-a2-nocache'
const KEY_B1 = 'sk-sb-audit8-b1'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Stores happen just after the response is sent. */
const settle = () => sleep(60)

const yaml = (vendorUrl: string, cache: string, redis = '') => `
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"] }
models:
  gpt: { targets: [{ provider: up, model: upstream-model }] }
routing: { retries: { max_attempts: 1 } }
store: { url: "sqlite::memory:" }
${redis}
teams:
  a: { keys: { a1: { key: "${KEY_A1}" }, a2: { key: "${KEY_A2}", cache: false } } }
  b: { keys: { b1: { key: "${KEY_B1}" } } }
cache: ${cache}
`

async function post(base: string, key: string, path: string, body: unknown): Promise<{ status: number; cache: string | null; text: string }> {
  const r = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: r.status, cache: r.headers.get('x-switchboard-cache'), text: await r.text() }
}
const ask = (base: string, key: string, content: string) => post(base, key, '/v1/chat/completions', { model: 'gpt', temperature: 0, messages: [{ role: 'user', content }] })

describe('cache switches and scopes (memory backend)', () => {
  let vendor: StandIn
  let gw: TestGateway
  let global: TestGateway
  beforeAll(async () => {
    vendor = await startStandIn()
    gw = await startTestGateway(yaml(vendor.url, '{ enabled: true }'))
    global = await startTestGateway(yaml(vendor.url, '{ enabled: true, scope: global }'))
  })
  afterAll(async () => {
    await gw?.stop()
    await global?.stop()
    await vendor?.close()
  })
  const seen = (n: string) => vendor.received.filter((r) => r.body.includes(n)).length

  it('a key with cache: false bypasses both ways; its team-mates still share the team entry', async () => {
    const n = randomUUID()
    const r1 = await ask(gw.url, KEY_A2, n)
    await settle()
    const r2 = await ask(gw.url, KEY_A2, n)
    expect([r1.cache, r2.cache]).toEqual(['bypass', 'bypass'])
    expect(seen(n)).toBe(2)
    // a2 stored nothing: a1's first ask is a miss, its second a hit.
    const r3 = await ask(gw.url, KEY_A1, n)
    await settle()
    const r4 = await ask(gw.url, KEY_A1, n)
    expect([r3.cache, r4.cache]).toEqual(['miss', 'hit'])
    // And a2 is never served a1's entry.
    expect((await ask(gw.url, KEY_A2, n)).cache).toBe('bypass')
    expect(seen(n)).toBe(4)
  })

  it('scope: global shares one entry across teams; the default (team) does not', async () => {
    const n = randomUUID()
    const g1 = await ask(global.url, KEY_A1, n)
    await settle()
    const g2 = await ask(global.url, KEY_B1, n)
    expect([g1.cache, g2.cache]).toEqual(['miss', 'hit'])
    expect(g2.text).toBe(g1.text)
    const t1 = await ask(gw.url, KEY_A1, n)
    await settle()
    const t2 = await ask(gw.url, KEY_B1, n)
    expect([t1.cache, t2.cache]).toEqual(['miss', 'miss'])
    expect(seen(n)).toBe(3)
  })

  it('/v1/completions is cached too', async () => {
    const n = randomUUID()
    const body = { model: 'gpt', temperature: 0, prompt: `complete ${n}` }
    const r1 = await post(gw.url, KEY_A1, '/v1/completions', body)
    await settle()
    const r2 = await post(gw.url, KEY_A1, '/v1/completions', body)
    expect([r1.status, r2.status]).toEqual([200, 200])
    expect([r1.cache, r2.cache]).toEqual(['miss', 'hit'])
    expect(r2.text).toBe(r1.text)
    expect(seen(n)).toBe(1)
  })
})

describe('stream replay with tool-call deltas', () => {
  let vendor: StandIn
  let gw: TestGateway
  beforeAll(async () => {
    vendor = await startStandIn()
    gw = await startTestGateway(yaml(vendor.url, '{ enabled: true }'))
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  it('the hit replays every tool-call delta event as the original sent it, usage chunk included', async () => {
    const base = { id: 'chatcmpl-tc', object: 'chat.completion.chunk', created: 1, model: 'upstream-model' }
    const events = [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'other', arguments: '{}' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      { ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 } },
    ]
    vendor.queue.push(sse(events))
    const n = randomUUID()
    const body = { model: 'gpt', temperature: 0, stream: true, stream_options: { include_usage: true }, tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }], messages: [{ role: 'user', content: `tools ${n}` }] }
    const r1 = await post(gw.url, KEY_A1, '/v1/chat/completions', body)
    await settle()
    const r2 = await post(gw.url, KEY_A1, '/v1/chat/completions', body)
    expect([r1.cache, r2.cache]).toEqual(['miss', 'hit'])
    expect(vendor.received.filter((r) => r.body.includes(n))).toHaveLength(1)
    const dataOf = (text: string) => text.split('\n\n').filter((f) => f.startsWith('data: ')).map((f) => f.slice(6))
    expect(dataOf(r2.text)).toEqual(dataOf(r1.text))
    // Every vendor event reached the client (as its own SSE event), then [DONE]; the replay is the same list.
    expect(dataOf(r1.text).slice(0, -1).map((d) => JSON.parse(d) as unknown)).toEqual(events)
    expect(dataOf(r1.text).at(-1)).toBe('[DONE]')
  })
})

describe('memory backend bounded in bytes', () => {
  let vendor: StandIn
  beforeAll(async () => {
    // ~700 bytes of body per answer: under the compression threshold, so each entry is ~950 bytes.
    vendor = await startStandIn((req, res) => json(200, chatCompletion(`${JSON.stringify(req.json?.messages)} ${'x'.repeat(500)}`, 'upstream-model'))(req, res))
  })
  afterAll(async () => {
    await vendor?.close()
  })

  const run = async (maxBytes: number): Promise<{ caches: Array<string | null>; upstream: number }> => {
    const gw = await startTestGateway(yaml(vendor.url, `{ enabled: true, max_bytes: ${maxBytes} }`))
    try {
      const a = randomUUID()
      const b = randomUUID()
      const caches: Array<string | null> = []
      for (const n of [a, b, a, a]) {
        caches.push((await ask(gw.url, KEY_A1, n)).cache)
        await settle()
      }
      return { caches, upstream: vendor.received.filter((r) => r.body.includes(a)).length }
    } finally {
      await gw.stop()
    }
  }

  it('room for one entry: a second entry evicts the first (LRU)', async () => {
    expect(await run(1500)).toEqual({ caches: ['miss', 'miss', 'miss', 'hit'], upstream: 2 })
  })

  it('control: with room for both, the first is still there', async () => {
    expect(await run(1_000_000)).toEqual({ caches: ['miss', 'miss', 'hit', 'hit'], upstream: 1 })
  })
})

describe.skipIf(!redisUp)('Redis backend: bodies compressed when that pays', () => {
  let vendor: StandIn
  let gw: TestGateway
  let redis: Redis
  const prefix = `sbtest:${runId()}:`
  beforeAll(async () => {
    vendor = await startStandIn((req, res) => {
      const content = String((req.json?.messages as Array<{ content: string }>)[0]?.content)
      // "big": 40 KB of repetitive text (deflates well). "noise": 2 KB of random base64 (does not).
      const text = content.startsWith('big') ? `${content} ${'the same sentence again. '.repeat(1600)}` : `${content} ${randomBytes(1500).toString('base64')}`
      return json(200, chatCompletion(text, 'upstream-model'))(req, res)
    })
    gw = await startTestGateway(yaml(vendor.url, '{ enabled: true }', `redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }`))
    redis = new Redis(REDIS_URL)
    for (let i = 0; i < 100; i++) {
      if ((await (await fetch(`${gw.url}/readyz`)).text()).includes('"redis":"ok"')) break
      await sleep(20)
    }
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
    if (redis) {
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length) await redis.del(...keys)
      redis.disconnect()
    }
  })

  /** The one cache entry stored since `before` (keys under this run's prefix). */
  const newEntry = async (before: Set<string>) => {
    const keys = (await redis.keys(`${prefix}cache:*`)).filter((k) => !before.has(k))
    expect(keys).toHaveLength(1)
    const raw = await redis.getBuffer(keys[0]!)
    const v = fromWire(raw!)
    if (v?.kind !== 'result') throw new Error('not a stored result')
    return { raw: raw!, meta: v.entry.meta }
  }

  it('a large repetitive body is stored deflated, and the hit returns it byte for byte', async () => {
    const before = new Set(await redis.keys(`${prefix}cache:*`))
    const n = `big ${randomUUID()}`
    const r1 = await ask(gw.url, KEY_A1, n)
    await settle()
    const { raw, meta } = await newEntry(before)
    expect(meta.z).toBe(true)
    expect(meta.size).toBe(Buffer.byteLength(r1.text))
    expect(raw.length).toBeLessThan(meta.size / 10)
    const r2 = await ask(gw.url, KEY_A1, n)
    expect([r1.cache, r2.cache]).toEqual(['miss', 'hit'])
    expect(r2.text).toBe(r1.text)
  })

  it('an incompressible body is stored as is', async () => {
    const before = new Set(await redis.keys(`${prefix}cache:*`))
    const n = `noise ${randomUUID()}`
    const r1 = await ask(gw.url, KEY_A1, n)
    await settle()
    const { raw, meta } = await newEntry(before)
    expect(meta.z).toBe(false)
    expect(meta.size).toBe(Buffer.byteLength(r1.text))
    expect(raw.subarray(raw.length - meta.size).toString('utf8')).toBe(r1.text)
    expect((await ask(gw.url, KEY_A1, n)).text).toBe(r1.text)
  })
})
