/**
 * Retries and fallbacks through the real gateway, with stand-in vendors on loopback injecting
 * 429 (with retry-after), 500, Anthropic's 529, connection resets and context-too-long errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startStandIn, json, chatCompletion, type StandIn, type Handler } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { accessLine, chat } from './routing-fixtures.ts'

let A: StandIn
let B: StandIn
let ANT: StandIn
let gw: TestGateway

const reset: Handler = (_req, res) => { res.socket?.destroy() }
const err = (status: number, message: string, headers: Record<string, string> = {}, code: string | null = null) =>
  json(status, { error: { message, type: status === 429 ? 'rate_limit_error' : 'server_error', param: null, code } }, headers)
const ok = (text: string): Handler => (req, res) => json(200, chatCompletion(text, String(req.json?.model)))(req, res)

beforeAll(async () => {
  A = await startStandIn(ok('from A'))
  B = await startStandIn(ok('from B'))
  ANT = await startStandIn()
  gw = await startTestGateway(`
server: { auth: none }
store: { url: "sqlite::memory:" }
providers:
  a: { type: openai-compatible, base_url: ${A.url}/v1 }
  b: { type: openai-compatible, base_url: ${B.url}/v1 }
  rl: { type: openai, base_url: ${A.url}/v1, keys: ["sk-rl-one-0001"] }
  rl2: { type: openai, base_url: ${A.url}/v1, keys: ["sk-rl2-one-0001", "sk-rl2-two-0002"] }
  rl3: { type: openai, base_url: ${A.url}/v1, keys: ["sk-rl3-one-0001"] }
  ant: { type: anthropic, base_url: ${ANT.url}, keys: ["sk-ant-test-0001"] }
  off: { type: openai, keys: ["\${UNSET_KEY:-}"] }
models:
  two: { targets: [{ provider: a, model: a1, weight: 1 }, { provider: b, model: b1, weight: 0 }] }
  with-fb: { targets: [{ provider: a, model: a-fb }], fallbacks: [solo-b] }
  solo-a: { targets: [{ provider: a, model: a-solo }] }
  solo-b: { targets: [{ provider: b, model: b-solo }] }
  ctx: { targets: [{ provider: a, model: small }], context_window_fallbacks: [big] }
  big: { targets: [{ provider: b, model: large }] }
  rl-solo: { targets: [{ provider: rl, model: rl-m }] }
  rl2-solo: { targets: [{ provider: rl2, model: rl2-m }] }
  rl3-solo: { targets: [{ provider: rl3, model: rl3-m }] }
  rl3-other: { targets: [{ provider: rl3, model: rl3-other-m }] }
  overloaded: { targets: [{ provider: ant, model: claude-x, weight: 1 }, { provider: b, model: b-after-ant, weight: 0 }] }
  ant-solo: { targets: [{ provider: ant, model: claude-solo }] }
  short: { targets: [{ provider: a, model: a-short }], timeouts: { total_ms: 400 } }
  nokey: { targets: [{ provider: off, model: gpt-x }] }
routing:
  retries: { max_attempts: 4, backoff_ms: 20, max_backoff_ms: 1000 }
  circuit_breaker: { failures: 1000 }
`)
})
afterAll(async () => {
  await gw?.stop()
  await Promise.all([A?.close(), B?.close(), ANT?.close()])
})
beforeEach(() => {
  for (const s of [A, B, ANT]) {
    s.queue.length = 0
    s.received.length = 0
  }
})

describe('retries', () => {
  it('a 500 moves to the next target at once; the attempts are recorded', async () => {
    A.queue.push(err(500, 'boom'))
    const r = await chat(gw, 'two')
    expect(r.status).toBe(200)
    expect(r.body.choices?.[0]?.message.content).toBe('from B')
    expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model'), r.h('x-switchboard-attempts')]).toEqual(['b', 'b1', '2'])
    expect(A.received.map((x) => x.json?.model)).toEqual(['a1'])
    expect(B.received.map((x) => x.json?.model)).toEqual(['b1'])
    const line = await accessLine(gw, r.h('x-request-id')!)
    expect(line.attempts).toBe(2)
    expect(line.failedAttempts).toEqual([{ provider: 'a', model: 'a1', status: 500, error: 'server' }])
  })

  it('a connection reset is retried elsewhere', async () => {
    A.queue.push(reset)
    const r = await chat(gw, 'two')
    expect(r.status).toBe(200)
    expect(r.h('x-switchboard-provider')).toBe('b')
    const line = await accessLine(gw, r.h('x-request-id')!)
    expect(line.failedAttempts).toEqual([{ provider: 'a', model: 'a1', error: 'connection_reset' }])
  })

  it("a 429 with retry-after-ms waits that long on the vendor's only key, then succeeds", async () => {
    A.queue.push(err(429, 'slow down', { 'retry-after-ms': '250' }))
    const r = await chat(gw, 'rl-solo')
    expect(r.status).toBe(200)
    expect(r.h('x-switchboard-attempts')).toBe('2')
    expect(A.received).toHaveLength(2)
    expect(r.ms).toBeGreaterThanOrEqual(250)
    expect(r.ms).toBeLessThan(250 + 20 + 400)
  })

  it('a 429 on one vendor key retries at once on another key', async () => {
    A.queue.push(err(429, 'slow down', { 'retry-after': '5' }))
    const r = await chat(gw, 'rl2-solo')
    expect(r.status).toBe(200)
    expect(A.received.map((x) => x.headers.authorization)).toEqual(['Bearer sk-rl2-one-0001', 'Bearer sk-rl2-two-0002'])
    expect(r.ms).toBeLessThan(1000)
  })

  it('a retry-after longer than max_backoff_ms is not slept: the 429 reaches the client with it', async () => {
    A.queue.push(err(429, 'quota', { 'retry-after': '3' }))
    const r = await chat(gw, 'rl3-solo')
    expect(r.status).toBe(429)
    expect(r.h('retry-after')).toBe('3')
    expect(r.body.error?.message).toBe('rl3: quota')
    expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model'), r.h('x-switchboard-attempts')]).toEqual(['rl3', 'rl3-m', '1'])
    expect(A.received).toHaveLength(1)
    expect(r.ms).toBeLessThan(500)
    // The key rests for rl3-m only: the provider's other model is served with it at once.
    const other = await chat(gw, 'rl3-other')
    expect(other.status).toBe(200)
    expect(A.received.at(-1)!.headers.authorization).toBe('Bearer sk-rl3-one-0001')
    expect((await chat(gw, 'rl3-solo')).status).toBe(503)
  })

  it("a retry-after past the model's total deadline stops at once with the vendor's error", async () => {
    A.queue.push(err(503, 'busy', { 'retry-after-ms': '600' }))
    const r = await chat(gw, 'short')
    expect(r.status).toBe(502)
    expect(r.body.error?.code).toBe('upstream_error')
    expect(r.body.error?.message).toBe('The vendor failed (a answered 503): busy')
    expect(A.received).toHaveLength(1)
    expect(r.ms).toBeLessThan(350)
  })

  it("Anthropic's 529 overloaded moves to the next target", async () => {
    ANT.queue.push(json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))
    const r = await chat(gw, 'overloaded')
    expect(r.status).toBe(200)
    expect(r.body.choices?.[0]?.message.content).toBe('from B')
    expect(ANT.received[0]?.path).toBe('/v1/messages')
    const line = await accessLine(gw, r.h('x-request-id')!)
    expect(line.failedAttempts).toEqual([{ provider: 'ant', model: 'claude-x', status: 529, error: 'overloaded' }])
  })

  it('every attempt failing returns the last vendor error as 502, with the headers of the last attempt', async () => {
    ANT.fallback = json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })
    try {
      const r = await chat(gw, 'ant-solo')
      expect(r.status).toBe(502)
      expect(r.body.error).toEqual({ message: 'The vendor failed (ant answered 503): Overloaded', type: 'api_error', param: null, code: 'upstream_error' })
      expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model'), r.h('x-switchboard-attempts')]).toEqual(['ant', 'claude-solo', '4'])
      expect(ANT.received).toHaveLength(4)
      // three backoffs of at most 20, 40 and 80 ms
      expect(r.ms).toBeLessThan(140 + 500)
    } finally {
      ANT.fallback = () => { throw new Error('unused') }
    }
  })

  it("a client's bad request is tried exactly once, even with another target", async () => {
    A.queue.push(json(400, { error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } }))
    const r = await chat(gw, 'two')
    expect(r.status).toBe(400)
    expect(r.body.error).toEqual({ message: "Invalid value for 'temperature'", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' })
    expect(r.h('x-switchboard-attempts')).toBe('1')
    expect(A.received).toHaveLength(1)
    expect(B.received).toHaveLength(0)
  })
})

describe('fallbacks', () => {
  it("when a model's targets are spent, its fallbacks serve", async () => {
    A.queue.push(err(500, 'down'))
    const r = await chat(gw, 'with-fb')
    expect(r.status).toBe(200)
    expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model'), r.h('x-switchboard-attempts')]).toEqual(['b', 'b-solo', '2'])
  })

  it('a prompt too long goes to the context-window fallbacks, not a retry', async () => {
    A.queue.push(json(400, { error: { message: "This model's maximum context length is 8192 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }))
    const r = await chat(gw, 'ctx')
    expect(r.status).toBe(200)
    expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model')]).toEqual(['b', 'large'])
    expect(A.received).toHaveLength(1)
    expect(B.received.map((x) => x.json?.model)).toEqual(['large'])
  })

  it('x-switchboard-fallbacks adds fallbacks for one request', async () => {
    A.queue.push(err(500, 'down'))
    const r = await chat(gw, 'solo-a', { headers: { 'x-switchboard-fallbacks': 'solo-b' } })
    expect(r.status).toBe(200)
    expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model')]).toEqual(['b', 'b-solo'])
    expect(A.received).toHaveLength(1)
  })
})

describe('nothing can serve', () => {
  it('a provider without a key: 503 no_healthy_upstream with retry-after, nothing sent', async () => {
    const r = await chat(gw, 'nokey')
    expect(r.status).toBe(503)
    expect(r.body.error?.code).toBe('no_healthy_upstream')
    expect(r.body.error?.message).toContain('provider "off" has no API key configured')
    expect(r.h('retry-after')).toBe('5')
    expect(r.h('x-switchboard-attempts')).toBe('0')
  })
})

describe('request fallbacks and allowed models', () => {
  let restricted: TestGateway
  beforeAll(async () => {
    restricted = await startTestGateway(`
store: { url: "sqlite::memory:" }
providers:
  a: { type: openai-compatible, base_url: ${A.url}/v1 }
  b: { type: openai-compatible, base_url: ${B.url}/v1 }
models:
  solo-a: { targets: [{ provider: a, model: a-solo }] }
  solo-b: { targets: [{ provider: b, model: b-solo }] }
routing: { retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 5 } }
teams:
  t: { keys: { k: { key: "sk-sb-routing-restricted", models: [solo-a] } } }
`)
  })
  afterAll(async () => { await restricted?.stop() })

  it('a fallback model the key may not use is ignored', async () => {
    A.queue.push(err(500, 'down'), err(500, 'down'))
    const r = await chat(restricted, 'solo-a', { headers: { authorization: 'Bearer sk-sb-routing-restricted', 'x-switchboard-fallbacks': 'solo-b' } })
    expect(r.status).toBe(502)
    expect(r.h('x-switchboard-attempts')).toBe('2')
    expect(A.received).toHaveLength(2)
    expect(B.received).toHaveLength(0)
  })
})
