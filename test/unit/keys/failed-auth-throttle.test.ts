import { describe, expect, it } from 'vitest'
import { createFailedAuthThrottle } from '../../../src/auth/failed-auth-throttle.ts'

describe('failed-auth throttle', () => {
  it('allows max failures per window, then asks to wait until the window ends', () => {
    const t = createFailedAuthThrottle(3, 10_000)
    expect([t.fail('a', 0), t.fail('a', 100), t.fail('a', 200)]).toEqual([undefined, undefined, undefined])
    expect(t.fail('a', 1_000)).toBe(9)
    expect(t.fail('a', 9_500)).toBe(1)
    // another address is independent
    expect(t.fail('b', 9_500)).toBeUndefined()
    // a new window starts fresh
    expect(t.fail('a', 10_000)).toBeUndefined()
  })

  it('never throttles an unknown address (in-process callers)', () => {
    const t = createFailedAuthThrottle(1, 10_000)
    for (let i = 0; i < 5; i++) expect(t.fail(undefined, i)).toBeUndefined()
  })

  it('stays bounded under a flood from many addresses', () => {
    const t = createFailedAuthThrottle(1, 10_000)
    const t0 = performance.now()
    for (let i = 0; i < 100_000; i++) t.fail(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, Math.floor(i / 100))
    expect(performance.now() - t0).toBeLessThan(500)
    // the newest address is still tracked: its second failure is over the limit of 1
    expect(t.fail('10.1.134.159', 999)).toBe(10)
  })
})
