/**
 * Several replicas on one store: a key created, disabled or revoked on one replica takes effect on
 * the others within a second (Redis pub/sub, else the store poll); with the store unreachable,
 * known keys keep working from memory, unknown ones are refused, and readiness says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, REDIS_URL, admin, chatStatus, dropPgSchema, pgAvailable, pgExec, pgSchema, pgUrl, redisAvailable, within, type Obj } from './keys-support.ts'

const yaml = (vendorUrl: string, storeUrl: string, redis: string) => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "${storeUrl}" }
${redis}
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor-replicas-0000000000000000"] }
models:
  gpt-a: { targets: [{ provider: up, model: up-a }] }
routing: { retries: { max_attempts: 1 } }
teams:
  research: {}
`

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const modes = [
  { name: 'Redis pub/sub + Postgres', available: pgAvailable && redisAvailable, redis: () => `redis: { url: "${REDIS_URL}", key_prefix: "sbtest:${runId()}:" }`, propagation: 'redis+poll' },
  { name: 'Postgres only (store poll)', available: pgAvailable, redis: () => '', propagation: 'poll' },
]

for (const mode of modes) {
  describe.skipIf(!mode.available)(`two replicas, ${mode.name}`, () => {
    let vendor: StandIn
    let a: TestGateway
    let b: TestGateway
    const schema = pgSchema()
    const revokeMs: number[] = []

    beforeAll(async () => {
      vendor = await startStandIn()
      const redis = mode.redis()
      a = await startTestGateway(yaml(vendor.url, pgUrl(schema), redis))
      b = await startTestGateway(yaml(vendor.url, pgUrl(schema), redis))
    })
    afterAll(async () => {
      await a?.stop()
      await b?.stop()
      await vendor?.close()
      await dropPgSchema(schema)
      if (revokeMs.length) console.info(`[keys] ${mode.name}: revocation seen by the other replica after ${revokeMs.map((m) => m.toFixed(0)).join(', ')} ms`)
    })

    const createOn = async (gw: TestGateway, name: string) => {
      const r = await admin(gw, 'POST', '/admin/v1/keys', { team: 'research', name })
      expect(r.status, r.text).toBe(201)
      return { id: String(r.body.id), key: String(r.body.key) }
    }

    it('readiness names the propagation mode', async () => {
      const r = (await (await fetch(`${b.url}/readyz`)).json()) as Obj
      expect(r.keys).toMatchObject({ store: 'ok', propagation: mode.propagation })
    })

    it('a key created on A works on B within a second', async () => {
      const { key } = await createOn(a, 'made-on-a')
      expect(await chatStatus(a, key)).toBe(200)
      const ms = await within(1000, async () => (await chatStatus(b, key, 'gpt-a', 'authorization', '127.0.0.2')) === 200)
      expect(ms).toBeGreaterThanOrEqual(0)
    })

    it('revoked on A: B answers 401 within 1 s (five keys)', async () => {
      for (let i = 0; i < 5; i++) {
        const { id, key } = await createOn(a, `rev-${i}`)
        const from = `127.0.1.${i + 1}`
        // Waiting for B to learn the new key (up to a poll interval) answers 401s; from another
        // address, so they do not count against \`from\`'s failed-auth allowance (20 per 10 s).
        expect(await within(1000, async () => (await chatStatus(b, key, 'gpt-a', 'authorization', `127.0.4.${i + 1}`)) === 200)).toBeGreaterThanOrEqual(0)
        expect((await admin(a, 'DELETE', `/admin/v1/keys/${id}`)).status).toBe(200)
        const ms = await within(1000, async () => (await chatStatus(b, key, 'gpt-a', 'authorization', from)) === 401)
        expect(ms, `revocation not seen on B within 1 s (key ${i})`).toBeGreaterThanOrEqual(0)
        revokeMs.push(ms)
        expect(await chatStatus(a, key)).toBe(401)
      }
      // pub/sub is near-immediate; the poll alone averages half its interval
      if (mode.propagation === 'redis+poll') expect(median(revokeMs)).toBeLessThan(200)
    })

    it('disabled on B: A answers 401 within 1 s; enabled again: A accepts it again', async () => {
      const { id, key } = await createOn(a, 'toggle')
      expect((await admin(b, 'PATCH', `/admin/v1/keys/${id}`, { enabled: false })).status).toBe(200)
      expect(await within(1000, async () => (await chatStatus(a, key, 'gpt-a', 'authorization', '127.0.2.1')) === 401)).toBeGreaterThanOrEqual(0)
      expect((await admin(b, 'PATCH', `/admin/v1/keys/${id}`, { enabled: true })).status).toBe(200)
      expect(await within(1000, async () => (await chatStatus(a, key, 'gpt-a', 'authorization', '127.0.2.1')) === 200)).toBeGreaterThanOrEqual(0)
    })

    it('store unreachable: known keys keep working, unknown keys are refused, readiness reports it; then recovers', async () => {
      const { key: known } = await createOn(a, 'known-before-outage')
      expect(await within(1000, async () => (await chatStatus(b, known, 'gpt-a', 'authorization', '127.0.3.1')) === 200)).toBeGreaterThanOrEqual(0)
      // Take the table away under the gateways (as a store outage looks to them), then bring it back.
      await pgExec(`ALTER TABLE ${schema}.virtual_keys RENAME TO virtual_keys_away`)
      try {
        const down = await within(2000, async () => {
          const r = (await (await fetch(`${b.url}/readyz`)).json()) as Obj
          return (r.keys as Obj).store === 'unreachable'
        })
        expect(down).toBeGreaterThanOrEqual(0)
        expect(await chatStatus(b, known)).toBe(200)
        expect(await chatStatus(b, 'sk-sb-never-seen-by-this-replica-000000000000000', 'gpt-a', 'authorization', '127.0.3.2')).toBe(401)
        expect(b.logs.some((l) => l.includes('key store unreachable; serving known keys from memory and refusing unknown ones'))).toBe(true)
      } finally {
        await pgExec(`ALTER TABLE ${schema}.virtual_keys_away RENAME TO virtual_keys`)
      }
      const up = await within(2000, async () => {
        const r = (await (await fetch(`${b.url}/readyz`)).json()) as Obj
        return (r.keys as Obj).store === 'ok'
      })
      expect(up).toBeGreaterThanOrEqual(0)
      expect(await chatStatus(b, known)).toBe(200)
    })
  })
}
