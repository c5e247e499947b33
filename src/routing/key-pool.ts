/**
 * A provider's vendor keys, used in turn. A key the vendor rejects (401/403) leaves the rotation
 * for REJECTED_REST_MS (a revoked key stays out; a rotated-back one returns by itself);
 * a key answered with 429 rests for the vendor's retry-after while the others serve.
 * Keys are only ever named by their last four characters.
 */
export interface KeyPool {
  /** The next usable key, or undefined when none is (all rejected or resting). */
  pick(now?: number): string | undefined
  /** Tell the pool how the vendor answered a key. */
  report(key: string, status: number, retryAfterMs: number | undefined, now?: number): void
  readonly size: number
  /** Usable keys right now. */
  available(now?: number): number
  /** When the first key becomes usable again (`now` when one already is); routing waits for it before a retry. */
  readyAt?(now?: number): number
}

export const REJECTED_REST_MS = 5 * 60_000

export const keyHint = (key: string): string => `...${key.slice(-4)}`

export function createKeyPool(keys: readonly string[], onEvent?: (msg: string, hint: string) => void): KeyPool {
  const entries = keys.map((key) => ({ key, restUntil: 0 }))
  let next = 0
  return {
    size: entries.length,
    pick(now = Date.now()) {
      for (let i = 0; i < entries.length; i++) {
        const e = entries[(next + i) % entries.length]
        if (e && e.restUntil <= now) {
          next = (next + i + 1) % entries.length
          return e.key
        }
      }
      return undefined
    },
    report(key, status, retryAfterMs, now = Date.now()) {
      const e = entries.find((x) => x.key === key)
      if (!e) return
      if (status === 401 || status === 403) {
        if (e.restUntil <= now) onEvent?.(`vendor rejected key ${keyHint(key)}; it is out of rotation for 5 minutes`, keyHint(key))
        e.restUntil = now + REJECTED_REST_MS
      } else if (status === 429) {
        e.restUntil = now + (retryAfterMs ?? 1000)
        onEvent?.(`vendor rate-limited key ${keyHint(key)}; resting it for ${Math.ceil((retryAfterMs ?? 1000) / 1000)} s`, keyHint(key))
      }
    },
    available(now = Date.now()) {
      return entries.filter((e) => e.restUntil <= now).length
    },
    readyAt(now = Date.now()) {
      let at = Number.POSITIVE_INFINITY
      for (const e of entries) at = Math.min(at, Math.max(now, e.restUntil))
      return at
    },
  }
}
