import { describe, expect, it } from 'vitest'
import { windowAt } from '../../../src/budget/period.ts'

const iso = (w: { start: number; end: number }) => [new Date(w.start).toISOString(), new Date(w.end).toISOString()]

describe('budget periods', () => {
  const now = Date.parse('2026-03-29T12:34:56Z') // a Sunday; Europe's DST starts that night
  it('UTC calendar windows', () => {
    expect(iso(windowAt('daily', 'UTC', now))).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-30T00:00:00.000Z'])
    expect(iso(windowAt('weekly', 'UTC', now))).toEqual(['2026-03-23T00:00:00.000Z', '2026-03-30T00:00:00.000Z'])
    expect(iso(windowAt('monthly', 'UTC', now))).toEqual(['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'])
    expect(windowAt('total', 'UTC', now)).toEqual({ start: 0, end: Number.POSITIVE_INFINITY })
  })
  it('time zone windows follow local midnight, across a DST change', () => {
    // Paris: UTC+1 before 2026-03-29 02:00 local, UTC+2 after.
    expect(iso(windowAt('daily', 'Europe/Paris', now))).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'])
    expect(iso(windowAt('monthly', 'Europe/Paris', now))).toEqual(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z'])
    expect(iso(windowAt('daily', 'America/New_York', Date.parse('2026-01-01T03:00:00Z')))).toEqual(['2025-12-31T05:00:00.000Z', '2026-01-01T05:00:00.000Z'])
  })
})
