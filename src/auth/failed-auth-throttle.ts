/**
 * Failed authentications per client address, in fixed windows: past MAX_FAILURES in WINDOW_MS an
 * address gets 429 (with retry-after) instead of 401 for further bad keys until the window ends.
 * A valid key is never throttled, so one misconfigured client behind a shared address does not
 * lock out the others. Per replica, in memory, bounded: O(1) per failure, nothing per success.
 */
export const MAX_FAILURES = 20
export const WINDOW_MS = 10_000
const MAX_ADDRESSES = 10_000

interface Window { start: number; failures: number }

export interface FailedAuthThrottle {
  /** Records a failure; returns seconds to wait when the address is over the limit. */
  fail(remote: string | undefined, now?: number): number | undefined
}

export function createFailedAuthThrottle(max = MAX_FAILURES, windowMs = WINDOW_MS): FailedAuthThrottle {
  const windows = new Map<string, Window>()
  // Windows are (re)inserted when they start, so the Map is in start order: expired ones lead.
  const sweep = (now: number) => {
    for (const [addr, w] of windows) {
      if (now - w.start < windowMs) break
      windows.delete(addr)
    }
    // Still full (a flood from many addresses): forget the oldest tenth at once rather than grow.
    if (windows.size >= MAX_ADDRESSES) {
      let drop = MAX_ADDRESSES / 10
      for (const addr of windows.keys()) {
        if (drop-- <= 0) break
        windows.delete(addr)
      }
    }
  }
  return {
    fail(remote, now = Date.now()) {
      if (remote === undefined) return undefined
      let w = windows.get(remote)
      if (!w || now - w.start >= windowMs) {
        if (!w && windows.size >= MAX_ADDRESSES) sweep(now)
        w = { start: now, failures: 0 }
        windows.delete(remote)
        windows.set(remote, w)
      }
      w.failures++
      return w.failures > max ? Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)) : undefined
    },
  }
}
