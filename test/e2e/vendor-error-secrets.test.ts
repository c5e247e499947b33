/**
 * A vendor error that echoes the credential it was sent never reaches the client with it (security
 * audit A, finding 5): OpenAI-type in-stream error events, Anthropic stream errors, the `param` of
 * a non-streamed 4xx, for keys of any shape (a short one no key-like pattern would catch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, sse, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const SHORT = 'tok.Short+Key/99'
const PROJ = 'sk-proj-VENDORKEYabcdefghijklmnop0123456789'
const HEADER_SECRET = 'proxy-secret-77aa'
const KEY = 'sk-sb-vendor-error-secrets-key-0000001'

let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(`
providers:
  short: { type: openai-compatible, base_url: "${vendor.url}/v1", keys: ["${SHORT}"], headers: { x-proxy-key: "${HEADER_SECRET}" } }
  proj: { type: openai-compatible, base_url: "${vendor.url}/v1", keys: ["${PROJ}"] }
  anth: { type: anthropic, base_url: "${vendor.url}", keys: ["${SHORT}"] }
models:
  m: { targets: [{ provider: short, model: up-m }] }
  p: { targets: [{ provider: proj, model: up-p }] }
  c: { targets: [{ provider: anth, model: claude-x }] }
routing: { retries: { max_attempts: 1, backoff_ms: 0 } }
teams:
  t1: { keys: { k: { key: "${KEY}" } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

const call = async (path: string, body: unknown): Promise<{ status: number; text: string }> => {
  const r = await fetch(gw.url + path, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: r.status, text: await r.text() }
}
const echo = (key: string) => `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com.`
const chunk = (content: string) => ({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: null }] })
const msgs = [{ role: 'user', content: 'hi' }]

describe('vendor errors echoing the vendor key', () => {
  it('a non-streamed 4xx: the message and the param are scrubbed of the exact key and of the proxy header secret', async () => {
    vendor.queue.push(json(400, { error: { message: `${echo(SHORT)} (sent with ${HEADER_SECRET})`, type: 'invalid_request_error', param: SHORT, code: 'bad' } }))
    const r = await call('/v1/chat/completions', { model: 'm', messages: msgs })
    expect(r.status).toBe(400)
    expect(r.text).not.toContain(SHORT)
    expect(r.text).not.toContain(HEADER_SECRET)
    const e = (JSON.parse(r.text) as { error: { message: string; param: string; code: string } }).error
    expect(e.message).toContain('Incorrect API key provided: [redacted]')
    expect(e.param).toBe('[redacted]')
    expect(e.code).toBe('bad')
  })

  it('an OpenAI-type in-stream error event after a chunk is forwarded scrubbed (sk-proj- and short keys); the chunk keeps its bytes', async () => {
    for (const [model, key] of [['p', PROJ], ['m', SHORT]] as const) {
      vendor.queue.push(sse([chunk('Hel'), { error: { message: echo(key), type: 'server_error', param: key } }], { done: false }))
      const r = await call('/v1/chat/completions', { model, stream: true, messages: msgs })
      expect(r.status).toBe(200)
      expect(r.text).not.toContain(key)
      expect(r.text).toContain(`data: ${JSON.stringify(chunk('Hel'))}\n\n`)
      expect(r.text).toContain('data: {"error":{"message":"Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com.","type":"server_error","param":"[redacted]"}}\n\n')
    }
  })

  it('an in-stream error as the first event (Python spacing), and a Responses `event: error`: the attempt failed, and its error is scrubbed', async () => {
    // Nothing went to the client yet, so the error is the attempt's, answered with its status.
    vendor.queue.push(sse([`{"error": {"message": "${echo(SHORT)}", "type": "invalid_request_error"}}`], { done: false }))
    let r = await call('/v1/chat/completions', { model: 'm', stream: true, messages: msgs })
    expect(r.status).toBe(400)
    expect(r.text).not.toContain(SHORT)
    expect((JSON.parse(r.text) as { error: { message: string } }).error.message).toContain('Incorrect API key provided: [redacted]')
    vendor.queue.push(sse([{ type: 'error', code: 'invalid_api_key', message: echo(SHORT), param: null, sequence_number: 0 }], { done: false, eventNames: true }))
    r = await call('/v1/responses', { model: 'm', stream: true, input: 'hi' })
    expect(r.text).not.toContain(SHORT)
    // invalid_api_key: the vendor refused the gateway's own key, which the client is not told about.
    expect(r.status).toBe(502)
    expect((JSON.parse(r.text) as { error: { message: string } }).error.message).toMatch(/^The vendor rejec/)
  })

  it('an Anthropic stream error event is rendered without the exact key', async () => {
    vendor.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 0 } } })}\n\n`)
      res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: echo(SHORT) } })}\n\n`)
      res.end()
    })
    const r = await call('/v1/messages', { model: 'c', max_tokens: 10, stream: true, messages: msgs })
    expect(r.text).toContain('event: error')
    expect(r.text).not.toContain(SHORT)
    expect(r.text).toContain('Incorrect API key provided: [redacted]')
  })

  it('nor do the logs carry it', async () => {
    await new Promise((r) => setTimeout(r, 100))
    expect(gw.logs.filter((l) => l.includes(SHORT) || l.includes(PROJ) || l.includes(HEADER_SECRET))).toEqual([])
  })
})
