/**
 * Forwarded /v1/* requests (security audit A, findings 1-4): a path the vendor could read as
 * another path is refused before it reaches the vendor with the gateway's key; the model that
 * authorizes a forwarded body is the one the vendor reads; providers.<name>.passthrough limits
 * what is forwarded at all. Requests go out as raw request lines (node:http): fetch and curl
 * would resolve the dot segments before sending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'node:http'
import { json, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const VKEY = 'vendor-secret-KEY-1234567890'
const KEY = 'sk-sb-forwarding-security-key-000000001'
const WHISPER_ONLY = 'sk-sb-forwarding-security-key-000000002'
const ADMIN = 'adm-forwarding-security-0123456789'

let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  // Answers every request, like a vendor behind a path-normalizing proxy would.
  vendor = await startStandIn((req, res) => json(200, { ok: true, path: req.path })(req, res))
  gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN}"] }
providers:
  local: { type: openai-compatible, base_url: "${vendor.url}/tenantA/v1", keys: ["${VKEY}"] }
  az: { type: azure, base_url: "${vendor.url}/az", keys: ["${VKEY}"] }
  shared:
    type: openai-compatible
    base_url: "${vendor.url}/shared/v1"
    keys: ["${VKEY}"]
    passthrough:
      - { path: "/v1/audio/*", methods: [POST] }
      - { path: "/v1/moderations", methods: [POST] }
models:
  m: { targets: [{ provider: local, model: up-m }] }
  a: { targets: [{ provider: az, model: dep1 }] }
  whisper-1: { targets: [{ provider: local, model: whisper-1 }] }
  gpt-4o-transcribe: { targets: [{ provider: local, model: gpt-4o-transcribe }] }
  s: { targets: [{ provider: shared, model: up-s }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t1: { keys: { k: { key: "${KEY}" } } }
  t2: { models: [whisper-1], keys: { k: { key: "${WHISPER_ONLY}" } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

function raw(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: gw.port, path, method: opts.method ?? 'GET', headers: { authorization: `Bearer ${KEY}`, ...opts.headers } }, (res) => {
      let b = ''
      res.on('data', (c: Buffer) => (b += c.toString('utf8')))
      res.on('end', () => resolve({ status: res.statusCode!, body: b }))
    })
    r.on('error', reject)
    r.end(opts.body)
  })
}

const errorOf = (body: string) => (JSON.parse(body) as { error: { message: string; type: string; code: string } }).error

describe('non-canonical forwarded paths', () => {
  it('are refused with a 400 before anything reaches the vendor with its key', async () => {
    const before = vendor.received.length
    for (const [path, model] of [
      ['/v1/../../admin/secret', 'm'],
      ['/v1/%2e%2e/%2e%2e/otherTenant/v1/files', 'm'],
      ['/v1/%2E%2e/x', 'm'],
      ['/v1//evil.example/x', 'm'],
      ['/v1/files%2f..%2f..%2fx', 'm'],
      ['/v1/files/?purpose=batch', 'm'],
      ['/v1/../../../x', 'a'],
    ] as const) {
      const r = await raw(path, { headers: { 'x-switchboard-model': model } })
      expect(r.status, path).toBe(400)
      const e = errorOf(r.body)
      expect(e.code).toBe('invalid_request')
      expect(e.type).toBe('invalid_request_error')
      expect(e.message).toContain('forwards /v1/* paths only as written')
    }
    expect(vendor.received.length).toBe(before)
  })

  it('POST /v1/./chat/completions is not an unpriced passthrough of a chat call', async () => {
    const before = vendor.received.length
    const body = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    for (const path of ['/v1/./chat/completions', '/v1/%2e/chat/completions', '/v1/Chat/Completions', '/v1/chat/completions/']) {
      const r = await raw(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      expect(r.status, path).toBe(400)
    }
    expect(vendor.received.length).toBe(before)
  })

  it('the refusal comes after authentication (a bad key is a 401) and is a ledger row', async () => {
    expect((await raw('/v1/../x', { headers: { authorization: 'Bearer sk-wrong' } })).status).toBe(401)
    await raw('/v1/../ledger-row', { headers: { 'x-switchboard-model': 'm' } })
    await new Promise((r) => setTimeout(r, 1200))
    const res = await fetch(`${gw.url}/admin/v1/requests?status=400`, { headers: { authorization: `Bearer ${ADMIN}` } })
    const rows = ((await res.json()) as { data: Array<{ operation: string; error_code: string; team: string }> }).data
    expect(rows.some((r) => r.operation === 'passthrough' && r.error_code === 'invalid_request' && r.team === 't1')).toBe(true)
  })

  it('canonical forwarded paths still reach the vendor under the base path', async () => {
    const r = await raw('/v1/files/file-1.jsonl/content?x=1', { headers: { 'x-switchboard-model': 'm' } })
    expect(r.status).toBe(200)
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/tenantA/v1/files/file-1.jsonl/content?x=1')
    expect(seen.headers.authorization).toBe(`Bearer ${VKEY}`)
  })
})

describe('the model of a forwarded body', () => {
  const B = 'XBOUNDARYX'
  const part = (name: string, value: string) => `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  const file = `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF....\r\n`
  const transcribe = (body: string, headers: Record<string, string> = {}, type = `multipart/form-data; boundary=${B}`) =>
    raw('/v1/audio/transcriptions', { method: 'POST', headers: { authorization: `Bearer ${WHISPER_ONLY}`, 'content-type': type, ...headers }, body })

  it('is read from every part: a forbidden model after 64 others is refused, whatever the header says', async () => {
    const before = vendor.received.length
    let filler = ''
    for (let i = 0; i < 64; i++) filler += part(`pad${i}`, 'x')
    const r = await transcribe(filler + part('model', 'gpt-4o-transcribe') + file + `--${B}--\r\n`, { 'x-switchboard-model': 'whisper-1' })
    expect(r.status).toBe(403)
    expect(errorOf(r.body).code).toBe('model_not_allowed')
    expect(errorOf(r.body).message).toContain("'gpt-4o-transcribe'")
    expect(vendor.received.length).toBe(before)
  })

  it('two model fields are a 400 (vendors differ on which one counts)', async () => {
    const before = vendor.received.length
    const r = await transcribe(part('model', 'whisper-1') + part('model', 'gpt-4o-transcribe') + file + `--${B}--\r\n`)
    expect(r.status).toBe(400)
    expect(errorOf(r.body).message).toContain("one 'model' field")
    expect(vendor.received.length).toBe(before)
  })

  it('an urlencoded form is read too', async () => {
    const r = await transcribe('model=gpt-4o-transcribe&language=en', { 'x-switchboard-model': 'whisper-1' }, 'application/x-www-form-urlencoded')
    expect(r.status).toBe(403)
  })

  it('the allowed model in the body is forwarded byte for byte; a bodiless GET and a form naming no model use the header', async () => {
    const body = part('model', 'whisper-1') + file + `--${B}--\r\n`
    const r = await transcribe(body)
    expect(r.status).toBe(200)
    expect(vendor.received.at(-1)!.body).toBe(body)
    const get = await raw('/v1/files', { headers: { authorization: `Bearer ${WHISPER_ONLY}`, 'x-switchboard-model': 'whisper-1' } })
    expect(get.status).toBe(200)
    const upload = await transcribe(file + `--${B}--\r\n`, { 'x-switchboard-model': 'whisper-1' })
    expect(upload.status).toBe(200)
  })
})

describe('providers.<name>.passthrough', () => {
  it('refuses, with a 403 naming the setting, forwarded requests its rules do not list: stored objects of every team sharing the key', async () => {
    const before = vendor.received.length
    for (const [method, path] of [['GET', '/v1/chat/completions'], ['GET', '/v1/files?limit=100'], ['GET', '/v1/files/file-1/content'], ['DELETE', '/v1/responses/resp_0123abcd'], ['POST', '/v1/batches'], ['GET', '/v1/audio/transcriptions']] as const) {
      const r = await raw(path, { method, headers: method === 'POST' ? { 'content-type': 'application/json' } : { 'x-switchboard-model': 's' }, body: method === 'POST' ? '{"model":"s","input_file_id":"file-1"}' : undefined })
      expect(r.status, `${method} ${path}`).toBe(403)
      const e = errorOf(r.body)
      expect(e.code).toBe('permission_denied')
      expect(e.type).toBe('permission_error')
      expect(e.message).toContain('providers.shared.passthrough')
    }
    expect(vendor.received.length).toBe(before)
  })

  it('forwards what they list, and a provider without rules forwards everything (the default)', async () => {
    const r = await raw('/v1/moderations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"s","input":"hi"}' })
    expect(r.status).toBe(200)
    expect(vendor.received.at(-1)!.path).toBe('/shared/v1/moderations')
    const form = `--B\r\nContent-Disposition: form-data; name="model"\r\n\r\ns\r\n--B--\r\n`
    expect((await raw('/v1/audio/translations', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=B' }, body: form })).status).toBe(200)
    expect((await raw('/v1/files', { headers: { 'x-switchboard-model': 'm' } })).status).toBe(200)
  })
})
