/**
 * Budget leases against the real Redis, with two counter sets as two replicas: a replica holds a
 * block of a budget and reserves against it locally, yet the replicas together never commit more
 * than the budget; local spend reaches Redis within the flush interval; leases go back when idle or
 * closed; a silent replica's hold is released once its ttl passes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { redisCounters, type BudgetLeaseOptions } from '../../../src/budget/redis-counters.ts'
import { scopeOf, toNano, type Scope } from '../../../src/budget/scopes.ts'
import type { ReserveResult, Totals } from '../../../src/budget/counters.ts'
import { runId } from '../../helpers/gateway.ts'
import { REDIS_URL, redisAvailable } from '../../helpers/services.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const noBaseline = async () => 0
const LEASE: BudgetLeaseOptions = { divisor: 16, maxBlock: 256, ttlMs: 600, flushMs: 50 }
const CENT = toNano(0.01)

type Counters = ReturnType<typeof redisCounters>
interface Replica { client: Redis; counters: Counters }
let open: Replica[] = []
const replica = (prefix: string, lease: BudgetLeaseOptions | null = LEASE): Replica => {
  const client = new Redis(REDIS_URL)
  const r = { client, counters: redisCounters(client, prefix, 60_000, lease ?? undefined) }
  open.push(r)
  return r
}
afterEach(async () => {
  for (const r of open) {
    await r.counters.close().catch(() => {})
    r.client.disconnect()
  }
  open = []
})

const monthly = (id: string, usd: number): Scope => scopeOf('team', id, id, { usd, period: 'monthly' } as never, usd, Date.now(), { team: id })
const totalsIn = async (client: Redis, prefix: string, s: Scope) => {
  const [spent, reserved] = await client.hmget(`${prefix}budget:{${s.team}}:${s.counter}`, 'spent', 'reserved')
  return { spent: Number(spent), reserved: Number(reserved) }
}
let seq = 0
const reserve = async (r: Replica, s: Scope, amount = CENT) => {
  const token = `t.${++seq}`
  const result: ReserveResult = await r.counters.reserve([s], amount, token, noBaseline)
  return { ok: result.ok, settle: async (cost: number): Promise<Totals[]> => r.counters.settle([s], amount, token, cost) }
}

describe.skipIf(!redisAvailable)('budget leases (two replicas, real Redis)', () => {
  it('never commits more than the budget across replicas, and Redis ends exact once both close', async () => {
    const prefix = `sbtest:${runId()}:`
    const scope = monthly('team-lease', 10) // $10: a thousand calls of a cent
    const [a, b] = [replica(prefix), replica(prefix)]
    await (await reserve(a, scope)).settle(CENT / 2) // claims a lease
    await (await reserve(b, scope)).settle(CENT / 2)
    const calls = await Promise.all(Array.from({ length: 1200 }, (_, i) => reserve(i % 2 ? b : a, scope)))
    const admitted = calls.filter((c) => c.ok)
    // 1 cent is already spent: at most 999 more calls of a cent fit.
    expect(admitted.length).toBeLessThanOrEqual(999)
    expect(admitted.length).toBeGreaterThan(900)
    for (const c of admitted) await c.settle(CENT / 4)
    await a.counters.close()
    await b.counters.close()
    const t = await totalsIn(a.client, prefix, scope)
    expect(t).toEqual({ spent: CENT + admitted.length * (CENT / 4), reserved: 0 })
  })

  it('reserves locally against a lease, and local spend reaches Redis within the flush interval', async () => {
    const prefix = `sbtest:${runId()}:`
    const scope = monthly('team-flush', 100)
    const a = replica(prefix)
    await (await reserve(a, scope)).settle(CENT) // claims a full block: 256 calls' worth
    const before = await a.client.zcard(`${prefix}budget:{${scope.team}}:${scope.counter}:r`)
    const local = await Promise.all(Array.from({ length: 50 }, () => reserve(a, scope)))
    expect(local.every((c) => c.ok)).toBe(true)
    // No reservation of their own in Redis: they were taken from the lease.
    expect(await a.client.zcard(`${prefix}budget:{${scope.team}}:${scope.counter}:r`)).toBe(before)
    const totals = await local[0]!.settle(2 * CENT)
    expect(totals[0]!.spent).toBe(3 * CENT)
    await sleep(4 * LEASE.flushMs)
    expect((await totalsIn(a.client, prefix, scope)).spent).toBe(3 * CENT)
    // A replica that starts later sees it in Redis.
    const b = replica(prefix)
    expect((await b.counters.read(scope, noBaseline)).spent).toBe(3 * CENT)
    for (const c of local.slice(1)) await c.settle(0)
  })

  it('hands an idle lease back', async () => {
    const prefix = `sbtest:${runId()}:`
    const scope = monthly('team-idle', 100)
    const a = replica(prefix)
    await (await reserve(a, scope)).settle(CENT)
    expect((await totalsIn(a.client, prefix, scope)).reserved).toBeGreaterThan(0)
    await sleep(2600) // idle for longer than IDLE_MS (2 s)
    expect(await totalsIn(a.client, prefix, scope)).toEqual({ spent: CENT, reserved: 0 })
  })

  it("a silent replica's hold is released once its ttl passes", async () => {
    const prefix = `sbtest:${runId()}:`
    const scope = monthly('team-dead', 1) // $1: a hundred calls of a cent
    const dead = replica(prefix)
    await (await reserve(dead, scope)).settle(0) // holds a sixteenth of what is left
    dead.client.disconnect()
    const live = replica(prefix)
    const during = await Promise.all(Array.from({ length: 100 }, () => reserve(live, scope)))
    const admittedDuring = during.filter((c) => c.ok).length
    expect(admittedDuring).toBeLessThan(100)
    for (const c of during) if (c.ok) await c.settle(0)
    await sleep(LEASE.ttlMs + 100)
    const after = await Promise.all(Array.from({ length: 100 }, () => reserve(live, scope)))
    expect(after.filter((c) => c.ok).length).toBe(100)
  })

  it('renews a hold in use while new blocks keep coming, so no other replica can take it', async () => {
    const prefix = `sbtest:${runId()}:`
    const scope = monthly('team-renew', 10) // room for a thousand calls of a cent
    const small: BudgetLeaseOptions = { ...LEASE, maxBlock: 8 }
    const [a, b] = [replica(prefix, small), replica(prefix, small)]
    // A keeps calls in flight (never settled) for several ttls while claiming block after block.
    const inFlight: Array<Awaited<ReturnType<typeof reserve>>> = []
    const end = Date.now() + 3 * LEASE.ttlMs
    while (Date.now() < end) {
      const c = await reserve(a, scope)
      if (c.ok) inFlight.push(c)
      await sleep(2)
    }
    const bCalls = await Promise.all(Array.from({ length: 1000 }, () => reserve(b, scope)))
    expect(inFlight.length + bCalls.filter((c) => c.ok).length).toBeLessThanOrEqual(1000)
    for (const c of inFlight) await c.settle(0)
  })

  it('hands the hold back on close while a renewal is still in flight', async () => {
    const prefix = `sbtest:${runId()}:`
    const scope = monthly('team-close-race', 100)
    const a = replica(prefix)
    await (await reserve(a, scope)).settle(CENT) // claims a lease
    await (await reserve(a, scope)).settle(CENT) // taken from the lease: its spend waits for the next flush
    // Replies stop being read: the next tick's flush (spend written, hold renewed) stays in flight.
    const socket = (a.client as unknown as { stream: { pause(): void; resume(): void } }).stream
    socket.pause()
    await sleep(3 * LEASE.flushMs)
    const closed = a.counters.close()
    await sleep(20)
    socket.resume()
    await closed
    // Without waiting for the renewal, the hand-back named the members it replaced and the
    // renewal's new member stayed held.
    expect(await totalsIn(a.client, prefix, scope)).toEqual({ spent: 2 * CENT, reserved: 0 })
  })

  it('without leases every reservation is held in Redis', async () => {
    const prefix = `sbtest:${runId()}:`
    const scope = monthly('team-nolease', 100)
    const a = replica(prefix, null)
    const calls = await Promise.all(Array.from({ length: 20 }, () => reserve(a, scope)))
    expect(calls.every((c) => c.ok)).toBe(true)
    expect(await totalsIn(a.client, prefix, scope)).toEqual({ spent: 0, reserved: 20 * CENT })
  })
})
