import { describe, expect, it } from 'vitest'
import { backoffMs, createPlan, isRetryable, type AttemptFailure, type Step } from '../../../src/routing/plan.ts'
import type { ProviderError } from '../../../src/providers/types.ts'
import { GatewayError } from '../../../src/core/errors.ts'
import { seeded, setup } from './fixtures.ts'

const yaml = (retries = '{ max_attempts: 6, backoff_ms: 100, max_backoff_ms: 1000 }') => `
providers:
  a: { type: openai-compatible, base_url: http://127.0.0.1:1 }
  b: { type: openai-compatible, base_url: http://127.0.0.1:2 }
  k: { type: openai, base_url: http://127.0.0.1:3, keys: [k1, k2] }
models:
  m: { targets: [{ provider: a, model: ma }, { provider: b, model: mb }], fallbacks: [f], context_window_fallbacks: [big], content_policy_fallbacks: [lenient] }
  f: { targets: [{ provider: b, model: fb }] }
  big: { targets: [{ provider: a, model: big }] }
  lenient: { targets: [{ provider: a, model: len }] }
  solo: { targets: [{ provider: a, model: solo }] }
  keyed: { targets: [{ provider: k, model: kk }] }
  nofb: { targets: [{ provider: a, model: x }] }
routing: { retries: ${retries} }
`

const perr = (kind: ProviderError['kind'], status: number, retryAfterMs?: number): AttemptFailure => ({ kind: 'provider', error: { kind, status, code: kind, message: kind, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } })
const label = (s: Step | undefined) => (s ? `${s.target.publicModel}/${s.target.provider.name}` : 'stop')

function planFor(model: string, opts: { yaml?: string; now?: () => number; deadline?: number; requestFallbacks?: string[] } = {}) {
  const { config, deployments } = setup(opts.yaml ?? yaml())
  const plan = createPlan(model, {
    config, targets: deployments.targets, order: (_m, t) => [...t], random: () => 0.5,
    now: opts.now ?? (() => 0), deadline: opts.deadline, requestFallbacks: opts.requestFallbacks,
  })
  return { plan, deployments }
}

describe('backoff', () => {
  it('full jitter stays within [0, min(max, base * 2^(n-1)))', () => {
    const random = seeded(7)
    for (let n = 1; n <= 8; n++) {
      const ceiling = Math.min(1000, 100 * 2 ** (n - 1))
      for (let i = 0; i < 200; i++) {
        const ms = backoffMs(n, 100, 1000, random)
        expect(ms).toBeGreaterThanOrEqual(0)
        expect(ms).toBeLessThan(ceiling)
      }
    }
    expect(backoffMs(3, 100, 1000, () => 0.999)).toBe(399)
    expect(backoffMs(9, 100, 1000, () => 0.5)).toBe(500)
  })
})

describe('retryable failures', () => {
  it('429/5xx/529/auth and transport failures retry; client errors do not', () => {
    for (const k of ['rate_limited', 'overloaded', 'server', 'auth'] as const) expect(isRetryable(perr(k, 500))).toBe(true)
    for (const k of ['bad_request', 'not_found', 'other'] as const) expect(isRetryable(perr(k, 400))).toBe(false)
    for (const f of ['connect_timeout', 'first_byte_timeout', 'idle_timeout', 'total_timeout', 'connection_refused', 'connection_reset', 'network'] as const) {
      expect(isRetryable({ kind: 'transport', failure: f })).toBe(true)
    }
    expect(isRetryable({ kind: 'transport', failure: 'aborted' })).toBe(false)
  })
})

describe('plan', () => {
  it('tries each target once without waiting, then the fallback, then retries the last group with backoff', () => {
    const { plan } = planFor('m')
    const steps = [plan.next()]
    for (let i = 0; i < 6; i++) steps.push(plan.next(perr('server', 500)))
    expect(steps.map(label)).toEqual(['m/a', 'm/b', 'f/b', 'f/b', 'f/b', 'f/b', 'stop'])
    expect(steps.map((s) => s?.delayMs)).toEqual([0, 0, 0, 50, 100, 200, undefined])
    expect(steps.map((s) => s?.fallback)).toEqual([false, false, true, true, true, true, undefined])
    expect(steps.map((s) => s?.attempt)).toEqual([1, 2, 3, 4, 5, 6, undefined])
  })

  it('a client error is final', () => {
    const { plan } = planFor('m')
    plan.next()
    expect(plan.next(perr('bad_request', 400))).toBeUndefined()
  })

  it('context too long jumps to the context-window fallbacks; content policy to its own', () => {
    const a = planFor('m').plan
    a.next()
    expect(label(a.next(perr('context_length', 400)))).toBe('big/a')
    const b = planFor('m').plan
    b.next()
    expect(label(b.next(perr('content_filter', 400)))).toBe('lenient/a')
    const c = planFor('nofb').plan
    c.next()
    expect(c.next(perr('context_length', 400))).toBeUndefined()
  })

  it('a target that cannot take the request is skipped for good and costs no attempt', () => {
    const unservable: AttemptFailure = { kind: 'unservable', error: new GatewayError({ status: 400, code: 'invalid_request', message: 'no' }) }
    const { plan } = planFor('m', { yaml: yaml('{ max_attempts: 3, backoff_ms: 0, max_backoff_ms: 0 }') })
    const steps = [plan.next(), plan.next(unservable), plan.next(perr('server', 500)), plan.next(perr('server', 500)), plan.next(unservable)]
    // m/a cannot take it: m/b is attempt 1; the fallback f/b attempt 2, again attempt 3 (m/a is never offered again).
    expect(steps.map(label)).toEqual(['m/a', 'm/b', 'f/b', 'f/b', 'stop'])
    expect(steps.map((s) => s?.attempt)).toEqual([1, 1, 2, 3, undefined])
    const solo = planFor('solo').plan
    solo.next()
    expect(solo.next(unservable)).toBeUndefined()
  })

  it('request fallbacks come before the model fallbacks', () => {
    const { plan } = planFor('solo', { requestFallbacks: ['f', 'm'] })
    const steps = [plan.next(), plan.next(perr('server', 500)), plan.next(perr('server', 500))]
    expect(steps.map(label)).toEqual(['solo/a', 'f/b', 'm/a'])
  })

  it('honours retry-after on the same target, within max_backoff_ms', () => {
    const { plan } = planFor('solo')
    plan.next()
    const s = plan.next(perr('overloaded', 529, 700))
    expect(s?.delayMs).toBe(700)
  })

  it('a retry-after beyond max_backoff_ms or the deadline is not slept: the plan stops', () => {
    const a = planFor('solo').plan
    a.next()
    expect(a.next(perr('rate_limited', 429, 5000))).toBeUndefined()
    const b = planFor('solo', { deadline: 300 }).plan
    b.next()
    expect(b.next(perr('overloaded', 503, 400))).toBeUndefined()
  })

  it('never waits past the deadline for a backoff either', () => {
    const { plan } = planFor('solo', { deadline: 10 })
    plan.next()
    expect(plan.next(perr('server', 500))).toBeUndefined() // backoff 50 > 10 left
  })

  it('a 429 on a provider with spare keys retries at once on another key', () => {
    const { plan, deployments } = planFor('keyed', { now: () => 1_000_000 })
    const first = plan.next()
    const keys = first!.target.provider.keys
    keys.report(keys.pick('kk', 1_000_000)!, 'kk', 429, 30_000, 1_000_000)
    const s = plan.next(perr('rate_limited', 429, 30_000))
    expect(label(s)).toBe('keyed/k')
    expect(s?.delayMs).toBe(50) // backoff only: the other key is ready
    expect(deployments.providers.get('k')!.keys.available('kk', 1_000_000)).toBe(1)
  })

  it('all keys resting longer than max_backoff_ms: stop', () => {
    const { plan } = planFor('keyed', { now: () => 1_000_000 })
    const first = plan.next()
    const keys = first!.target.provider.keys
    keys.report('k1', 'kk', 429, 30_000, 1_000_000)
    keys.report('k2', 'kk', 429, 30_000, 1_000_000)
    expect(plan.next(perr('rate_limited', 429, 30_000))).toBeUndefined()
  })

  it('max_attempts bounds the attempts, fallbacks included', () => {
    const { plan } = planFor('m', { yaml: yaml('{ max_attempts: 2, backoff_ms: 0, max_backoff_ms: 0 }') })
    expect([plan.next(), plan.next(perr('server', 500)), plan.next(perr('server', 500))].map(label)).toEqual(['m/a', 'm/b', 'stop'])
  })

  it('nothing usable: no step', () => {
    const { config, deployments } = setup(yaml())
    const plan = createPlan('m', { config, targets: deployments.targets, order: () => [] })
    expect(plan.next()).toBeUndefined()
  })
})
