/**
 * A provider's vendor keys, used in turn. A key the vendor rejects (401/403) leaves the rotation
 * for REJECTED_REST_MS (a revoked key stays out; a rotated-back one returns by itself). A key
 * answered with 429 rests for the vendor's retry-after on that upstream model only: vendors limit
 * each model separately (OpenAI per model, Anthropic per model class, Azure per deployment), so a
 * limit hit on one model must not make the provider's other models answer 503.
 * Keys are only ever named by their last four characters.
 */
export interface KeyPool {
  /** The next key usable for `model`, or undefined when none is (all rejected or resting). */
  pick(model: string, now?: number): string | undefined
  /** Tell the pool how the vendor answered a key for `model`. */
  report(key: string, model: string, status: number, retryAfterMs: number | undefined, now?: number): void
  readonly size: number
  /** Keys usable for `model` right now. */
  available(model: string, now?: number): number
  /** When the first key becomes usable for `model` again (`now` when one already is); routing waits for it before a retry. */
  readyAt?(model: string, now?: number): number
}

export const REJECTED_REST_MS = 5 * 60_000

export const keyHint = (key: string): string => `...${key.slice(-4)}`

interface Entry {
  key: string
  /** Out of rotation for every model until then (the vendor refused the key). */
  rejectedUntil: number
  /** Resting for one upstream model until then (a 429). Bounded by the configured models. */
  limitedUntil: Map<string, number>
}

const usableAt = (e: Entry, model: string): number =>
  e.limitedUntil.size === 0 ? e.rejectedUntil : Math.max(e.rejectedUntil, e.limitedUntil.get(model) ?? 0)

export function createKeyPool(keys: readonly string[], onEvent?: (msg: string, hint: string) => void): KeyPool {
  const entries: Entry[] = keys.map((key) => ({ key, rejectedUntil: 0, limitedUntil: new Map() }))
  let next = 0
  return {
    size: entries.length,
    pick(model, now = Date.now()) {
      for (let i = 0; i < entries.length; i++) {
        const e = entries[(next + i) % entries.length]
        if (e && usableAt(e, model) <= now) {
          next = (next + i + 1) % entries.length
          return e.key
        }
      }
      return undefined
    },
    report(key, model, status, retryAfterMs, now = Date.now()) {
      const e = entries.find((x) => x.key === key)
      if (!e) return
      if (status === 401 || status === 403) {
        if (e.rejectedUntil <= now) onEvent?.(`vendor rejected key ${keyHint(key)}; it is out of rotation for 5 minutes`, keyHint(key))
        e.rejectedUntil = now + REJECTED_REST_MS
      } else if (status === 429) {
        for (const [m, until] of e.limitedUntil) if (until <= now) e.limitedUntil.delete(m)
        e.limitedUntil.set(model, now + (retryAfterMs ?? 1000))
        onEvent?.(`vendor rate-limited key ${keyHint(key)} on ${model}; resting it for that model for ${Math.ceil((retryAfterMs ?? 1000) / 1000)} s`, keyHint(key))
      }
    },
    available(model, now = Date.now()) {
      let n = 0
      for (const e of entries) if (usableAt(e, model) <= now) n++
      return n
    },
    readyAt(model, now = Date.now()) {
      let at = Number.POSITIVE_INFINITY
      for (const e of entries) at = Math.min(at, Math.max(now, usableAt(e, model)))
      return at
    },
  }
}
