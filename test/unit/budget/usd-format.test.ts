import { describe, expect, it } from 'vitest'
import { usd } from '../../../src/budget/guard.ts'

const $ = (dollars: number) => usd(Math.round(dollars * 1e9))

describe('dollar amounts in budget messages', () => {
  it('cents when they say it exactly, and for large amounts', () => {
    expect([$(0.1), $(500), $(0.02), $(123.456789), $(0.00001)]).toEqual(['$0.10', '$500.00', '$0.02', '$123.46', '$0.00'])
  })

  it('up to four decimals for small amounts the cents would blur', () => {
    expect([$(0.045), $(0.0198), $(0.3333333), $(0.015)]).toEqual(['$0.045', '$0.0198', '$0.3333', '$0.015'])
  })
})
