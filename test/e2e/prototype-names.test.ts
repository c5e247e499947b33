/**
 * Names of Object.prototype members (`constructor`, `toString`, `__proto__`, `hasOwnProperty`...)
 * are not teams, models or providers unless the config declares them. The config's maps were
 * plain objects read with bracket lookups, so such a name was "found": POST /admin/v1/keys with
 * team `constructor` made a working key with no team scope, limits or budget, GET
 * /admin/v1/teams/toString was a 500, and a client asking for model `constructor` got a 500 (team
 * with a budget) or a retryable 503 instead of 404 model_not_found. Declared under those names,
 * they work like any other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, type Obj } from './keys-support.ts'

const BUDGETED = 'sk-sb-proto-budgeted-0001'
const FREE = 'sk-sb-proto-free-00000001'
const ODD = 'sk-sb-proto-odd-team-0001'
const NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']

const yaml = `
server: { admin_keys: ["${ADMIN_KEY}"] }
providers: { m: { type: mock } }
models:
  demo: { targets: [{ provider: m, model: mock-1 }], pricing: { input: 1, output: 1 } }
  toString: { targets: [{ provider: m, model: mock-1 }], pricing: { input: 1, output: 1 } }
teams:
  budgeted:
    budget: { usd: 10, period: monthly }
    keys: { b: { key: "${BUDGETED}" } }
  free:
    keys: { f: { key: "${FREE}" } }
  constructor:
    models: [toString]
    budget: { usd: 10, period: monthly }
    keys: { o: { key: "${ODD}" } }
`

describe('Object.prototype names are not declared teams or models', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(yaml)
  })
  afterAll(async () => {
    await gw?.stop()
  })

  const call = async (key: string, path: string, model: string) => {
    const body = path === '/v1/embeddings' ? { model, input: 'hi' } : { model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }
    const r = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const text = await r.text()
    return { status: r.status, retryAfter: r.headers.get('retry-after'), body: JSON.parse(text) as { error?: { code: string; type?: string } } }
  }

  it('a client asking for such a model gets 404 model_not_found, with or without a team budget', async () => {
    for (const key of [BUDGETED, FREE]) {
      for (const name of NAMES.filter((n) => n !== 'toString')) {
        for (const path of ['/v1/chat/completions', '/v1/embeddings']) {
          const r = await call(key, path, name)
          expect([r.status, r.body.error?.code, r.retryAfter], `${path} ${name}`).toEqual([404, 'model_not_found', null])
        }
        const m = await call(key, '/v1/messages', name)
        expect([m.status, m.body.error?.type], `/v1/messages ${name}`).toEqual([404, 'not_found_error'])
      }
    }
  })

  it('the admin API: no key for such a team, and such a team is 404, not a phantom or a 500', async () => {
    for (const team of NAMES.filter((n) => n !== 'constructor')) {
      const created = await admin(gw, 'POST', '/admin/v1/keys', { team, name: 'x' })
      expect([created.status, (created.body.error as Obj | undefined)?.param], team).toEqual([400, 'team'])
      expect((await admin(gw, 'GET', `/admin/v1/teams/${team}`)).status, team).toBe(404)
      expect((await admin(gw, 'GET', `/admin/v1/keys?team=${team}`)).status, team).toBe(404)
    }
    const teams = (await admin(gw, 'GET', '/admin/v1/teams')).body.data as Obj[]
    expect(teams.map((t) => t.id).sort()).toEqual(['budgeted', 'constructor', 'free'])
  })

  it('declared under such names, a team and a model work like any other', async () => {
    expect((await call(ODD, '/v1/chat/completions', 'toString')).status).toBe(200)
    expect((await call(ODD, '/v1/chat/completions', 'demo')).body.error?.code).toBe('model_not_allowed')
    expect((await call(FREE, '/v1/chat/completions', 'toString')).status).toBe(200)
    const team = await admin(gw, 'GET', '/admin/v1/teams/constructor')
    expect([team.status, team.body.models, (team.body.budget as Obj).usd]).toEqual([200, ['toString'], 10])
    const created = await admin(gw, 'POST', '/admin/v1/keys', { team: 'constructor', name: 'agent' })
    expect(created.status).toBe(201)
    // The runtime key carries its team's scope: the team allows only the model toString.
    expect((await call(String(created.body.key), '/v1/chat/completions', 'demo')).body.error?.code).toBe('model_not_allowed')
    expect((await call(String(created.body.key), '/v1/chat/completions', 'toString')).status).toBe(200)
  })
})
