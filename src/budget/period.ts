/**
 * Calendar budget periods: daily, weekly (ISO weeks, from Monday), monthly, or total (never
 * resets), in UTC or an IANA time zone. A window is computed once and reused until it ends, so
 * the request path does no date arithmetic.
 */
export type Period = 'daily' | 'weekly' | 'monthly' | 'total'

export interface Window {
  /** Epoch ms, inclusive. 0 for total. */
  start: number
  /** Epoch ms, exclusive. Infinity for total. */
  end: number
}

const TOTAL: Window = { start: 0, end: Number.POSITIVE_INFINITY }
const formats = new Map<string, Intl.DateTimeFormat>()
const current = new Map<string, Window>()

function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    formats.set(tz, f)
  }
  return f
}

/** The wall-clock date and time at `ms` in `tz`, as if it were UTC. */
function wallClock(ms: number, tz: string): number {
  const parts: Record<string, number> = {}
  for (const p of format(tz).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!)
}

/** Epoch ms of local midnight on (y, m, d) in tz; month and day may overflow (Date.UTC normalizes). */
function localMidnight(y: number, m: number, d: number, tz: string): number {
  const wall = Date.UTC(y, m, d)
  if (tz === 'UTC') return wall
  let t = wall - (wallClock(wall, tz) - wall)
  // Across a DST change the offset at the guess differs from the offset at the answer: redo once.
  const off = wallClock(t, tz) - t
  t = wall - off
  return t
}

export function windowAt(period: Period, tz: string, now: number): Window {
  if (period === 'total') return TOTAL
  const id = `${period}|${tz}`
  const w = current.get(id)
  if (w && now >= w.start && now < w.end) return w
  const local = new Date(tz === 'UTC' ? now : wallClock(now, tz))
  const y = local.getUTCFullYear()
  const m = local.getUTCMonth()
  const d = local.getUTCDate()
  let out: Window
  if (period === 'daily') out = { start: localMidnight(y, m, d, tz), end: localMidnight(y, m, d + 1, tz) }
  else if (period === 'weekly') {
    const sinceMonday = (local.getUTCDay() + 6) % 7
    out = { start: localMidnight(y, m, d - sinceMonday, tz), end: localMidnight(y, m, d - sinceMonday + 7, tz) }
  } else out = { start: localMidnight(y, m, 1, tz), end: localMidnight(y, m + 1, 1, tz) }
  if (current.size < 1000) current.set(id, out)
  return out
}
