/**
 * OpenAI-compatible servers (OpenRouter, vLLM, LiteLLM-style proxies) answer a failed stream with
 * 200 and the failure in its first event. Nothing has reached the client then, so the attempt is
 * retried or falls back like a vendor error status; it used to reach the client as a stream of one
 * error, which the SDK raises mid-stream, and the agent's turn failed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { sse, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-stream-error-first-0001'
let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(`
providers:
  router: { type: openai-compatible, base_url: "${vendor.url}/v1", keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: router, model: up-m }] }
routing: { retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 5 } }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

const chunk = (content: string, finish: string | null = null) => ({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up-m', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })

describe('a stream that opens with an error event', () => {
  it('is retried: the SDK reads the second attempt\'s answer', async () => {
    const before = vendor.received.length
    vendor.queue.push(sse([{ error: { message: 'Provider returned error', code: 502 } }], { done: false }))
    vendor.queue.push(sse([chunk('Hello'), chunk(' there', 'stop')]))
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
    const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    let text = ''
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? ''
    expect(text).toBe('Hello there')
    expect(vendor.received.length - before).toBe(2)
  })

  it('with every attempt failing, the client gets the vendor\'s status as an error, not a 200', async () => {
    vendor.queue.push(sse([{ error: { message: 'Rate limit exceeded: free-models-per-min', code: 429 } }], { done: false }))
    vendor.queue.push(sse([{ error: { message: 'Rate limit exceeded: free-models-per-min', code: 429 } }], { done: false }))
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
    const err = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect((err as Error).message).toContain('Rate limit exceeded')
  })

  it('an error after the answer began is forwarded to the client in the stream, as before', async () => {
    vendor.queue.push(sse([chunk('Hel'), { error: { message: 'upstream broke', type: 'server_error' } }], { done: false }))
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }) })
    expect(r.status).toBe(200)
    const text = await r.text()
    expect(text).toContain('"content":"Hel"')
    expect(text).toContain('upstream broke')
  })
})
