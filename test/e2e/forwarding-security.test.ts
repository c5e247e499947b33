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
models:
  m: { targets: [{ provider: local, model: up-m }] }
  a: { targets: [{ provider: az, model: dep1 }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t1: { keys: { k: { key: "${KEY}" } } }
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
