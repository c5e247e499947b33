import { describe, expect, it } from 'vitest'
import { createTargetHealth } from '../../../src/routing/health.ts'
import { setup, seq } from './fixtures.ts'

const yaml = (strategy: string, extra = '') => `
providers:
  a: { type: openai-compatible, base_url: http://127.0.0.1:1 }
  b: { type: openai-compatible, base_url: http://127.0.0.1:2 }
  c: { type: openai-compatible, base_url: http://127.0.0.1:3 }
  off: { type: openai, keys: [""] }
models:
  m:
    targets: [{ provider: a, model: ma }, { provider: b, model: mb }, { provider: c, model: mc }]
  withoff:
    targets: [{ provider: off, model: x }, { provider: a, model: ma }]
routing:
  strategy: ${strategy}
  circuit_breaker: { failures: 2, window_ms: 1000, cooldown_ms: 100 }
${extra}`

describe('target health', () => {
  it('least-busy picks the target with the fewest attempts in flight', () => {
    const { config, deployments } = setup(yaml('least-busy'))
    const h = createTargetHealth(config, { random: seq(0.0) })
    const [ta, tb, tc] = deployments.targets.get('m')!
    h.started(ta!); h.started(ta!); h.started(tb!); h.started(tc!); h.started(tc!)
    expect(h.order('m', deployments.targets.get('m')!).map((t) => t.provider.name)).toEqual(['b', 'a', 'c'])
    h.finished(ta!, { ok: true }); h.finished(ta!, { ok: true })
    expect(h.order('m', deployments.targets.get('m')!)[0]!.provider.name).toBe('a')
  })

  it('latency tries unmeasured targets, then the lowest moving average of time to first byte', () => {
    const { config, deployments } = setup(yaml('latency'))
    const h = createTargetHealth(config, { random: seq(0.0, 0.0, 0.0, 0.9) })
    const targets = deployments.targets.get('m')!
    const [ta, tb] = targets
    for (const [t, ms] of [[ta!, 200], [tb!, 40]] as const) { h.started(t); h.finished(t, { ok: true, ttfbMs: ms }) }
    expect(h.order('m', targets).map((t) => t.provider.name)).toEqual(['c', 'b', 'a'])
    // b slows down: the average moves (alpha 0.3) 40 -> 40 + 0.3 * (1000 - 40) = 328 > 200
    h.started(tb!); h.finished(tb!, { ok: true, ttfbMs: 1000 })
    h.started(targets[2]!); h.finished(targets[2]!, { ok: true, ttfbMs: 100 })
    expect(h.order('m', targets).map((t) => t.provider.name)).toEqual(['c', 'a', 'b'])
  })

  it('cost orders by the price function, unknown last', () => {
    const { config, deployments } = setup(yaml('cost'))
    const prices: Record<string, number | null> = { a: 0.03, b: null, c: 0.01 }
    const h = createTargetHealth(config, { random: seq(0.0), price: (t) => prices[t.provider.name] ?? null })
    expect(h.order('m', deployments.targets.get('m')!).map((t) => t.provider.name)).toEqual(['c', 'a', 'b'])
  })

  it('skips disabled providers and open circuits; reports them; a probe after the cooldown', () => {
    let now = 1000
    const { config, deployments } = setup(yaml('round-robin'))
    const h = createTargetHealth(config, { now: () => now, targets: deployments.targets })
    expect(h.order('withoff', deployments.targets.get('withoff')!).map((t) => t.provider.name)).toEqual(['a'])
    const targets = deployments.targets.get('m')!
    const ta = targets[0]!
    for (let i = 0; i < 2; i++) { expect(h.started(ta)).toBe(true); h.finished(ta, { ok: false, failure: 'server' }) }
    expect(h.order('m', targets).map((t) => t.provider.name)).not.toContain('a')
    expect(h.started(ta)).toBe(false)
    expect(h.openCircuits()).toEqual({ 'm#0': 'open' })
    expect(h.circuitStates().find((c) => c.target === 'm#0')).toEqual({ target: 'm#0', provider: 'a', model: 'ma', publicModel: 'm', state: 'open', open: true })
    expect(h.circuitStates()).toHaveLength(5)
    expect(h.reopensIn(targets)).toBe(100)
    now += 100
    expect(h.openCircuits()).toEqual({ 'm#0': 'half-open' })
    expect(h.order('m', targets).map((t) => t.provider.name)).toContain('a')
    expect(h.started(ta)).toBe(true)
    expect(h.order('m', targets).map((t) => t.provider.name)).not.toContain('a')
    h.finished(ta, { ok: true, ttfbMs: 5 })
    expect(h.openCircuits()).toEqual({})
  })

  it('client errors and 429s never open a circuit', () => {
    const { config, deployments } = setup(yaml('weighted'))
    const h = createTargetHealth(config)
    const ta = deployments.targets.get('m')![0]!
    for (const failure of ['bad_request', 'rate_limited', 'context_length', 'aborted', 'bad_request']) { h.started(ta); h.finished(ta, { ok: false, failure }) }
    expect(h.openCircuits()).toEqual({})
  })
})
