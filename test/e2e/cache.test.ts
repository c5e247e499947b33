/**
 * The response cache end to end, through the real gateway and the official SDKs, in both backends
 * (process memory, and a real Redis with a per-run key prefix). The vendor stand-in counts what
 * reached it: a hit is a request the vendor never saw.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { startStandIn, json, sse, chatChunks, chatCompletion, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { REDIS_URL, redisAvailable } from '../helpers/services.ts'

const redisUp = redisAvailable

/** Redis connects in the background after start; until then the cache reads as a miss by design. */
async function redisReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const body = await (await fetch(`${url}/readyz`)).text()
    if (!body.includes('"redis":"down"') && !body.includes('"redis":"connecting"')) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('the gateway never connected to Redis')
}

const KEY_A1 = 'sk-sb-cache-a1'
const KEY_A2 = 'sk-sb-cache-a2'
const KEY_B1 = 'sk-sb-cache-b1'
const KEY_OFF = 'sk-sb-cache-off'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Stores happen just after the response is sent; give them a moment before the repeat. */
const settle = () => sleep(60)

function configYaml(vendorUrl: string, redisUrl: string, extra = ''): string {
  return `
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"] }
  mock: { type: mock }
models:
  mocked: { targets: [{ provider: mock, model: mock-1 }] }
  gpt: { targets: [{ provider: up, model: upstream-model }] }
  emb: { targets: [{ provider: up, model: text-embedding-3-small }] }
  short: { targets: [{ provider: up, model: upstream-model }], cache: { ttl_ms: 300 } }
  nocache: { targets: [{ provider: up, model: upstream-model }], cache: { enabled: false } }
routing: { retries: { max_attempts: 1 } }
store: { url: "sqlite::memory:" }
redis: { url: "${redisUrl}", key_prefix: "sbtest:${runId()}:" }
teams:
  a: { keys: { a1: { key: "${KEY_A1}" }, a2: { key: "${KEY_A2}" } } }
  b: { keys: { b1: { key: "${KEY_B1}" } } }
  off: { cache: false, keys: { o1: { key: "${KEY_OFF}" } } }
${extra}
`
}

const CACHE_ON = 'cache: { enabled: true, mode: deterministic, ttl_ms: 60000 }'

for (const backend of ['memory', 'redis'] as const) {
  describe.skipIf(backend === 'redis' && !redisUp)(`response cache (${backend})`, () => {
    let vendor: StandIn
    let gw: TestGateway
    let a1: OpenAI
    let a2: OpenAI
    let b1: OpenAI

    beforeAll(async () => {
      vendor = await startStandIn()
      gw = await startTestGateway(configYaml(vendor.url, backend === 'redis' ? REDIS_URL : '', CACHE_ON))
      if (backend === 'redis') await redisReady(gw.url)
      const client = (key: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 })
      a1 = client(KEY_A1)
      a2 = client(KEY_A2)
      b1 = client(KEY_B1)
    })
    afterAll(async () => {
      await gw?.stop()
      await vendor?.close()
    })

    /** Requests the vendor received that contain this text. */
    const seen = (nonce: string) => vendor.received.filter((r) => r.body.includes(nonce)).length
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A1}`, 'content-type': 'application/json', ...headers }, body })

    it('non-streamed chat: the repeat is a hit the vendor never sees, same body, zero cost', async () => {
      const n = randomUUID()
      const req = { model: 'gpt', temperature: 0, messages: [{ role: 'user' as const, content: `hello ${n}` }] }
      const first = await a1.chat.completions.create(req).withResponse()
      await settle()
      const second = await a1.chat.completions.create(req).withResponse()
      expect(seen(n)).toBe(1)
      expect(first.response.headers.get('x-switchboard-cache')).toBe('miss')
      expect(second.response.headers.get('x-switchboard-cache')).toBe('hit')
      expect(second.response.headers.get('x-switchboard-cost-usd')).toBe('0')
      expect(second.response.headers.get('x-switchboard-attempts')).toBe('0')
      expect(second.response.headers.get('x-switchboard-provider')).toBe('up')
      expect(second.response.headers.get('x-switchboard-model')).toBe('upstream-model')
      expect(second.response.headers.get('x-request-id')).not.toBe(first.response.headers.get('x-request-id'))
      expect(second.data).toEqual(first.data)
      expect(second.data.choices[0]?.message.content).toBe('Hello from the stand-in')
    })

    it('an identical call sent the moment a stream ends waits for its entry to land: a hit, not a second vendor call', async () => {
      // A stream's entry is written after its last byte reached the client, so the repeat can arrive first.
      const results: string[] = []
      for (let i = 0; i < 12; i++) {
        const n = randomUUID()
        const req = { model: 'gpt', temperature: 0, stream: true as const, messages: [{ role: 'user' as const, content: `again ${n} ${'words '.repeat(300)}` }] }
        for (let round = 0; round < 2; round++) {
          const { data, response } = await a1.chat.completions.create(req).withResponse()
          for await (const _chunk of data) { /* read to the end */ }
          results.push(response.headers.get('x-switchboard-cache') ?? '')
        }
        expect(seen(n)).toBe(1)
      }
      expect(results).toEqual(Array.from({ length: 12 }, () => ['miss', 'hit']).flat())
    })

    it('streamed chat: replayed as a stream with the same chunks', async () => {
      const n = randomUUID()
      const req = { model: 'gpt', temperature: 0, stream: true as const, messages: [{ role: 'user' as const, content: `stream ${n}` }] }
      const run = async () => {
        const { data, response } = await a1.chat.completions.create(req).withResponse()
        const chunks = []
        for await (const c of data) chunks.push(c)
        return { chunks, cache: response.headers.get('x-switchboard-cache'), type: response.headers.get('content-type') }
      }
      const first = await run()
      await settle()
      const second = await run()
      expect(seen(n)).toBe(1)
      expect([first.cache, second.cache]).toEqual(['miss', 'hit'])
      expect(second.type).toBe(first.type)
      expect(second.chunks).toEqual(first.chunks)
      expect(second.chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the stand-in')
      expect(second.chunks.length).toBeGreaterThan(3)
    })

    it('stream replay is byte-for-byte the original, frame by frame; include_usage is its own entry', async () => {
      const n = randomUUID()
      const raw = async (usage: boolean) => {
        const body = { model: 'gpt', temperature: 0, stream: true, messages: [{ role: 'user', content: `raw ${n}` }], ...(usage ? { stream_options: { include_usage: true } } : {}) }
        const r = await post('/v1/chat/completions', JSON.stringify(body))
        return { text: await r.text(), cache: r.headers.get('x-switchboard-cache') }
      }
      const plain1 = await raw(false)
      await settle()
      const plain2 = await raw(false)
      const usage1 = await raw(true)
      await settle()
      const usage2 = await raw(true)
      expect([plain1.cache, plain2.cache, usage1.cache, usage2.cache]).toEqual(['miss', 'hit', 'miss', 'hit'])
      expect(seen(n)).toBe(2)
      expect(plain2.text).toBe(plain1.text)
      expect(usage2.text).toBe(usage1.text)
      expect(plain1.text.endsWith('data: [DONE]\n\n')).toBe(true)
      expect(plain1.text).not.toContain('"usage"')
      expect(usage2.text).toContain('"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15')
      expect(plain2.text.split('\n\n').length).toBe(plain1.text.split('\n\n').length)
    })

    it('canonical key: reordered JSON keys and different whitespace hit the same entry', async () => {
      const n = randomUUID()
      const r1 = await post('/v1/chat/completions', `{"model":"gpt","temperature":0,"messages":[{"role":"user","content":"canon ${n}"}]}`)
      await r1.text()
      await settle()
      const r2 = await post('/v1/chat/completions', `{\n  "messages": [ { "content": "canon ${n}", "role": "user" } ],\n  "temperature": 0,   "model": "gpt", "user": "someone-else"\n}`)
      expect(r2.headers.get('x-switchboard-cache')).toBe('hit')
      expect(await r2.json()).toEqual(chatCompletion('Hello from the stand-in', 'upstream-model'))
      expect(seen(n)).toBe(1)
    })

    it('tenant isolation: team B never gets team A\'s entry; another key of team A does', async () => {
      const n = randomUUID()
      vendor.queue.push(json(200, chatCompletion(`only for team a ${n}`)))
      const req = { model: 'gpt', temperature: 0, messages: [{ role: 'user' as const, content: `tenant ${n}` }] }
      const a = await a1.chat.completions.create(req)
      await settle()
      vendor.queue.push(json(200, chatCompletion(`team b answer ${n}`)))
      const b = await b1.chat.completions.create(req).withResponse()
      const a2r = await a2.chat.completions.create(req).withResponse()
      expect(a.choices[0]?.message.content).toBe(`only for team a ${n}`)
      expect(b.response.headers.get('x-switchboard-cache')).toBe('miss')
      expect(b.data.choices[0]?.message.content).toBe(`team b answer ${n}`)
      expect(a2r.response.headers.get('x-switchboard-cache')).toBe('hit')
      expect(a2r.data.choices[0]?.message.content).toBe(`only for team a ${n}`)
      expect(seen(n)).toBe(2)
    })

    it('only deterministic requests by default: no temperature means no caching', async () => {
      const n = randomUUID()
      const req = { model: 'gpt', messages: [{ role: 'user' as const, content: `sampled ${n}` }] }
      const r1 = await a1.chat.completions.create(req).withResponse()
      await settle()
      const r2 = await a1.chat.completions.create(req).withResponse()
      expect([r1.response.headers.get('x-switchboard-cache'), r2.response.headers.get('x-switchboard-cache')]).toEqual(['bypass', 'bypass'])
      expect(seen(n)).toBe(2)
    })

    it('embeddings are cached without a temperature', async () => {
      const n = randomUUID()
      const body = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 3, total_tokens: 3 } }
      vendor.queue.push(json(200, body))
      const e1 = await a1.embeddings.create({ model: 'emb', input: `embed ${n}`, encoding_format: 'float' }).withResponse()
      await settle()
      const e2 = await a1.embeddings.create({ model: 'emb', input: `embed ${n}`, encoding_format: 'float' }).withResponse()
      expect(e2.response.headers.get('x-switchboard-cache')).toBe('hit')
      expect(e2.data.data[0]?.embedding).toEqual([0.1, -0.2, 0.3])
      expect(e2.data).toEqual(e1.data)
      expect(seen(n)).toBe(1)
    })

    it('x-switchboard-cache-ttl-ms makes a sampled request eligible, for that long', async () => {
      const n = randomUUID()
      const body = JSON.stringify({ model: 'gpt', temperature: 0.9, messages: [{ role: 'user', content: `ttl header ${n}` }] })
      const h = { 'x-switchboard-cache-ttl-ms': '250' }
      const r1 = await post('/v1/chat/completions', body, h)
      await r1.text()
      await settle()
      const r2 = await post('/v1/chat/completions', body, h)
      await r2.text()
      await sleep(350)
      const r3 = await post('/v1/chat/completions', body, h)
      await r3.text()
      expect([r1, r2, r3].map((r) => r.headers.get('x-switchboard-cache'))).toEqual(['miss', 'hit', 'miss'])
      expect(seen(n)).toBe(2)
      const bad = await post('/v1/chat/completions', body, { 'x-switchboard-cache-ttl-ms': 'soon' })
      expect(bad.status).toBe(400)
      expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('x-switchboard-cache-ttl-ms')
    })

    it('per-model ttl_ms: the entry expires', async () => {
      const n = randomUUID()
      const req = { model: 'short', temperature: 0, messages: [{ role: 'user' as const, content: `expiry ${n}` }] }
      const r1 = await a1.chat.completions.create(req).withResponse()
      await settle()
      const r2 = await a1.chat.completions.create(req).withResponse()
      await sleep(400)
      const r3 = await a1.chat.completions.create(req).withResponse()
      expect([r1, r2, r3].map((r) => r.response.headers.get('x-switchboard-cache'))).toEqual(['miss', 'hit', 'miss'])
      expect(seen(n)).toBe(2)
    })

    it('Cache-Control: no-cache answers fresh but stores; no-store neither looks up nor stores', async () => {
      const n = randomUUID()
      const body = JSON.stringify({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: `cc ${n}` }] })
      const send = async (cc?: string) => {
        const r = await post('/v1/chat/completions', body, cc ? { 'cache-control': cc } : {})
        await r.text()
        await settle()
        return r.headers.get('x-switchboard-cache')
      }
      expect(await send('no-store')).toBe('bypass') // vendor 1, nothing stored
      expect(await send()).toBe('miss') // vendor 2, stored
      expect(await send('no-store')).toBe('bypass') // vendor 3: no lookup
      expect(await send('no-cache')).toBe('miss') // vendor 4: no lookup, stores again
      expect(await send()).toBe('hit')
      expect(seen(n)).toBe(4)

      const m = randomUUID()
      const fresh = JSON.stringify({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: `nc ${m}` }] })
      const r1 = await post('/v1/chat/completions', fresh, { 'cache-control': 'no-cache' })
      await r1.text()
      await settle()
      const r2 = await post('/v1/chat/completions', fresh)
      await r2.text()
      expect([r1.headers.get('x-switchboard-cache'), r2.headers.get('x-switchboard-cache')]).toEqual(['miss', 'hit'])
      expect(seen(m)).toBe(1)
    })

    it('per-team and per-model switches turn it off', async () => {
      const n = randomUUID()
      const off = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_OFF, maxRetries: 0 })
      const req = { model: 'gpt', temperature: 0, messages: [{ role: 'user' as const, content: `off ${n}` }] }
      const r1 = await off.chat.completions.create(req).withResponse()
      await settle()
      const r2 = await off.chat.completions.create(req).withResponse()
      const m1 = await a1.chat.completions.create({ ...req, model: 'nocache' }).withResponse()
      await settle()
      const m2 = await a1.chat.completions.create({ ...req, model: 'nocache' }).withResponse()
      expect([r1, r2, m1, m2].map((r) => r.response.headers.get('x-switchboard-cache'))).toEqual(['bypass', 'bypass', 'bypass', 'bypass'])
      expect(seen(n)).toBe(4)
    })

    it('errors are never cached', async () => {
      for (const status of [400, 500]) {
        const n = randomUUID()
        vendor.queue.push(json(status, { error: { message: `boom ${status}`, type: 'invalid_request_error', code: null } }))
        const body = JSON.stringify({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: `err ${n}` }] })
        const r1 = await post('/v1/chat/completions', body)
        await r1.text()
        await settle()
        const r2 = await post('/v1/chat/completions', body)
        expect(r1.status).toBe(status === 400 ? 400 : 502)
        expect(r2.status).toBe(200)
        expect(r2.headers.get('x-switchboard-cache')).toBe('miss')
        expect(seen(n)).toBe(2)
      }
    })

    it('a stream cut mid-way is not cached', async () => {
      const n = randomUUID()
      const cut: Handler = async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const chunks = chatChunks(['partial ', 'answer ', 'never ', 'finished'])
        res.write(`data: ${JSON.stringify(chunks[0])}\n\n`)
        res.write(`data: ${JSON.stringify(chunks[1])}\n\n`)
        await sleep(20)
        res.socket?.destroy()
      }
      vendor.queue.push(cut)
      const body = JSON.stringify({ model: 'gpt', temperature: 0, stream: true, messages: [{ role: 'user', content: `cut ${n}` }] })
      const r1 = await post('/v1/chat/completions', body)
      const t1 = await r1.text()
      expect(t1).toContain('partial ')
      expect(t1).toContain('"error"')
      await settle()
      const r2 = await post('/v1/chat/completions', body)
      const t2 = await r2.text()
      expect(r2.headers.get('x-switchboard-cache')).toBe('miss')
      expect(t2).toContain('Hello ')
      expect(seen(n)).toBe(2)
    })

    it('a stream that ends cleanly without a finish reason is not cached', async () => {
      const n = randomUUID()
      vendor.queue.push(sse(chatChunks(['half ']).slice(0, 2), { done: false }))
      const body = JSON.stringify({ model: 'gpt', temperature: 0, stream: true, messages: [{ role: 'user', content: `trunc ${n}` }] })
      const r1 = await post('/v1/chat/completions', body)
      await r1.text()
      await settle()
      const r2 = await post('/v1/chat/completions', body)
      await r2.text()
      expect(r2.headers.get('x-switchboard-cache')).toBe('miss')
      expect(seen(n)).toBe(2)
    })

    it('Anthropic /v1/messages is cached too, apart from the same question on /v1/chat/completions', async () => {
      // A mock target: the Anthropic ingress translates to and from OpenAI Chat.
      const n = randomUUID()
      const anthropic = new Anthropic({ baseURL: gw.url, apiKey: KEY_A1, maxRetries: 0 })
      const req = { model: 'mocked', max_tokens: 50, temperature: 0, messages: [{ role: 'user' as const, content: `claude ${n}` }] }
      const m1 = await anthropic.messages.create(req).withResponse()
      await settle()
      const m2 = await anthropic.messages.create(req).withResponse()
      expect(m1.response.headers.get('x-switchboard-cache')).toBe('miss')
      expect(m2.response.headers.get('x-switchboard-cache')).toBe('hit')
      expect(m2.response.headers.get('x-switchboard-attempts')).toBe('0')
      expect(m2.data).toEqual(m1.data)
      expect(m2.data.type).toBe('message')
      expect(m2.data.content[0]).toEqual({ type: 'text', text: `This is the mock model answering: claude ${n}` })

      const s = async () => {
        const r = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': KEY_A1, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: JSON.stringify({ ...req, stream: true }) })
        return { text: await r.text(), cache: r.headers.get('x-switchboard-cache') }
      }
      const s1 = await s()
      await settle()
      const s2 = await s()
      expect([s1.cache, s2.cache]).toEqual(['miss', 'hit'])
      expect(s2.text).toBe(s1.text)
      expect(s1.text).toContain('event: message_stop')
      expect(s1.text.startsWith('event: message_start')).toBe(true)
      const events: string[] = []
      for await (const e of anthropic.messages.stream(req)) events.push(e.type)
      expect(events[0]).toBe('message_start')
      expect(events.at(-1)).toBe('message_stop')

      // The same words on the OpenAI ingress are a different entry (a different response shape).
      const o = await a1.chat.completions.create({ model: 'mocked', max_tokens: 50, temperature: 0, messages: [{ role: 'user', content: `claude ${n}` }] }).withResponse()
      expect(o.response.headers.get('x-switchboard-cache')).toBe('miss')
      expect(o.data.object).toBe('chat.completion')
    })
  })
}

describe('cache scope', () => {
  let vendor: StandIn
  let gw: TestGateway
  beforeAll(async () => {
    vendor = await startStandIn()
    gw = await startTestGateway(configYaml(vendor.url, '', 'cache: { enabled: true, scope: key }'))
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  it('scope key: one key\'s entry is not served to another key of the same team', async () => {
    const n = randomUUID()
    const req = { model: 'gpt', temperature: 0, messages: [{ role: 'user' as const, content: `scope ${n}` }] }
    const c1 = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_A1, maxRetries: 0 })
    const c2 = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_A2, maxRetries: 0 })
    const r1 = await c1.chat.completions.create(req).withResponse()
    await settle()
    const r2 = await c2.chat.completions.create(req).withResponse()
    const r3 = await c1.chat.completions.create(req).withResponse()
    expect([r1, r2, r3].map((r) => r.response.headers.get('x-switchboard-cache'))).toEqual(['miss', 'miss', 'hit'])
    expect(vendor.received.filter((r) => r.body.includes(n)).length).toBe(2)
  })

  it('cache disabled (the default): every request is a bypass', async () => {
    const v = await startStandIn()
    const g = await startTestGateway(configYaml(v.url, ''))
    try {
      const c = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: KEY_A1, maxRetries: 0 })
      const req = { model: 'gpt', temperature: 0, messages: [{ role: 'user' as const, content: 'x' }] }
      const r1 = await c.chat.completions.create(req).withResponse()
      await settle()
      const r2 = await c.chat.completions.create(req).withResponse()
      expect([r1, r2].map((r) => r.response.headers.get('x-switchboard-cache'))).toEqual(['bypass', 'bypass'])
      expect(v.received.length).toBe(2)
    } finally {
      await g.stop()
      await v.close()
    }
  })
})
