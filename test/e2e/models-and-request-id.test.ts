/**
 * Every response names its request (spec section 4), not only model calls: the models list, its
 * errors, health and the admin API echo a sane x-request-id or make one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-request-id-key-0001'
const ADMIN = 'sb-admin-request-id-00001'
let gw: TestGateway

beforeAll(async () => {
  gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN}"] }
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
teams: { t: { keys: { k: { key: "${KEY}" } } } }
`)
})
afterAll(() => gw?.stop())

const get = (path: string, headers: Record<string, string>) => fetch(`${gw.url}${path}`, { headers })

describe('x-request-id off the model-call path', () => {
  it('is echoed on the models list, a model, its 404 and a 401', async () => {
    for (const [path, key, status] of [['/v1/models', KEY, 200], ['/v1/models/demo', KEY, 200], ['/v1/models/nope', KEY, 404], ['/v1/models', 'sk-wrong', 401]] as const) {
      const r = await get(path, { authorization: `Bearer ${key}`, 'x-request-id': `req-${status}-abc` })
      expect(r.status).toBe(status)
      expect(r.headers.get('x-request-id')).toBe(`req-${status}-abc`)
    }
  })

  it('is made when absent or not a sane token, on health and admin routes too', async () => {
    for (const [path, headers] of [['/healthz', {}], ['/admin/v1/teams', { authorization: `Bearer ${ADMIN}` }], ['/v1/models', { authorization: `Bearer ${KEY}`, 'x-request-id': 'bad id with spaces' }]] as const) {
      const r = await get(path, headers)
      expect(r.status).toBe(200)
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
})

describe('the models list for Anthropic clients', () => {
  it("the Anthropic SDK reads Anthropic's shape (type, display_name, created_at, paging ids)", async () => {
    const { default: Anthropic } = await import('@anthropic-ai/sdk')
    const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 })
    const page = await client.models.list()
    expect(page.data).toEqual([{ type: 'model', id: 'demo', display_name: 'demo', created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }])
    expect(await client.models.retrieve('demo')).toMatchObject({ type: 'model', id: 'demo', display_name: 'demo' })
    // OpenAI clients keep OpenAI's shape.
    const r = await (await get('/v1/models', { authorization: `Bearer ${KEY}` })).json()
    expect(r).toEqual({ object: 'list', data: [{ id: 'demo', object: 'model', created: expect.any(Number), owned_by: 'switchboard' }] })
  })
})
