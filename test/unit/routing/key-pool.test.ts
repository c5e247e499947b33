import { describe, expect, it } from 'vitest'
import { REJECTED_REST_MS, createKeyPool } from '../../../src/routing/key-pool.ts'

describe('vendor key pool', () => {
  it('keys are used in turn', () => {
    const pool = createKeyPool(['k1', 'k2', 'k3'])
    expect([pool.pick('m', 0), pool.pick('m', 0), pool.pick('m', 0), pool.pick('m', 0)]).toEqual(['k1', 'k2', 'k3', 'k1'])
  })

  it("a 429 rests the key on that model only: the provider's other models keep it (vendors limit each model)", () => {
    const pool = createKeyPool(['only'])
    pool.report('only', 'gpt-4o', 429, 7000, 1000)
    expect(pool.pick('gpt-4o', 1000)).toBeUndefined()
    expect(pool.available('gpt-4o', 1000)).toBe(0)
    expect(pool.readyAt!('gpt-4o', 1000)).toBe(8000)
    expect(pool.pick('gpt-4o-mini', 1000)).toBe('only')
    expect(pool.available('gpt-4o-mini', 1000)).toBe(1)
    expect(pool.readyAt!('gpt-4o-mini', 1000)).toBe(1000)
    expect(pool.pick('gpt-4o', 8000)).toBe('only')
  })

  it('a rejected key (401/403) is out for every model', () => {
    const pool = createKeyPool(['bad', 'good'])
    pool.report('bad', 'a', 401, undefined, 0)
    expect([pool.pick('a', 1), pool.pick('b', 1), pool.pick('b', 1)]).toEqual(['good', 'good', 'good'])
    expect(pool.available('b', 1)).toBe(1)
    expect(pool.pick('b', REJECTED_REST_MS)).toBeDefined()
    expect(pool.available('b', REJECTED_REST_MS)).toBe(2)
  })
})
