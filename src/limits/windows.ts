/**
 * Fixed windows aligned to the UTC second, minute and day. A limit of N per minute admits at most
 * N requests in each aligned minute (hh:mm:00.000 to hh:mm:59.999); across a boundary, up to 2N can
 * land in a 60-second span that straddles it. That is the exact, cheap, replica-safe guarantee.
 */
export const SECOND_MS = 1000
export const MINUTE_MS = 60_000
export const DAY_MS = 86_400_000

/** Window length for each limit position (rps, rpm, rpd, tpm, tpd); concurrency has none. */
export const WINDOW_MS: readonly number[] = [SECOND_MS, MINUTE_MS, DAY_MS, MINUTE_MS, DAY_MS]

/** Milliseconds from `now` to the end of the window of the given length that contains it. */
export const msToWindowEnd = (now: number, windowMs: number): number => (Math.floor(now / windowMs) + 1) * windowMs - now

/** `retry-after` in whole seconds, at least 1. */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

/**
 * OpenAI's reset format (Go durations): `250ms`, `1s`, `12.5s`, `6m0s`, `2h3m4s`. Sub-minute values
 * keep millisecond precision; longer ones are rounded up to whole seconds.
 */
export function formatResetDuration(ms: number): string {
  const v = Math.max(0, Math.ceil(ms))
  if (v < 1000) return `${v}ms`
  if (v < 60_000) {
    // `12.5s`, `1.05s`, `3s`: milliseconds without trailing zeros (the request path formats these).
    const ms = v % 1000
    const whole = (v - ms) / 1000
    if (ms === 0) return `${whole}s`
    const frac = ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : `${ms}`
    return `${whole}.${frac.charCodeAt(2) === 48 ? (frac.charCodeAt(1) === 48 ? frac.slice(0, 1) : frac.slice(0, 2)) : frac}s`
  }
  let s = Math.ceil(v / 1000)
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`
}
