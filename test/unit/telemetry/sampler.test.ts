/**
 * OTEL_TRACES_SAMPLER's standard samplers: what each decides with and without a parent, and that
 * the ratio sampler keeps its ratio, decides the same way for the same trace id, and samples with
 * a lower ratio a subset of what a higher one samples.
 */
import { describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { createSampler, ratioOf } from '../../../src/telemetry/sampler.ts'
import { samplerChoice } from '../../../src/telemetry/otlp-settings.ts'

const ids = Array.from({ length: 20_000 }, () => randomBytes(16).toString('hex'))
const share = (f: (id: string) => boolean) => ids.filter(f).length / ids.length

describe('head samplers', () => {
  it('always_on, always_off and the parent-based ones follow the parent when there is one', () => {
    const id = ids[0]!
    const cases: Array<[string, [boolean, boolean, boolean]]> = [
      // [no parent, sampled parent, unsampled parent]
      ['always_on', [true, true, true]],
      ['always_off', [false, false, false]],
      ['parentbased_always_on', [true, true, false]],
      ['parentbased_always_off', [false, true, false]],
    ]
    for (const [name, expected] of cases) {
      const s = createSampler(samplerChoice({ OTEL_TRACES_SAMPLER: name }))
      expect([s(id, undefined), s(id, true), s(id, false)], name).toEqual(expected)
    }
  })

  it('the ratio samplers keep their ratio; parentbased_traceidratio follows a parent, traceidratio does not', () => {
    const byRatio = createSampler(samplerChoice({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }))
    const parentBased = createSampler(samplerChoice({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }))
    expect(share((id) => byRatio(id, undefined))).toBeCloseTo(0.25, 1)
    expect(share((id) => parentBased(id, undefined))).toBeCloseTo(0.25, 1)
    expect(share((id) => parentBased(id, true))).toBe(1)
    expect(share((id) => parentBased(id, false))).toBe(0)
    expect(share((id) => byRatio(id, true))).toBeCloseTo(0.25, 1)
  })

  it('decides by the trace id: the same id always alike, a lower ratio a subset of a higher one', () => {
    const tenth = ratioOf(0.1)
    const half = ratioOf(0.5)
    expect(ids.map(tenth)).toEqual(ids.map(tenth))
    expect(ids.filter(tenth).every(half)).toBe(true)
    expect(share(ratioOf(0))).toBe(0)
    expect(share(ratioOf(1))).toBe(1)
  })
})
