/** Every error row of the contract, in the one OpenAI envelope, through the real gateway. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:net'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-errors'
let vendor: StandIn
let gw: TestGateway
let refusedPort: number
let blackhole: Server

beforeAll(async () => {
  vendor = await startStandIn()
  // A port with nothing listening: connections are refused.
  refusedPort = await new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  // A server that accepts and never answers: the first-byte timeout fires.
  blackhole = createServer(() => {})
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r))
  const blackholePort = (blackhole.address() as { port: number }).port
  gw = await startTestGateway(`
server: { max_body_bytes: 2048 }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] }
  refused: { type: openai, base_url: http://127.0.0.1:${refusedPort}/v1, keys: [k] }
  slow: { type: openai, base_url: http://127.0.0.1:${blackholePort}/v1, keys: [k], timeouts: { first_byte_ms: 200 } }
  nokey: { type: openai, keys: ["\${UNSET_VENDOR_KEY}"] }
models:
  ok: { targets: [{ provider: up, model: x }] }
  refused: { targets: [{ provider: refused, model: x }] }
  slow: { targets: [{ provider: slow, model: x }] }
  nokey: { targets: [{ provider: nokey, model: x }] }
  secret: { targets: [{ provider: up, model: x }] }
routing: { retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 2 } }
teams:
  t: { models: [ok, refused, slow, nokey], keys: { k: { key: ${KEY} } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
  blackhole?.close()
})

async function post(body: string | object, headers: Record<string, string> = {}) {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: r.status, headers: r.headers, body: (await r.json()) as { error: { message: string; type: string; param: string | null; code: string } } }
}

const msgs = [{ role: 'user', content: 'hi' }]

describe('error contract', () => {
  it('400 malformed JSON', async () => {
    const r = await post('{"model":')
    expect(r.status).toBe(400)
    expect(r.body.error.code).toBe('invalid_request')
    expect(r.body.error.type).toBe('invalid_request_error')
    expect(r.body.error.message).toMatch(/^The request body is not valid JSON/)
  })

  it('400 missing model, naming the field', async () => {
    const r = await post({ messages: msgs })
    expect(r.body).toEqual({ error: { message: "Missing required parameter: 'model'.", type: 'invalid_request_error', param: 'model', code: 'invalid_request' } })
  })

  it('400 missing messages', async () => {
    const r = await post({ model: 'ok' })
    expect(r.status).toBe(400)
    expect(r.body.error.param).toBe('messages')
  })

  it('400 wrong types name the field', async () => {
    const r = await post({ model: 'ok', messages: [{ role: 5, content: 'x' }] })
    expect(r.status).toBe(400)
    expect(r.body.error.param).toBe('messages[0].role')
    const r2 = await post({ model: 'ok', messages: msgs, stream: 'yes' })
    expect(r2.body.error.message).toBe(`Invalid value for 'stream': expected a boolean, got "yes".`)
  })

  it('401 missing key', async () => {
    const r = await post({ model: 'ok', messages: msgs }, { authorization: '' })
    expect(r.status).toBe(401)
    expect(r.body.error.code).toBe('invalid_api_key')
  })

  it('403 model not allowed, naming the model', async () => {
    const r = await post({ model: 'secret', messages: msgs })
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('model_not_allowed')
    expect(r.body.error.message).toContain("'secret'")
  })

  it('404 unknown model', async () => {
    const r = await post({ model: 'gpt-9', messages: msgs })
    expect(r.status).toBe(404)
    expect(r.body.error.code).toBe('model_not_found')
  })

  it('413 body over max_body_bytes', async () => {
    const r = await post({ model: 'ok', messages: [{ role: 'user', content: 'x'.repeat(5000) }] })
    expect(r.status).toBe(413)
    expect(r.body.error.code).toBe('request_too_large')
    expect(r.body.error.message).toContain('2048 bytes')
  })

  it('502 upstream_error when the vendor refuses connections', async () => {
    const r = await post({ model: 'refused', messages: msgs })
    expect(r.status).toBe(502)
    expect(r.body.error.code).toBe('upstream_error')
    expect(r.headers.get('x-switchboard-attempts')).toBe('2')
  })

  it('504 upstream_timeout when the first byte does not come', async () => {
    const r = await post({ model: 'slow', messages: msgs })
    expect(r.status).toBe(504)
    expect(r.body.error.code).toBe('upstream_timeout')
  })

  it('503 no_healthy_upstream with retry-after when the provider has no key', async () => {
    const r = await post({ model: 'nokey', messages: msgs })
    expect(r.status).toBe(503)
    expect(r.body.error.code).toBe('no_healthy_upstream')
    expect(r.headers.get('retry-after')).toBeTruthy()
  })

  it('unknown endpoints are 404 in the same envelope; x-request-id is echoed', async () => {
    const r = await fetch(`${gw.url}/nope`)
    expect(r.status).toBe(404)
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('not_found')
    const r2 = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'x-request-id': 'req-abc-123' }, body: JSON.stringify({ model: 'ok', messages: msgs }) })
    expect(r2.headers.get('x-request-id')).toBe('req-abc-123')
  })

  it('healthz and readyz', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${gw.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(((await ready.json()) as { store: string }).store).toBe('ok')
  })
})
