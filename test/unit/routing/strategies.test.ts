import { describe, expect, it } from 'vitest'
import { costOrder, latencyOrder, leastBusyOrder, roundRobinOrder, weightedOrder, type Candidate } from '../../../src/routing/strategies.ts'
import { seeded, seq } from './fixtures.ts'

const c = (name: string, over: Partial<Candidate> = {}): Candidate & { name: string } => ({ name, weight: 1, inFlight: 0, latencyMs: undefined, price: null, ...over })
const names = (l: Array<{ name: string }>) => l.map((x) => x.name)

describe('strategies', () => {
  it('weighted: 3:1 weights split 400 first picks within ±8%', () => {
    const random = seeded(42)
    const items = [c('a', { weight: 3 }), c('b', { weight: 1 })]
    let a = 0
    for (let i = 0; i < 400; i++) if (weightedOrder(items, random)[0]!.name === 'a') a++
    expect(a / 400).toBeGreaterThan(0.75 - 0.08)
    expect(a / 400).toBeLessThan(0.75 + 0.08)
  })

  it('weighted: zero weights go last, every item appears once', () => {
    expect(names(weightedOrder([c('z', { weight: 0 }), c('a'), c('b')], seq(0.99, 0.0)))).toEqual(['b', 'a', 'z'])
  })

  it('round-robin rotates', () => {
    expect(roundRobinOrder(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c'])
    expect(roundRobinOrder(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a'])
  })

  it('least-busy: fewest in flight first', () => {
    const order = leastBusyOrder([c('a', { inFlight: 3 }), c('b', { inFlight: 0 }), c('c', { inFlight: 1 })], seq(0.1))
    expect(names(order)).toEqual(['b', 'c', 'a'])
  })

  it('latency: unmeasured first, then lowest average; epsilon explores', () => {
    const items = [c('slow', { latencyMs: 300 }), c('fast', { latencyMs: 50 }), c('new')]
    // random(): shuffle draws then the exploration draw 0.5 (>= 0.1: exploit)
    expect(names(latencyOrder(items, seq(0.0, 0.0, 0.0, 0.5)))).toEqual(['new', 'fast', 'slow'])
    // exploration draw 0.05 (< 0.1): the weighted shuffle stands
    expect(names(latencyOrder(items, seq(0.0, 0.0, 0.0, 0.05)))).toEqual(['slow', 'fast', 'new'])
  })

  it('cost: cheapest first, unknown prices last', () => {
    const order = costOrder([c('unknown'), c('pricey', { price: 0.02 }), c('cheap', { price: 0.001 })], seq(0.0))
    expect(names(order)).toEqual(['cheap', 'pricey', 'unknown'])
  })
})
