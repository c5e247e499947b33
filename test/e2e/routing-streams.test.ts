/**
 * Streams: retries and fallbacks apply until the first byte reaches the client; after it, a failure
 * ends the stream with an error event in the client's format (the official SDKs raise it).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { json, chatChunks, type StandIn, type Handler } from '../helpers/stand-in.ts'
import type { TestGateway } from '../helpers/gateway.ts'
import { accessLine, startTwoVendors, type TwoVendors } from './routing-fixtures.ts'

let A: StandIn
let B: StandIn
let gw: TestGateway
let env: TwoVendors
let openai: OpenAI
let anthropic: Anthropic

/** Sends the first `n` chunks of a stream, then `then` (reset the connection, or stall). */
const partial = (n: number, then: 'reset' | 'stall'): Handler => (req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const c of chatChunks(['Hel', 'lo ', 'there'], String(req.json?.model)).slice(0, n)) res.write(`data: ${JSON.stringify(c)}\n\n`)
  if (then === 'reset') setTimeout(() => res.socket?.destroy(), 20)
}

beforeAll(async () => {
  env = await startTwoVendors(undefined, undefined, `
models:
  st: { targets: [{ provider: a, model: a1, weight: 1 }, { provider: b, model: b1, weight: 0 }], timeouts: { idle_ms: 150 } }
routing:
  retries: { max_attempts: 3, backoff_ms: 10, max_backoff_ms: 100 }
  circuit_breaker: { failures: 1000 }
`)
  A = env.A
  B = env.B
  gw = env.gw
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 })
})
afterAll(() => env?.close())
beforeEach(() => env.reset())

const messages = [{ role: 'user' as const, content: 'hi' }]

describe('before the first byte: failover', () => {
  it('a 500 on the stream request is retried on the next target', async () => {
    A.queue.push(json(500, { error: { message: 'boom', type: 'server_error', param: null, code: null } }))
    const { data, response } = await openai.chat.completions.create({ model: 'st', stream: true, messages }).withResponse()
    let text = ''
    for await (const c of data) text += c.choices[0]?.delta.content ?? ''
    expect(text).toBe('Hello from the stand-in')
    expect([response.headers.get('x-switchboard-provider'), response.headers.get('x-switchboard-model'), response.headers.get('x-switchboard-attempts')]).toEqual(['b', 'b1', '2'])
  })

  it('a vendor that sends headers then stalls before any event: idle timeout, then the next target', async () => {
    A.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.flushHeaders()
    })
    const t0 = performance.now()
    const { data, response } = await openai.chat.completions.create({ model: 'st', stream: true, messages }).withResponse()
    let text = ''
    for await (const c of data) text += c.choices[0]?.delta.content ?? ''
    expect(text).toBe('Hello from the stand-in')
    expect(response.headers.get('x-switchboard-provider')).toBe('b')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150)
    const line = await accessLine(gw, response.headers.get('x-request-id')!)
    expect(line.failedAttempts).toEqual([{ provider: 'a', model: 'a1', status: 200, error: 'idle_timeout' }])
  })
})

describe('after the first byte: a clean error event', () => {
  it('a reset mid-stream: the openai SDK raises an APIError after the chunks already sent; no retry', async () => {
    A.queue.push(partial(2, 'reset'))
    const stream = await openai.chat.completions.create({ model: 'st', stream: true, messages })
    const got: string[] = []
    let caught: unknown
    try {
      for await (const c of stream) got.push(c.choices[0]?.delta.content ?? '')
    } catch (e) {
      caught = e
    }
    expect(got).toEqual(['', 'Hel'])
    expect(caught).toBeInstanceOf(OpenAI.APIError)
    expect((caught as InstanceType<typeof OpenAI.APIError>).message).toBe('The vendor stream broke after it started (connection reset).')
    expect(B.received).toHaveLength(0)
  })

  it('a stall mid-stream ends with an upstream_timeout error event and no [DONE]', async () => {
    A.queue.push(partial(2, 'stall'))
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'st', stream: true, messages }) })
    expect(res.status).toBe(200)
    const text = await res.text()
    const events = text.split('\n\n').filter(Boolean)
    expect(events).toHaveLength(3)
    expect(JSON.parse(events[2]!.slice('data: '.length))).toEqual({ error: { message: 'The vendor stream broke after it started (idle timeout).', type: 'api_error', param: null, code: 'upstream_timeout' } })
    expect(text).not.toContain('[DONE]')
    expect(B.received).toHaveLength(0)
  })

  it('on /v1/messages the Anthropic SDK gets `event: error` and raises it', async () => {
    A.queue.push(partial(2, 'reset'))
    const stream = await anthropic.messages.create({ model: 'st', max_tokens: 50, stream: true, messages })
    const types: string[] = []
    let caught: unknown
    try {
      for await (const ev of stream) types.push(ev.type)
    } catch (e) {
      caught = e
    }
    expect(types[0]).toBe('message_start')
    expect(caught).toBeInstanceOf(Anthropic.APIError)
    expect(String((caught as Error).message)).toContain('The vendor stream broke after it started (connection reset).')
  })

  it('the raw Anthropic error event', async () => {
    A.queue.push(partial(2, 'reset'))
    const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'st', max_tokens: 50, stream: true, messages }) })
    const text = await res.text()
    expect(text.startsWith('event: message_start\n')).toBe(true)
    expect(text).toContain('"text":"Hel"')
    const last = text.split('\n\n').filter(Boolean).at(-1)!
    expect(last).toBe('event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The vendor stream broke after it started (connection reset)."}}')
  })
})
