/**
 * One contract for both backends: the in-memory counters and the Redis Lua script must decide
 * identically (all-or-nothing across scopes, exact counts, token settlement, concurrency slots).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { configSchema } from '../../../src/config/schema.ts'
import type { Principal } from '../../../src/core/call.ts'
import type { Decision } from '../../../src/limits/decision.ts'
import { createMemoryStore } from '../../../src/limits/memory-store.ts'
import { createRedisStore } from '../../../src/limits/redis-store.ts'
import { CONC, RPM, RPS, TPD, TPM, createScopeResolver, type ScopePlan } from '../../../src/limits/scopes.ts'
import { runId } from '../../helpers/gateway.ts'
import { REDIS_URL, awayFromBoundary, redisAvailable, sleep } from './support.ts'

interface Held { d: Decision; settle(delta: number): Promise<void> }
interface StoreUnderTest { reserve(plan: ScopePlan, tokens: number): Promise<Held>; close(): Promise<void> }

const minuteOf = (now: number) => Math.floor(now / 60_000)
const dayOf = (now: number) => Math.floor(now / 86_400_000)

function memoryBackend(): StoreUnderTest {
  const mem = createMemoryStore()
  return {
    async reserve(plan, tokens) {
      const r = mem.reserve(plan, tokens, Date.now())
      const d = r.decision
      return { d, settle: async (delta) => { if (d.ok) mem.settle(plan, r.counters!, delta, minuteOf(d.now), dayOf(d.now)) } }
    },
    async close() { mem.close() },
  }
}

function redisBackend(slotTtlMs = 60_000): StoreUnderTest {
  const client = new Redis(REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 })
  const store = createRedisStore(client, slotTtlMs)
  let n = 0
  return {
    async reserve(plan, tokens) {
      const member = `m${++n}`
      const { decision: d, local } = await store.reserve(plan, tokens, member)
      return { d, settle: async (delta) => { if (d.ok) await store.settle(plan, member, delta, minuteOf(d.now), dayOf(d.now), local) } }
    },
    async close() {
      await store.close()
      client.disconnect()
    },
  }
}

const planFor = (prefix: string, teamLimits: object | undefined, keyLimits: object | undefined): ScopePlan => {
  const config = configSchema.parse({ teams: { t: { ...(teamLimits ? { limits: teamLimits } : {}), keys: { k: { key: 'x', ...(keyLimits ? { limits: keyLimits } : {}) } } } } })
  const p: Principal = { keyId: 'cfg:t/k', keyName: 'k', team: 't' }
  return createScopeResolver(config, prefix).resolve(p, 'm')!
}

const backends: Array<[string, boolean, (ttl?: number) => StoreUnderTest]> = [
  ['memory', true, () => memoryBackend()],
  ['redis', redisAvailable, (ttl) => redisBackend(ttl)],
]

for (const [name, enabled, make] of backends) {
  describe.skipIf(!enabled)(`limit store contract: ${name}`, () => {
    let store: StoreUnderTest
    beforeAll(() => { store = make() })
    afterAll(async () => { await store.close() })
    const fresh = () => `sbtest:${runId()}:`

    it('admits exactly N per minute, then refuses with the count and the time to the window end', async () => {
      await awayFromBoundary(60_000, 3000)
      const plan = planFor(fresh(), undefined, { rpm: 3 })
      const used: number[] = []
      for (let i = 0; i < 3; i++) {
        const { d } = await store.reserve(plan, 10)
        if (!d.ok) throw new Error('refused early')
        used.push(d.used[RPM]!)
      }
      expect(used).toEqual([1, 2, 3])
      const { d } = await store.reserve(plan, 10)
      expect(d.ok).toBe(false)
      if (d.ok) return
      expect([d.scope, d.limit, d.used]).toEqual([0, RPM, 3])
      expect(d.resetMs).toBeGreaterThan(0)
      expect(d.resetMs).toBeLessThanOrEqual(60_000)
    })

    it('is all-or-nothing: a refusal by one scope increments none', async () => {
      await awayFromBoundary(60_000, 3000)
      const p = fresh()
      const both = planFor(p, { rpm: 2 }, { rpm: 10 })
      const keyOnly = planFor(p, undefined, { rpm: 10 })
      expect((await store.reserve(both, 1)).d.ok).toBe(true)
      expect((await store.reserve(both, 1)).d.ok).toBe(true)
      const { d } = await store.reserve(both, 1)
      expect(d.ok ? null : [d.scope, d.limit, d.used]).toEqual([1, RPM, 2])
      const after = (await store.reserve(keyOnly, 1)).d
      expect(after.ok && after.used[RPM]).toBe(3)
    })

    it('counts requests per second', async () => {
      await awayFromBoundary(1000, 400)
      const plan = planFor(fresh(), undefined, { rps: 2 })
      expect((await store.reserve(plan, 1)).d.ok).toBe(true)
      expect((await store.reserve(plan, 1)).d.ok).toBe(true)
      const { d } = await store.reserve(plan, 1)
      expect(d.ok ? null : [d.limit, d.used]).toEqual([RPS, 2])
      if (!d.ok) expect(d.resetMs).toBeLessThanOrEqual(1000)
    })

    it('reserves tokens, and settling to real usage frees the difference', async () => {
      await awayFromBoundary(60_000, 3000)
      const plan = planFor(fresh(), undefined, { tpm: 1000 })
      const first = await store.reserve(plan, 600)
      expect(first.d.ok && first.d.used[TPM]).toBe(600)
      const refused = (await store.reserve(plan, 600)).d
      expect(refused.ok ? null : [refused.limit, refused.used]).toEqual([TPM, 600])
      await first.settle(100 - 600)
      const second = (await store.reserve(plan, 600)).d
      expect(second.ok && second.used[TPM]).toBe(700)
      const tooBig = (await store.reserve(planFor(fresh(), undefined, { tpm: 1000 }), 1001)).d
      expect(tooBig.ok ? null : [tooBig.limit, tooBig.used]).toEqual([TPM, 0])
    })

    it('settles per-day tokens too, with minute and day limits on one scope', async () => {
      await awayFromBoundary(60_000, 3000)
      const plan = planFor(fresh(), undefined, { tpm: 10_000, tpd: 1000 })
      const first = await store.reserve(plan, 600)
      expect(first.d.ok && [first.d.used[TPM], first.d.used[TPD]]).toEqual([600, 600])
      await first.settle(50 - 600)
      const second = (await store.reserve(plan, 900)).d
      expect(second.ok && [second.used[TPM], second.used[TPD]]).toEqual([950, 950])
    })

    it('holds concurrency slots until settled', async () => {
      const plan = planFor(fresh(), { concurrency: 2 }, undefined)
      const a = await store.reserve(plan, 1)
      const b = await store.reserve(plan, 1)
      expect([a.d.ok, b.d.ok]).toEqual([true, true])
      const c = (await store.reserve(plan, 1)).d
      expect(c.ok ? null : [c.scope, c.limit, c.used, c.resetMs]).toEqual([0, CONC, 2, 1000])
      await a.settle(0)
      expect((await store.reserve(plan, 1)).d.ok).toBe(true)
    })
  })
}

describe.skipIf(!redisAvailable)('redis store: every key it writes expires by itself', () => {
  it('the window hash and the slot set carry a TTL, also once a slot has expired unsettled', async () => {
    const client = new Redis(REDIS_URL)
    const store = createRedisStore(client, 300)
    try {
      const plan = planFor(`sbtest:${runId()}:`, undefined, { rpm: 100, tpd: 100_000, concurrency: 5 })
      const [scope] = plan.scopes
      expect((await store.reserve(plan, 10, 'a')).decision.ok).toBe(true)
      await sleep(350)
      // The first slot expired without a settlement (a crashed replica); new slots still count right.
      const d = (await store.reserve(plan, 10, 'b')).decision
      expect(d.ok && [d.used[RPM], d.used[TPD]]).toEqual([2, 20])
      const [hashTtl, setTtl, live] = await Promise.all([client.pttl(scope!.key), client.pttl(scope!.slotsKey), client.zcount(scope!.slotsKey, `(${Date.now()}`, '+inf')])
      expect(hashTtl).toBeGreaterThan(0)
      expect(hashTtl).toBeLessThanOrEqual(86_400_000 + 60_000)
      expect(setTtl).toBeGreaterThan(0)
      expect(setTtl).toBeLessThanOrEqual(300)
      expect(live).toBe(1)
    } finally {
      client.disconnect()
    }
  })
})

describe.skipIf(!redisAvailable)('redis store: slots of a replica that never settles expire', () => {
  it('frees a slot after its safety TTL', async () => {
    const store = redisBackend(300)
    try {
      const plan = planFor(`sbtest:${runId()}:`, undefined, { concurrency: 1 })
      expect((await store.reserve(plan, 1)).d.ok).toBe(true)
      expect((await store.reserve(plan, 1)).d.ok).toBe(false)
      await sleep(400)
      expect((await store.reserve(plan, 1)).d.ok).toBe(true)
    } finally {
      await store.close()
    }
  })
})
