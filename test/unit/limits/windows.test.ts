import { describe, expect, it } from 'vitest'
import { formatResetDuration, msToWindowEnd, retryAfterSeconds } from '../../../src/limits/windows.ts'

describe('windows', () => {
  it('formats resets as OpenAI does (Go durations)', () => {
    expect(formatResetDuration(0)).toBe('0ms')
    expect(formatResetDuration(17)).toBe('17ms')
    expect(formatResetDuration(999.2)).toBe('1s')
    expect(formatResetDuration(1000)).toBe('1s')
    expect(formatResetDuration(1338)).toBe('1.338s')
    expect(formatResetDuration(12_500)).toBe('12.5s')
    expect(formatResetDuration(59_999)).toBe('59.999s')
    expect(formatResetDuration(60_000)).toBe('1m0s')
    expect(formatResetDuration(360_000)).toBe('6m0s')
    expect(formatResetDuration(361_001)).toBe('6m2s')
    expect(formatResetDuration(3_723_000)).toBe('1h2m3s')
    expect(formatResetDuration(86_400_000)).toBe('24h0m0s')
  })

  it('measures to the end of the aligned window', () => {
    expect(msToWindowEnd(120_000, 60_000)).toBe(60_000)
    expect(msToWindowEnd(120_001, 60_000)).toBe(59_999)
    expect(msToWindowEnd(179_999, 60_000)).toBe(1)
    expect(msToWindowEnd(86_400_000 * 3 + 5, 86_400_000)).toBe(86_400_000 - 5)
  })

  it('rounds retry-after up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1)
    expect(retryAfterSeconds(1)).toBe(1)
    expect(retryAfterSeconds(1001)).toBe(2)
    expect(retryAfterSeconds(12_000)).toBe(12)
  })
})
