/**
 * Timeouts provoked for real on loopback: a vendor slow to send headers (first byte), one slower
 * than a target's per-attempt total, and a request past its model's total deadline. (A stall
 * mid-stream, the idle timeout, is in routing-streams.test.ts; connect timeouts cannot be provoked
 * reliably on loopback and are covered by test/unit/routing/transport-errors.test.ts.)
 * undici checks its timers about every half second, so the bounds allow for that.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { json, chatCompletion, type StandIn, type Handler } from '../helpers/stand-in.ts'
import type { TestGateway } from '../helpers/gateway.ts'
import { accessLine, chat, startTwoVendors, type TwoVendors } from './routing-fixtures.ts'

let A: StandIn
let gw: TestGateway
let env: TwoVendors

const ok = (text: string): Handler => (req, res) => json(200, chatCompletion(text, String(req.json?.model)))(req, res)
const slow = (ms: number): Handler => async (req, res) => {
  await new Promise((r) => setTimeout(r, ms))
  if (!res.destroyed) ok('slow A')(req, res)
}

beforeAll(async () => {
  env = await startTwoVendors(ok('from A'), ok('from B'), `
models:
  fb: { targets: [{ provider: a, model: a1, weight: 1 }, { provider: b, model: b1, weight: 0 }], timeouts: { first_byte_ms: 200 } }
  fb-solo: { targets: [{ provider: a, model: a-solo }], timeouts: { first_byte_ms: 200 } }
  capped: { targets: [{ provider: a, model: a-cap, weight: 1, timeouts: { total_ms: 200 } }, { provider: b, model: b-cap, weight: 0 }] }
  deadline: { targets: [{ provider: a, model: a-dl }], timeouts: { total_ms: 300 } }
routing:
  retries: { max_attempts: 2, backoff_ms: 10, max_backoff_ms: 50 }
  circuit_breaker: { failures: 1000 }
`)
  A = env.A
  gw = env.gw
})
afterAll(() => env?.close())
beforeEach(() => env.reset())

describe('timeouts', () => {
  it('first byte: a vendor slow to answer is abandoned for the next target', async () => {
    A.queue.push(slow(3000))
    const r = await chat(gw, 'fb')
    expect(r.status).toBe(200)
    expect(r.body.choices?.[0]?.message.content).toBe('from B')
    expect(r.ms).toBeGreaterThanOrEqual(200)
    expect(r.ms).toBeLessThan(1800)
    const line = await accessLine(gw, r.h('x-request-id')!)
    expect(line.failedAttempts).toEqual([{ provider: 'a', model: 'a1', error: 'first_byte_timeout' }])
    await A.received[0]!.aborted
  })

  it('first byte on every attempt: 504 upstream_timeout, never a hang', async () => {
    A.queue.push(slow(3000), slow(3000))
    const r = await chat(gw, 'fb-solo')
    expect(r.status).toBe(504)
    expect(r.body.error?.code).toBe('upstream_timeout')
    expect(r.body.error?.message).toBe('The vendor did not answer in time (first byte timeout) after every attempt. Retry, or raise routing.timeouts.')
    expect(r.h('x-switchboard-attempts')).toBe('2')
    expect(r.ms).toBeLessThan(3000)
  })

  it("a target's total_ms caps one attempt there; the next target serves", async () => {
    A.queue.push(slow(3000))
    const r = await chat(gw, 'capped')
    expect(r.status).toBe(200)
    expect(r.h('x-switchboard-provider')).toBe('b')
    expect(r.ms).toBeLessThan(1000)
    const line = await accessLine(gw, r.h('x-request-id')!)
    expect(line.failedAttempts).toEqual([{ provider: 'a', model: 'a-cap', error: 'total_timeout' }])
  })

  it("the model's total_ms ends the request with 504 however the attempts go", async () => {
    A.queue.push(slow(3000))
    const r = await chat(gw, 'deadline')
    expect(r.status).toBe(504)
    expect(r.body.error?.code).toBe('upstream_timeout')
    expect(r.body.error?.message).toContain('total timeout')
    expect(r.ms).toBeGreaterThanOrEqual(300)
    expect(r.ms).toBeLessThan(1000)
    expect(A.received).toHaveLength(1)
  })
})
