/**
 * The circuit breaker through the real gateway: it opens after N failures within the window,
 * rejects fast while open (503 no_healthy_upstream, retry-after until the half-open), lets exactly
 * one probe through after the cooldown, closes on success and re-opens on failure; /readyz shows it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { json, chatCompletion, type StandIn, type Handler } from '../helpers/stand-in.ts'
import type { TestGateway } from '../helpers/gateway.ts'
import { chat, startTwoVendors, type TwoVendors } from './routing-fixtures.ts'

let A: StandIn
let gw: TestGateway
let env: TwoVendors

const ok = (text: string, delayMs = 0): Handler => async (req, res) => {
  if (delayMs) await new Promise((r) => setTimeout(r, delayMs))
  json(200, chatCompletion(text, String(req.json?.model)))(req, res)
}
const fail: Handler = json(500, { error: { message: 'down', type: 'server_error', param: null, code: null } })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const circuits = async () => ((await (await fetch(`${gw.url}/readyz`)).json()) as { circuits: Record<string, string> }).circuits

beforeAll(async () => {
  env = await startTwoVendors(ok('from A'), ok('from B'), `
models:
  cb: { targets: [{ provider: a, model: a-cb }] }
  cb2: { targets: [{ provider: a, model: a-cb2, weight: 1 }, { provider: b, model: b-cb2, weight: 0 }] }
routing:
  retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 5 }
  circuit_breaker: { failures: 2, window_ms: 10000, cooldown_ms: 400 }
`)
  A = env.A
  gw = env.gw
})
afterAll(() => env?.close())
beforeEach(() => env.reset())

describe('circuit breaker', () => {
  it('opens, rejects fast, probes once after the cooldown, closes on success', async () => {
    A.queue.push(fail, fail)
    const first = await chat(gw, 'cb') // two attempts, two failures: the circuit opens
    expect(first.status).toBe(502)
    expect(A.received).toHaveLength(2)
    expect(await circuits()).toEqual({ 'cb#0': 'open' })

    const rejected = await chat(gw, 'cb')
    expect(rejected.status).toBe(503)
    expect(rejected.body.error?.code).toBe('no_healthy_upstream')
    expect(rejected.h('retry-after')).toBe('1')
    expect(rejected.h('x-switchboard-attempts')).toBe('0')
    expect(rejected.ms).toBeLessThan(100)
    expect(A.received).toHaveLength(2)

    await sleep(450)
    expect(await circuits()).toEqual({ 'cb#0': 'half-open' })
    A.queue.push(ok('probe ok', 250))
    const probe = chat(gw, 'cb')
    await sleep(80)
    const during = await chat(gw, 'cb') // the one probe is in flight: rejected
    expect(during.status).toBe(503)
    expect((await probe).status).toBe(200)
    expect((await probe).body.choices?.[0]?.message.content).toBe('probe ok')
    expect(A.received).toHaveLength(3)
    expect(await circuits()).toEqual({})
    expect((await chat(gw, 'cb')).status).toBe(200)
  })

  it('a failed probe re-opens the circuit for another cooldown', async () => {
    A.queue.push(fail, fail)
    await chat(gw, 'cb')
    expect(await circuits()).toEqual({ 'cb#0': 'open' })
    await sleep(450)
    A.queue.push(fail)
    const probe = await chat(gw, 'cb')
    expect(probe.status).toBe(502)
    expect(probe.h('x-switchboard-attempts')).toBe('1') // the retry found the circuit open again
    expect(await circuits()).toEqual({ 'cb#0': 'open' })
    expect((await chat(gw, 'cb')).status).toBe(503)
    expect(A.received).toHaveLength(3)
    await sleep(450)
    expect((await chat(gw, 'cb')).status).toBe(200)
    expect(await circuits()).toEqual({})
  })

  it('routing skips an open target: the other target serves in one attempt', async () => {
    A.queue.push(fail, fail)
    for (let i = 0; i < 2; i++) {
      const r = await chat(gw, 'cb2')
      expect([r.status, r.h('x-switchboard-provider'), r.h('x-switchboard-attempts')]).toEqual([200, 'b', '2'])
    }
    expect(await circuits()).toEqual({ 'cb2#0': 'open' })
    const r = await chat(gw, 'cb2')
    expect([r.status, r.h('x-switchboard-provider'), r.h('x-switchboard-attempts')]).toEqual([200, 'b', '1'])
    expect(A.received).toHaveLength(2)
  })
})
