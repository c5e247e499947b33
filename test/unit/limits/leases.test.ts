/**
 * Rate-limit leases against the real Redis, with two stores as two replicas: a block of a large
 * limit is claimed in the admitting script and spent locally, yet the replicas together never
 * admit more than the limit; near the limit every request is decided in Redis; leased slots and
 * unused credits go back to Redis when idle or closed, and a silent replica's slots expire.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { configSchema } from '../../../src/config/schema.ts'
import type { Principal } from '../../../src/core/call.ts'
import { createRedisStore, type LeaseOptions, type LocalMasks, type RedisStore } from '../../../src/limits/redis-store.ts'
import { CONC, RPM, TPM, createScopeResolver, type ScopePlan } from '../../../src/limits/scopes.ts'
import { runId } from '../../helpers/gateway.ts'
import { REDIS_URL, awayFromBoundary, redisAvailable, sleep } from './support.ts'

const LEASE: LeaseOptions = { divisor: 16, maxBlock: 256, ttlMs: 600 }
const minuteOf = (now: number) => Math.floor(now / 60_000)
const dayOf = (now: number) => Math.floor(now / 86_400_000)

const planFor = (prefix: string, keyLimits: object): ScopePlan => {
  const config = configSchema.parse({ teams: { t: { keys: { k: { key: 'x', limits: keyLimits } } } } })
  const p: Principal = { keyId: 'cfg:t/k', keyName: 'k', team: 't' }
  return createScopeResolver(config, prefix).resolve(p, 'm')!
}

interface Replica { client: Redis; store: RedisStore }
let open: Replica[] = []
const replica = (lease: LeaseOptions | null = LEASE): Replica => {
  const client = new Redis(REDIS_URL)
  const r = { client, store: createRedisStore(client, 60_000, lease ?? undefined) }
  open.push(r)
  return r
}
afterEach(async () => {
  for (const r of open) {
    await r.store.close()
    r.client.disconnect()
  }
  open = []
})

let seq = 0
const reserve = async (r: Replica, plan: ScopePlan, tokens = 1) => {
  const member = `m${++seq}`
  const { decision: d, local } = await r.store.reserve(plan, tokens, member)
  return { d, local, settle: (delta = 0) => (d.ok ? r.store.settle(plan, member, delta, minuteOf(d.now), dayOf(d.now), local) : Promise.resolve()) }
}
const isLocal = (local: LocalMasks, bit: number) => ((local?.[0] ?? 0) & (1 << bit)) !== 0
const redisCount = async (client: Redis, plan: ScopePlan, field: string) => Number(await client.hget(plan.scopes[0]!.key, field) ?? 0)

describe.skipIf(!redisAvailable)('rate-limit leases (two replicas, real Redis)', () => {
  it('admits exactly the limit across replicas, most of it decided locally, and hands unused credit back on close', async () => {
    await awayFromBoundary(60_000, 8000)
    const plan = planFor(`sbtest:${runId()}:`, { rpm: 1000 })
    const [a, b] = [replica(), replica()]
    let admitted = 0
    let local = 0
    // One at a time, alternating: each replica spends its own credit on its turns.
    for (let i = 0; i < 1200; i++) {
      const r = await reserve(i % 2 ? b : a, plan)
      if (r.d.ok) admitted++
      if (isLocal(r.local, RPM)) local++
    }
    expect(admitted).toBe(1000)
    expect(local).toBeGreaterThan(800)
    // Fresh replicas: a small limit (under two requests per block) is never leased.
    const small = planFor(`sbtest:${runId()}:`, { rpm: 20 })
    const smallRuns = await Promise.all(Array.from({ length: 25 }, (_, i) => reserve(i % 2 ? b : a, small)))
    expect(smallRuns.filter((r) => r.d.ok).length).toBe(20)
    expect(smallRuns.some((r) => r.local)).toBe(false)
  })

  it('on close, waits for a top-up still in flight before handing the credit back', async () => {
    await awayFromBoundary(60_000, 8000)
    const plan = planFor(`sbtest:${runId()}:`, { rpm: 1_000_000 })
    const a = replica()
    expect((await reserve(a, plan)).d.ok).toBe(true) // claims a block of 256
    // Replies stop being read; the local requests below bring the credit under half the block,
    // and the top-up that claims the next block stays in flight.
    const socket = (a.client as unknown as { stream: { pause(): void; resume(): void } }).stream
    socket.pause()
    for (let i = 0; i < 150; i++) expect(isLocal((await reserve(a, plan)).local, RPM)).toBe(true)
    const closed = a.store.close()
    await sleep(20)
    socket.resume()
    await closed
    // Every unused credit is back: Redis counts exactly the requests admitted.
    expect(await redisCount(a.client, plan, 'mn')).toBe(151)
  })

  it('never lets concurrent bursts on two replicas exceed the limit', async () => {
    await awayFromBoundary(60_000, 8000)
    const plan = planFor(`sbtest:${runId()}:`, { rpm: 600 })
    const [a, b] = [replica(), replica()]
    const runs = await Promise.all(Array.from({ length: 800 }, (_, i) => reserve(i % 2 ? b : a, plan)))
    const admitted = runs.filter((r) => r.d.ok).length
    expect(admitted).toBeLessThanOrEqual(600)
    // Credit still held by a replica is counted in Redis: after both hand theirs back, Redis counts
    // exactly what was admitted.
    await a.store.close()
    await b.store.close()
    expect(await redisCount(a.client, plan, 'mn')).toBe(admitted)
  })

  it('refunds unused tokens to the local credit; a bigger actual use is taken from it', async () => {
    await awayFromBoundary(60_000, 5000)
    const plan = planFor(`sbtest:${runId()}:`, { tpm: 100_000_000 })
    const a = replica()
    await (await reserve(a, plan, 1000)).settle(0) // claims a full block: 256 requests' worth
    const first = await reserve(a, plan, 1000)
    expect(isLocal(first.local, TPM)).toBe(true)
    expect(first.d.ok && first.d.used[TPM]).toBe(2000)
    await first.settle(100 - 1000)
    const second = await reserve(a, plan, 1000)
    expect(second.d.ok && second.d.used[TPM]).toBe(1100 + 1000)
    await second.settle(5000 - 1000)
    const third = await reserve(a, plan, 1000)
    expect(third.d.ok && third.d.used[TPM]).toBe(1100 + 5000 + 1000)
    // Redis counted the block when it was claimed, not each local reservation.
    expect(await redisCount(a.client, plan, 'mt')).toBe(1000 + 256 * 1000)
  })

  it('leases concurrency slots: the replicas never hold more in flight than the limit, and idle slots go back', async () => {
    const plan = planFor(`sbtest:${runId()}:`, { concurrency: 200 })
    const [a, b] = [replica(), replica()]
    await (await reserve(a, plan)).settle() // claims 12 slots (a sixteenth of what is free)
    const aRuns = await Promise.all(Array.from({ length: 10 }, () => reserve(a, plan)))
    expect(aRuns.every((r) => r.d.ok && isLocal(r.local, CONC))).toBe(true)
    const bRuns = await Promise.all(Array.from({ length: 200 }, () => reserve(b, plan)))
    const bAdmitted = bRuns.filter((r) => r.d.ok).length
    expect(bAdmitted).toBeGreaterThan(150)
    expect(10 + bAdmitted).toBeLessThanOrEqual(200)
    expect(await a.client.zcount(plan.scopes[0]!.slotsKey, `(${Date.now()}`, '+inf')).toBeLessThanOrEqual(200)
    for (const r of [...aRuns, ...bRuns]) await r.settle()
    // A replica that stays quiet for a renewal tick hands its slots back: then one replica gets them all.
    await sleep(3 * LEASE.ttlMs)
    expect(await a.client.zcount(plan.scopes[0]!.slotsKey, `(${Date.now()}`, '+inf')).toBe(0)
    const again = await Promise.all(Array.from({ length: 200 }, () => reserve(a, plan)))
    expect(again.filter((r) => r.d.ok).length).toBe(200)
    expect((await reserve(b, plan)).d.ok).toBe(false)
  })

  it('a replica that goes silent loses its leased slots once their ttl passes', async () => {
    const plan = planFor(`sbtest:${runId()}:`, { concurrency: 400 })
    const dead = replica()
    await (await reserve(dead, plan)).settle() // claims 24 slots
    const held = await Promise.all(Array.from({ length: 20 }, () => reserve(dead, plan)))
    expect(held.every((r) => r.d.ok && isLocal(r.local, CONC))).toBe(true)
    // The replica dies: no renewals, no settlements.
    dead.client.disconnect()
    const live = replica()
    const during = await Promise.all(Array.from({ length: 400 }, () => reserve(live, plan)))
    expect(during.filter((r) => r.d.ok).length).toBeLessThanOrEqual(400 - 20)
    for (const r of during) await r.settle()
    await sleep(LEASE.ttlMs + 100)
    const after = await Promise.all(Array.from({ length: 400 }, () => reserve(live, plan)))
    expect(after.filter((r) => r.d.ok).length).toBe(400)
  })

  it('forgets leased slots that are gone from Redis when it renews them', async () => {
    const plan = planFor(`sbtest:${runId()}:`, { concurrency: 400 })
    const a = replica()
    await (await reserve(a, plan)).settle() // claims 24 slots
    const held = await reserve(a, plan)
    expect(isLocal(held.local, CONC)).toBe(true)
    // Its slots vanish from Redis (expired and swept while the replica was stalled).
    const members = (await a.client.zrange(plan.scopes[0]!.slotsKey, '0', '-1')).filter((m) => m.includes(':L'))
    expect(members.length).toBe(24)
    await a.client.zrem(plan.scopes[0]!.slotsKey, ...members)
    await sleep(LEASE.ttlMs / 3 + 100) // one renewal tick
    // Not admitted on slots nobody counts any more: decided in Redis (which claims a new block).
    expect(isLocal((await reserve(a, plan)).local, CONC)).toBe(false)
    await held.settle()
  })

  it("never spends a window's credit in the next window", async () => {
    const plan = planFor(`sbtest:${runId()}:`, { rps: 1000 })
    const a = replica()
    await awayFromBoundary(1000, 300)
    await (await reserve(a, plan)).settle() // claims a block of this second
    const inSecond = await reserve(a, plan)
    expect(isLocal(inSecond.local, 0)).toBe(true)
    await sleep(1000 - (Date.now() % 1000) + 20) // into the next second
    const next = await reserve(a, plan)
    expect(next.local).toBeUndefined() // decided in Redis, which claims a block of the new second
    expect(next.d.ok && next.d.used[0]).toBe(1)
  })

  it('keeps renewing leased slots in use while claims come and go', async () => {
    const plan = planFor(`sbtest:${runId()}:`, { rps: 2000, concurrency: 1000 })
    const a = replica()
    await (await reserve(a, plan)).settle() // claims 62 slots
    const held = await Promise.all(Array.from({ length: 60 }, () => reserve(a, plan)))
    expect(held.every((r) => r.d.ok && isLocal(r.local, CONC))).toBe(true)
    // Traffic for several lease ttls, yielding to timers and I/O like a server: claims (rps blocks
    // every second, top-ups) are often in flight when the renewal tick comes.
    const end = Date.now() + 3 * LEASE.ttlMs
    while (Date.now() < end) {
      await (await reserve(a, plan)).settle()
      await new Promise((r) => setImmediate(r))
    }
    // The 60 still in flight hold slots Redis counts (leased ones renewed, or their own).
    expect(await a.client.zcount(plan.scopes[0]!.slotsKey, `(${Date.now()}`, '+inf')).toBeGreaterThanOrEqual(60)
    for (const r of held) await r.settle()
  })

  it('does not hoard a small limit: top-ups come at half the block granted', async () => {
    const plan = planFor(`sbtest:${runId()}:`, { concurrency: 100 })
    const [a, b] = [replica(), replica()]
    for (let i = 0; i < 40; i++) {
      await (await reserve(a, plan)).settle()
      await new Promise((r) => setImmediate(r)) // lets a top-up go out, as a server would
    }
    const leased = (await a.client.zrange(plan.scopes[0]!.slotsKey, '0', '-1')).filter((m) => m.includes(':L'))
    expect(leased.length).toBeLessThanOrEqual(12) // a block of 6, and at most one top-up
    const bRuns = await Promise.all(Array.from({ length: 60 }, () => reserve(b, plan)))
    expect(bRuns.filter((r) => r.d.ok).length).toBe(60)
  })

  it('charges a long call\'s token overshoot even when no concurrency limit keeps its lease busy', async () => {
    await awayFromBoundary(60_000, 5000)
    const plan = planFor(`sbtest:${runId()}:`, { tpm: 100_000_000 })
    const a = replica()
    await (await reserve(a, plan, 1000)).settle(0) // claims 256 requests' worth
    const long = await reserve(a, plan, 1000)
    expect(isLocal(long.local, TPM)).toBe(true)
    await sleep(LEASE.ttlMs + 200) // several renewal ticks with the call in flight
    await long.settle(300_000) // it used 300,000 tokens more than it reserved
    await a.store.close() // hands the credit back: what is left of it, less the overshoot
    expect(await redisCount(a.client, plan, 'mt')).toBe(1000 + 1000 + 300_000)
  })

  it('charges at once an overshoot the credit cannot cover, and keeps one it covers local', async () => {
    await awayFromBoundary(60_000, 5000)
    const plan = planFor(`sbtest:${runId()}:`, { tpm: 1_000_000 })
    const a = replica()
    await (await reserve(a, plan, 1000)).settle(0) // claims a block of 62,437 (a sixteenth of what is left)
    expect(await redisCount(a.client, plan, 'mt')).toBe(1000 + 62_437)
    const covered = await reserve(a, plan, 1000)
    expect(isLocal(covered.local, TPM)).toBe(true)
    await covered.settle(500)
    expect(await redisCount(a.client, plan, 'mt')).toBe(1000 + 62_437) // taken from the credit: no write
    const over = await reserve(a, plan, 1000)
    await over.settle(100_000) // 40,063 more than the credit left (59,937)
    // Redis holds every token used (1,000 + 1,500 + 101,000) and the replica no credit: the next
    // call is decided in Redis, which sees it.
    expect(await redisCount(a.client, plan, 'mt')).toBe(103_500)
    const next = await reserve(a, plan, 1000)
    expect(isLocal(next.local, TPM)).toBe(false)
    expect(next.d.ok && next.d.used[TPM]).toBe(104_500)
    await next.settle(0)
  })

  it('without leases (redis.leases.enabled: false) every request is decided in Redis', async () => {
    await awayFromBoundary(60_000, 3000)
    const plan = planFor(`sbtest:${runId()}:`, { rpm: 1000 })
    const a = replica(null)
    for (let i = 0; i < 20; i++) expect((await reserve(a, plan)).local).toBeUndefined()
    expect(await redisCount(a.client, plan, 'mn')).toBe(20)
  })
})
