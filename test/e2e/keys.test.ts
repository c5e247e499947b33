/**
 * Virtual keys end to end, against SQLite and the real Postgres: create through the admin API,
 * call with the openai SDK, scope, disable, revoke, expire, restart; config keys read-only; admin
 * auth; and no key material in logs or admin responses after creation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { createHash } from 'node:crypto'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, adminResponses, chatStatus, dropPgSchema, listOf, pgAvailable, pgSchema, pgUrl, removeSqlite, sleep, sqlitePath, sqliteUrl, type Obj } from './keys-support.ts'

const VENDOR_KEY = 'sk-vendor-secret-keys-suite-000000wxyz'
const CONFIG_KEY = 'sk-sb-config-key-for-tests-0000000001'

const yaml = (vendorUrl: string, storeUrl: string) => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "${storeUrl}" }
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["${VENDOR_KEY}"] }
models:
  gpt-a: { targets: [{ provider: up, model: up-a }] }
  gpt-b: { targets: [{ provider: up, model: up-b }] }
  other: { targets: [{ provider: up, model: up-other }] }
routing: { retries: { max_attempts: 1 } }
teams:
  research:
    models: ["gpt-*"]
    limits: { rpm: 600 }
    budget: { usd: 500, period: monthly }
    keys:
      ci-bot: { key: "${CONFIG_KEY}", models: [gpt-a], limits: { rpm: 60 } }
  ops: {}
`

const schema = pgSchema()
const file = sqlitePath()
const stores = [
  { name: 'sqlite', available: true, url: () => sqliteUrl(file), cleanup: async () => removeSqlite(file) },
  { name: 'postgres', available: pgAvailable, url: () => pgUrl(schema), cleanup: () => dropPgSchema(schema) },
]

for (const store of stores) {
  describe.skipIf(!store.available)(`virtual keys (${store.name})`, () => {
    let vendor: StandIn
    let gw: TestGateway
    const storeUrl = store.url()
    const createdKeys: string[] = []
    const allLogs: string[] = []

    const create = async (body: Obj): Promise<{ id: string; key: string; body: Obj }> => {
      const r = await admin(gw, 'POST', '/admin/v1/keys', body)
      expect(r.status, r.text).toBe(201)
      const key = String(r.body.key)
      createdKeys.push(key)
      return { id: String(r.body.id), key, body: r.body }
    }
    const sdk = (key: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 })

    beforeAll(async () => {
      vendor = await startStandIn()
      gw = await startTestGateway(yaml(vendor.url, storeUrl))
    })
    afterAll(async () => {
      allLogs.push(...(gw?.logs ?? []))
      await gw?.stop()
      await vendor?.close()
      await store.cleanup()
    })

    it('creates a key (shown once, sk-sb- + 32 random bytes) and the openai SDK calls with it', async () => {
      const { id, key, body } = await create({ team: 'research', name: 'agent-1', metadata: { owner: 'alice' }, tags: ['ci'] })
      expect(key).toMatch(/^sk-sb-[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(key.slice(6), 'base64url')).toHaveLength(32)
      expect(id).toMatch(/^key_[A-Za-z0-9_-]{12}$/)
      expect(body).toMatchObject({ id, object: 'virtual_key', source: 'api', team: 'research', name: 'agent-1', key_hint: `...${key.slice(-4)}`, status: 'active', enabled: true, revoked: false, models: null, expires_at: null, metadata: { owner: 'alice' }, tags: ['ci'], revoked_at: null })
      const out = await sdk(key).chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: 'hi' }] })
      expect(out.choices[0]?.message.content).toBe('Hello from the stand-in')
      expect(vendor.received.at(-1)!.headers.authorization).toBe(`Bearer ${VENDOR_KEY}`)
      // the other two ways to present a key
      expect(await chatStatus(gw, key, 'gpt-a', 'x-api-key')).toBe(200)
      expect(await chatStatus(gw, key, 'gpt-a', 'api-key')).toBe(200)
    })

    it('list and get show a hint, never the key', async () => {
      const { id, key } = await create({ team: 'ops', name: 'lister' })
      const one = await admin(gw, 'GET', `/admin/v1/keys/${id}`)
      expect(one.status).toBe(200)
      expect(one.body).toMatchObject({ id, team: 'ops', name: 'lister', key_hint: `...${key.slice(-4)}`, spend_this_period_usd: 0 })
      expect(one.body).not.toHaveProperty('key')
      const list = await admin(gw, 'GET', '/admin/v1/keys?team=ops')
      expect(list.status).toBe(200)
      expect(listOf(list).map((k) => k.name)).toEqual(['lister'])
      const all = await admin(gw, 'GET', '/admin/v1/keys')
      const names = listOf(all).map((k) => `${String(k.source)}:${String(k.team)}/${String(k.name)}`)
      expect(names).toContain('config:research/ci-bot')
      expect(names).toContain('api:ops/lister')
      expect(listOf(all).every((k) => !('key' in k))).toBe(true)
    })

    it('revoke: DELETE answers the revoked key, and the key gets 401 at once', async () => {
      const { id, key } = await create({ team: 'research', name: 'to-revoke' })
      expect(await chatStatus(gw, key)).toBe(200)
      const del = await admin(gw, 'DELETE', `/admin/v1/keys/${id}`)
      expect(del.status).toBe(200)
      expect(del.body).toMatchObject({ id, status: 'revoked', revoked: true })
      expect(typeof del.body.revoked_at).toBe('string')
      const err = await sdk(key).chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
      expect((err as InstanceType<typeof OpenAI.AuthenticationError>).error).toEqual({ message: "The API key is not valid (unknown, revoked or expired). Pass a Switchboard virtual key as 'Authorization: Bearer <key>' (or x-api-key).", type: 'authentication_error', param: null, code: 'invalid_api_key' })
      // revocation is final
      const patch = await admin(gw, 'PATCH', `/admin/v1/keys/${id}`, { enabled: true })
      expect(patch.status).toBe(409)
      expect(patch.body).toMatchObject({ error: { code: 'key_revoked' } })
      expect(await chatStatus(gw, key)).toBe(401)
      // the name is free again
      await create({ team: 'research', name: 'to-revoke' })
    })

    it('expiry: a key created a second ahead stops working when it expires', async () => {
      const expires = new Date(Date.now() + 1200).toISOString()
      const { key, body } = await create({ team: 'research', name: 'short-lived', expires_at: expires })
      expect(body.expires_at).toBe(expires)
      expect(await chatStatus(gw, key)).toBe(200)
      await sleep(1300)
      expect(await chatStatus(gw, key)).toBe(401)
      const got = await admin(gw, 'GET', `/admin/v1/keys/${String(body.id)}`)
      expect(got.body.status).toBe('expired')
    })

    it('model scoping: the key and its team must both allow the model (403 names it); /v1/models is filtered', async () => {
      const { key } = await create({ team: 'research', name: 'scoped', models: ['gpt-a'] })
      const err = await sdk(key).chat.completions.create({ model: 'gpt-b', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError)
      expect((err as InstanceType<typeof OpenAI.PermissionDeniedError>).error).toMatchObject({ code: 'model_not_allowed', param: 'model', message: "Your key may not use the model 'gpt-b'. GET /v1/models lists the models it may use." })
      expect((await sdk(key).models.list()).data.map((m) => m.id)).toEqual(['gpt-a'])
      // no key scope: the team's globs (gpt-*) still exclude `other`
      const { key: wide } = await create({ team: 'research', name: 'wide' })
      expect((await sdk(wide).models.list()).data.map((m) => m.id)).toEqual(['gpt-a', 'gpt-b'])
      expect(await chatStatus(gw, wide, 'other')).toBe(403)
      // a team without models: everything
      const { key: opsKey } = await create({ team: 'ops', name: 'ops-all' })
      expect((await sdk(opsKey).models.list()).data.map((m) => m.id)).toEqual(['gpt-a', 'gpt-b', 'other'])
    })

    it('PATCH: disable and enable, change scope; effective at once', async () => {
      const { id, key } = await create({ team: 'research', name: 'patchme' })
      let r = await admin(gw, 'PATCH', `/admin/v1/keys/${id}`, { enabled: false })
      expect(r.status).toBe(200)
      expect(r.body).toMatchObject({ status: 'disabled', enabled: false })
      expect(await chatStatus(gw, key)).toBe(401)
      r = await admin(gw, 'PATCH', `/admin/v1/keys/${id}`, { enabled: true, models: ['gpt-b'], limits: { rpm: 10 }, budget: { usd: 5, period: 'daily' }, tags: null, name: 'patched' })
      expect(r.status).toBe(200)
      expect(r.body).toMatchObject({ name: 'patched', status: 'active', models: ['gpt-b'], limits: { rpm: 10 }, budget: { usd: 5, period: 'daily' }, tags: null })
      expect(await chatStatus(gw, key, 'gpt-a')).toBe(403)
      expect(await chatStatus(gw, key, 'gpt-b')).toBe(200)
    })

    it('validation: clear 400s naming the field; unknown ids and teams 404', async () => {
      const cases: Array<[unknown, string | null, string]> = [
        [{ team: 'research' }, 'name', 'name: '],
        [{ team: 'nope', name: 'x' }, 'team', "team: the team 'nope' is not declared in the config"],
        [{ team: 'research', name: 'x', key: 'sk-sb-mine' }, 'key', 'key: unknown field'],
        [{ team: 'research', name: 'x', expires_at: 'tomorrow' }, 'expires_at', 'expires_at: expected an ISO-8601 date-time'],
        [{ team: 'research', name: 'x', expires_at: '2001-01-01T00:00:00Z' }, 'expires_at', 'expires_at: must be in the future'],
        [{ team: 'research', name: 'x', limits: { rpm: 0 } }, 'limits.rpm', 'limits.rpm: '],
        [{ team: 'research', name: 'x', models: 'gpt-a' }, 'models', 'models: '],
        [{ team: 'research', name: 'bad name!' }, 'name', 'name: expected 1-128 characters'],
      ]
      for (const [body, param, start] of cases) {
        const r = await admin(gw, 'POST', '/admin/v1/keys', body)
        expect(r.status, JSON.stringify(body)).toBe(400)
        const error = r.body.error as Obj
        expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request', param })
        expect(String(error.message).startsWith(start), String(error.message)).toBe(true)
      }
      const notJson = await admin(gw, 'POST', '/admin/v1/keys', '{nope')
      expect(notJson.status).toBe(400)
      expect(notJson.body).toEqual({ error: { message: 'The request body is not valid JSON.', type: 'invalid_request_error', param: null, code: 'invalid_request' } })
      const dup = await admin(gw, 'POST', '/admin/v1/keys', { team: 'research', name: 'ci-bot' })
      expect(dup.status).toBe(409)
      expect(dup.body).toMatchObject({ error: { code: 'key_name_taken', param: 'name' } })
      for (const [method, path] of [['GET', '/admin/v1/keys/key_doesnotexist'], ['PATCH', '/admin/v1/keys/key_doesnotexist'], ['DELETE', '/admin/v1/keys/key_doesnotexist']] as const) {
        const r = await admin(gw, method, path, method === 'PATCH' ? { enabled: false } : undefined)
        expect(r.status, `${method} ${path}`).toBe(404)
        expect(r.body).toEqual({ error: { message: "No virtual key has the id 'key_doesnotexist'.", type: 'invalid_request_error', param: null, code: 'not_found' } })
      }
      const badPatch = await admin(gw, 'PATCH', `/admin/v1/keys/${(await create({ team: 'ops', name: 'p' })).id}`, { team: 'research' })
      expect(badPatch.status).toBe(400)
      expect(badPatch.body).toMatchObject({ error: { param: 'team', message: 'team: unknown field (allowed fields are listed in docs/keys.md)' } })
      expect((await admin(gw, 'GET', '/admin/v1/keys?team=nope')).status).toBe(404)
      // a key pasted where an id belongs is not echoed back
      const pasted = await admin(gw, 'GET', `/admin/v1/keys/${CONFIG_KEY}`)
      expect(pasted.status).toBe(404)
      expect(pasted.text).not.toContain(CONFIG_KEY)
      // Config keys can be any string: only ids shaped like ids are echoed.
      for (const secret of ['AAAAconfigkeyNotSkPrefixed0123456789', 'key_but-longer-than-an-id-0123456789', 'q8Zs+4bR/2mXy9Lc0Tt1vA==']) {
        const r = await admin(gw, 'GET', `/admin/v1/keys/${encodeURIComponent(secret)}`)
        expect(r.status).toBe(404)
        expect(r.text).not.toContain(secret)
        expect((r.body.error as Obj).message).toContain('Ids look like key_... or cfg:<team>/<name>')
      }
      const typo = await admin(gw, 'GET', `/admin/v1/keys/${encodeURIComponent('cfg:research/ci-bot2')}`)
      expect((typo.body.error as Obj).message).toBe("No virtual key has the id 'cfg:research/ci-bot2'.")
    })

    it('config keys: listed, usable, read-only through the API (409)', async () => {
      const id = encodeURIComponent('cfg:research/ci-bot')
      const got = await admin(gw, 'GET', `/admin/v1/keys/${id}`)
      expect(got.status).toBe(200)
      expect(got.body).toMatchObject({ id: 'cfg:research/ci-bot', source: 'config', team: 'research', name: 'ci-bot', key_hint: `...${CONFIG_KEY.slice(-4)}`, models: ['gpt-a'], limits: { rpm: 60 }, status: 'active', created_at: null })
      for (const method of ['PATCH', 'DELETE']) {
        const r = await admin(gw, method, `/admin/v1/keys/${id}`, method === 'PATCH' ? { enabled: false } : undefined)
        expect(r.status).toBe(409)
        expect(r.body).toEqual({ error: { message: "The key 'cfg:research/ci-bot' is declared in the config file (teams.research.keys.ci-bot) and is read-only through the admin API; change or remove it in the config file, which the running gateway reloads (no restart needed).", type: 'invalid_request_error', param: null, code: 'read_only_key' } })
      }
      expect(await chatStatus(gw, CONFIG_KEY, 'gpt-a')).toBe(200)
    })

    it('teams: list and get with limits, budget, spend this period and key counts', async () => {
      const list = await admin(gw, 'GET', '/admin/v1/teams')
      expect(list.status).toBe(200)
      expect(listOf(list).map((t) => t.id)).toEqual(['research', 'ops'])
      const team = await admin(gw, 'GET', '/admin/v1/teams/research')
      expect(team.status).toBe(200)
      expect(team.body).toMatchObject({ id: 'research', object: 'team', source: 'config', models: ['gpt-*'], limits: { rpm: 600 }, budget: { usd: 500, period: 'monthly' }, keys: { config: 1 } })
      // spend comes from the ledger (the budget engine's spendThisPeriod port)
      expect(typeof team.body.spend_this_period_usd).toBe('number')
      expect((team.body.keys as Obj).api).toBeGreaterThan(0)
      const missing = await admin(gw, 'GET', '/admin/v1/teams/nope')
      expect(missing.status).toBe(404)
      expect(missing.body).toMatchObject({ error: { code: 'not_found' } })
    })

    it('admin endpoints refuse a missing or wrong admin key (401) and a virtual key (403)', async () => {
      for (const path of ['/admin/v1/keys', '/admin/v1/teams']) {
        expect((await admin(gw, 'GET', path, undefined, null)).status).toBe(401)
        expect((await admin(gw, 'GET', path, undefined, 'sb-admin-wrong')).status).toBe(401)
        const v = await admin(gw, 'GET', path, undefined, CONFIG_KEY)
        expect(v.status).toBe(403)
        expect(v.body).toMatchObject({ error: { code: 'permission_denied' } })
      }
      const { key } = await create({ team: 'ops', name: 'not-an-admin' })
      expect((await admin(gw, 'POST', '/admin/v1/keys', { team: 'ops', name: 'x' }, key)).status).toBe(403)
    })

    it('audit: create, update and revoke are recorded with the admin id, never a key', async () => {
      const { id } = await create({ team: 'ops', name: 'audited' })
      expect((await admin(gw, 'PATCH', `/admin/v1/keys/${id}`, { tags: ['x'] })).status).toBe(200)
      expect((await admin(gw, 'DELETE', `/admin/v1/keys/${id}`)).status).toBe(200)
      const adminId = `admin:${createHash('sha256').update(ADMIN_KEY).digest('hex').slice(0, 12)}`
      const trail = listOf(await admin(gw, 'GET', '/admin/v1/audit')).filter((e) => e.target === id)
      expect(trail.map((e) => [e.action, e.actor])).toEqual([['key.revoke', adminId], ['key.update', adminId], ['key.create', adminId]])
      expect(trail.find((e) => e.action === 'key.update')?.detail).toEqual({ team: 'ops', name: 'audited', changes: { tags: { before: null, after: ['x'] } } })
    })

    it('restart keeps runtime keys (and revocations): a new gateway on the same store', async () => {
      const { key: live } = await create({ team: 'research', name: 'survivor', models: ['gpt-b'] })
      const { id: goneId, key: gone } = await create({ team: 'research', name: 'revoked-before-restart' })
      expect((await admin(gw, 'DELETE', `/admin/v1/keys/${goneId}`)).status).toBe(200)
      allLogs.push(...gw.logs)
      await gw.stop()
      gw = await startTestGateway(yaml(vendor.url, storeUrl))
      expect(await chatStatus(gw, live, 'gpt-b')).toBe(200)
      expect(await chatStatus(gw, live, 'gpt-a')).toBe(403)
      expect(await chatStatus(gw, gone, 'gpt-a')).toBe(401)
      expect(await chatStatus(gw, CONFIG_KEY, 'gpt-a')).toBe(200)
      const ready = await fetch(`${gw.url}/readyz`)
      expect(ready.status).toBe(200)
      expect(((await ready.json()) as Obj).keys).toMatchObject({ store: 'ok', propagation: 'poll' })
    })

    it('no key material in logs or in any admin response after creation', async () => {
      allLogs.push(...gw.logs)
      expect(createdKeys.length).toBeGreaterThan(10)
      const secrets = [...createdKeys, CONFIG_KEY, VENDOR_KEY, ADMIN_KEY]
      const logText = allLogs.join('\n')
      expect(allLogs.length).toBeGreaterThan(0)
      for (const s of secrets) expect(logText).not.toContain(s)
      // only a creation response carries its key, and only its own
      for (const r of adminResponses) {
        const isCreate = r.method === 'POST' && r.status === 201
        for (const s of secrets) {
          if (isCreate && r.text.includes(`"key":"${s}"`)) continue
          expect(r.text, `${r.method} ${r.path}`).not.toContain(s)
        }
      }
      // the key body part alone (no prefix) never appears either
      for (const k of createdKeys) expect(logText).not.toContain(k.slice(6, 26))
    })
  })
}
