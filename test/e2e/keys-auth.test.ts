/**
 * Authentication edges through the real gateway: failed-auth throttling per client address
 * (without touching good keys), `server.auth: none`, and the shipped config keeping auth on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import OpenAI from 'openai'
import { parseConfig } from '../../src/config/load.ts'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { chatStatus } from './keys-support.ts'

const GOOD = 'sk-sb-throttle-suite-good-key-0000000001'

describe('failed authentications are throttled per client address', () => {
  let vendor: StandIn
  let gw: TestGateway
  beforeAll(async () => {
    vendor = await startStandIn()
    gw = await startTestGateway(`
store: { url: "sqlite::memory:" }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor-x-000000000000"] } }
models: { gpt-a: { targets: [{ provider: up, model: up-a }] } }
teams: { t: { keys: { good: { key: "${GOOD}" } } } }
`)
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  it('20 failures answer 401; the 21st within 10 s answers 429 with retry-after; a good key still works', async () => {
    for (let i = 0; i < 20; i++) expect(await chatStatus(gw, `sk-sb-wrong-${i}`)).toBe(401)
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-sb-wrong-again', 'content-type': 'application/json' }, body: '{"model":"gpt-a","messages":[]}' })
    expect(r.status).toBe(429)
    const retryAfter = Number(r.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(10)
    expect(await r.json()).toEqual({ error: { message: `Too many failed authentications from your address; retry in ${retryAfter} s with a valid key.`, type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } })
    // no key at all counts as a failure too
    expect(await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: '{}' }).then((x) => x.status)).toBe(429)
    // the good key from the same address is untouched
    expect(await chatStatus(gw, GOOD)).toBe(200)
    const models = await new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: GOOD, maxRetries: 0 }).models.list()
    expect(models.data.map((m) => m.id)).toEqual(['gpt-a'])
  })
})

describe('wrong admin keys count as failed authentications', () => {
  it('past 20 failures from one address the admin API answers 429; the right admin key still works', async () => {
    const gw = await startTestGateway(`
server: { admin_keys: ["sb-admin-right-key-000000"] }
store: { url: "sqlite::memory:" }
`)
    try {
      const get = (key: string) => fetch(`${gw.url}/admin/v1/teams`, { headers: { authorization: `Bearer ${key}` } })
      for (let i = 0; i < 20; i++) expect((await get(`sb-admin-guess-${i}`)).status).toBe(401)
      const r = await get('sb-admin-guess-again')
      expect(r.status).toBe(429)
      expect(r.headers.get('retry-after')).toMatch(/^([1-9]|10)$/)
      expect((await get('sb-admin-right-key-000000')).status).toBe(200)
    } finally {
      await gw.stop()
    }
  })
})

describe('every route that authenticates counts failures (GET /v1/models, /v1/responses/{id})', () => {
  it('past 20 failures there, a wrong key anywhere answers 429; a good key still works', async () => {
    for (const path of ['/v1/models', '/v1/models/gpt-a', '/v1/responses/resp_sb0123', '/v1/responses/resp_sb0123/input_items']) {
      const gw = await startTestGateway(`
store: { url: "sqlite::memory:" }
providers: { m: { type: mock } }
models: { gpt-a: { targets: [{ provider: m, model: mock-1 }] } }
teams: { t: { keys: { good: { key: "${GOOD}" } } } }
`)
      try {
        const get = (key: string) => fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } })
        for (let i = 0; i < 20; i++) expect((await get(`guess-${i}`)).status, path).toBe(401)
        const r = await get('guess-again')
        expect(r.status, path).toBe(429)
        expect(r.headers.get('retry-after')).toMatch(/^([1-9]|10)$/)
        expect((await fetch(`${gw.url}/v1/models`, { headers: { authorization: 'Bearer guess-more' } })).status).toBe(429)
        expect((await get(GOOD)).status, path).not.toBe(429)
      } finally {
        await gw.stop()
      }
    }
  })
})

describe('one secret under two teams', () => {
  it('is a config error at start naming both key paths (it authenticated as the last team, silently)', async () => {
    const yaml = `
providers: { m: { type: mock } }
models: { cheap: { targets: [{ provider: m, model: mock-1 }] }, pricey: { targets: [{ provider: m, model: mock-2 }] } }
teams:
  A: { models: [cheap], keys: { bot: { key: "\${A_KEY}" } } }
  B: { models: [pricey], keys: { bot: { key: "\${B_KEY}" } } }
`
    await expect(startTestGateway(yaml, { A_KEY: 'shared-secret-value-123', B_KEY: 'shared-secret-value-123' })).rejects.toMatchObject({
      name: 'ConfigError',
      problems: [expect.stringMatching(/^teams\.B\.keys\.bot: the same secret as teams\.A\.keys\.bot;/)],
    })
  })
})

describe('auth modes', () => {
  it('server.auth: none admits calls without a key, as team default', async () => {
    const vendor = await startStandIn()
    const gw = await startTestGateway(`
server: { auth: none }
store: { url: "sqlite::memory:" }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor-x-000000000000"] } }
models: { gpt-a: { targets: [{ provider: up, model: up-a }] } }
`)
    try {
      const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-a', messages: [{ role: 'user', content: 'hi' }] }) })
      expect(r.status).toBe(200)
    } finally {
      await gw.stop()
      await vendor.close()
    }
  })

  it('the shipped config keeps auth on, with the documented demo key', async () => {
    const text = readFileSync(new URL('../../config/switchboard.yaml', import.meta.url), 'utf8')
    const { config } = parseConfig(text, 'config/switchboard.yaml', {})
    expect(config.server.auth).toBe('keys')
    expect(config.teams.demo?.keys.demo?.key).toBe('sk-sb-demo-key')
    const gw = await startTestGateway(text.replace('sqlite://./data/switchboard.db', '"sqlite::memory:"'), {})
    try {
      const body = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] })
      expect((await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body })).status).toBe(401)
      expect(await chatStatus(gw, 'sk-sb-demo-key', 'demo')).toBe(200)
    } finally {
      await gw.stop()
    }
  })
})
