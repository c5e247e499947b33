/**
 * The shared budget counters against the real Redis: a reservation held by a replica that died
 * mid-call is released once its hold is over (when the room is needed), and every key expires.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { redisCounters } from '../../../src/budget/redis-counters.ts'
import { scopeOf, toNano, type Scope } from '../../../src/budget/scopes.ts'
import { runId } from '../../helpers/gateway.ts'
import { REDIS_URL, redisAvailable } from '../../helpers/services.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const noBaseline = async () => 0

describe.skipIf(!redisAvailable)('budget counters in Redis', () => {
  let client: Redis
  const prefix = `sbtest:${runId()}:`
  beforeAll(() => { client = new Redis(REDIS_URL) })
  afterAll(() => client.disconnect())

  const monthly = (id: string, usd: number): Scope => scopeOf('team', id, id, { usd, period: 'monthly' } as never, usd, Date.now(), { team: id })
  const run = (id: string, usd: number): Scope => scopeOf('team_run', `${id}|run-1`, id, { usd, period: 'monthly' } as never, usd, Date.now(), { team: id, runId: 'run-1' })
  const keysOf = (s: Scope) => {
    const h = `${prefix}budget:{${s.team}}:${s.counter}`
    return [h, `${h}:r`] as const
  }

  it("releases a dead replica's reservation once its hold is over, when the room is needed", async () => {
    const counters = redisCounters(client, prefix, 300)
    const scope = monthly('team-hold', 1)
    // A replica reserves $0.80 and dies: it never settles.
    const held = await counters.reserve([scope], toNano(0.8), 'dead.1', noBaseline)
    expect(held.ok).toBe(true)
    const refused = await counters.reserve([scope], toNano(0.5), 'live.1', noBaseline)
    expect(refused.ok ? null : refused.totals).toEqual({ spent: 0, reserved: toNano(0.8) })
    await sleep(350)
    const after = await counters.reserve([scope], toNano(0.5), 'live.2', noBaseline)
    expect(after.ok && after.totals).toEqual([{ spent: 0, reserved: toNano(0.5) }])
  })

  it('a period counter expires after its period; a run counter slides with each reservation', async () => {
    const counters = redisCounters(client, prefix, 60_000)
    const period = monthly('team-ttl', 10)
    const agentRun = run('team-ttl', 10)
    const r = await counters.reserve([period, agentRun], toNano(0.1), 'live.3', noBaseline)
    expect(r.ok).toBe(true)
    const [ph, pz] = keysOf(period)
    const [rh, rz] = keysOf(agentRun)
    const [phTtl, pzTtl, rhTtl, rzTtl] = await Promise.all([ph, pz, rh, rz].map((k) => client.ttl(k)))
    expect(rhTtl).toBeGreaterThan(7 * 86_400 - 5)
    const toPeriodEnd = Math.ceil((period.window.end - Date.now()) / 1000)
    for (const ttl of [phTtl, pzTtl]) {
      expect(ttl).toBeGreaterThan(toPeriodEnd)
      expect(ttl).toBeLessThanOrEqual(toPeriodEnd + 2 * 86_400 + 1)
    }
    // Run counters: 7 days from the latest reservation.
    await client.expire(rh!, 100)
    await counters.settle([period, agentRun], toNano(0.1), 'live.3', toNano(0.05))
    expect(await counters.reserve([period, agentRun], toNano(0.1), 'live.4', noBaseline)).toMatchObject({ ok: true })
    expect(await client.ttl(rh!)).toBeGreaterThan(7 * 86_400 - 5)
    expect(rzTtl).toBeGreaterThan(7 * 86_400 - 5)
  })
})
