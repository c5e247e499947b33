/**
 * Load balancing through the real gateway: weighted split within tolerance, least-busy spreading
 * concurrent calls, latency preferring the faster deployment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, json, chatCompletion, type StandIn, type Handler } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { chat, twoVendorConfig } from './routing-fixtures.ts'

const answer = (delayMs: number): Handler => async (req, res) => {
  if (delayMs) await new Promise((r) => setTimeout(r, delayMs))
  json(200, chatCompletion('ok', String(req.json?.model)))(req, res)
}

let A: StandIn
let B: StandIn
const gws: TestGateway[] = []

const gateway = async (strategy: string) => {
  const gw = await startTestGateway(twoVendorConfig(A, B, `
models:
  w: { targets: [{ provider: a, model: a-w, weight: 3 }, { provider: b, model: b-w, weight: 1 }] }
  even: { targets: [{ provider: a, model: a-e }, { provider: b, model: b-e }] }
routing: { strategy: ${strategy} }
`))
  gws.push(gw)
  return gw
}
const served = (model: string) => ({ a: A.received.filter((r) => r.json?.model === `a-${model}`).length, b: B.received.filter((r) => r.json?.model === `b-${model}`).length })

beforeAll(async () => {
  A = await startStandIn(answer(0))
  B = await startStandIn(answer(0))
})
afterAll(async () => {
  for (const gw of gws) await gw.stop()
  await Promise.all([A?.close(), B?.close()])
})

describe('strategies', () => {
  it('weighted: 3:1 over 400 requests, within ±8%', async () => {
    const gw = await gateway('weighted')
    for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: 8 }, () => chat(gw, 'w')))
    const { a, b } = served('w')
    expect(a + b).toBe(400)
    expect(a / 400).toBeGreaterThan(0.67)
    expect(a / 400).toBeLessThan(0.83)
  })

  it('least-busy: concurrent calls go to the target with fewer in flight', async () => {
    const gw = await gateway('least-busy')
    A.fallback = answer(300)
    B.fallback = answer(300)
    try {
      const calls = []
      for (let i = 0; i < 4; i++) {
        calls.push(chat(gw, 'even'))
        await new Promise((r) => setTimeout(r, 30))
      }
      const providers = (await Promise.all(calls)).map((r) => r.h('x-switchboard-provider'))
      // calls 1-2 and 3-4 each split: whichever the first took, the second took the other
      expect(new Set(providers.slice(0, 2))).toEqual(new Set(['a', 'b']))
      expect(new Set(providers.slice(2, 4))).toEqual(new Set(['a', 'b']))
    } finally {
      A.fallback = answer(0)
      B.fallback = answer(0)
    }
  })

  it('latency: after measuring both, the faster target takes most calls', async () => {
    const gw = await gateway('latency')
    A.fallback = answer(120)
    try {
      // Unmeasured targets are tried first; one call in ten explores in random order instead
      // (epsilon), so within four calls both are measured but not always within two.
      const first = []
      for (let i = 0; i < 4; i++) first.push((await chat(gw, 'even')).h('x-switchboard-provider'))
      expect(new Set(first)).toEqual(new Set(['a', 'b']))
      const next = []
      for (let i = 0; i < 20; i++) next.push((await chat(gw, 'even')).h('x-switchboard-provider'))
      expect(next.filter((p) => p === 'b').length).toBeGreaterThanOrEqual(15)
    } finally {
      A.fallback = answer(0)
    }
  })
})
