/**
 * A per-target circuit breaker, per replica (no shared state: each replica learns a target's health
 * from its own traffic, which is what it routes on).
 *
 * closed    -> counts health failures; `failures` of them within `window_ms` open it.
 * open      -> rejects at once until `cooldown_ms` has passed since it opened.
 * half-open -> admits exactly one probe; the probe's success closes the circuit, its failure
 *              re-opens it for another cooldown. A probe that reports nothing within a cooldown
 *              (a crashed attempt, a very long stream) frees the slot for another probe.
 *
 * Only failures that say something about the target count (see `healthVerdict`): a client's bad
 * request, a 429 (one key's quota, which the key pool rests) or the client leaving never open it.
 */

export interface BreakerSettings {
  failures: number
  windowMs: number
  cooldownMs: number
}

export type CircuitState = 'closed' | 'open' | 'half-open'

/** What an attempt's outcome says about the target: bad, good, or nothing. */
export type Verdict = 'healthy' | 'unhealthy' | 'neutral'

const UNHEALTHY: ReadonlySet<string> = new Set([
  // provider error kinds (ProviderError.kind)
  'server', 'overloaded',
  // transport failures (TransportFailure)
  'connect_timeout', 'first_byte_timeout', 'idle_timeout', 'connection_refused', 'connection_reset', 'network',
])
const NEUTRAL: ReadonlySet<string> = new Set([
  // the client left, or the request's own deadline ran out: not the target's doing
  'aborted', 'total_timeout',
  // never reached the target
  'unavailable', 'circuit_open', 'no_key_available', 'provider_disabled',
  // the gateway failed (a bug), whatever the target did
  'internal_error',
])

/** Maps an attempt's outcome (ok, or its failure label) to what it says about the target's health. */
export function healthVerdict(result: { ok: boolean; failure?: string }): Verdict {
  if (result.ok) return 'healthy'
  const f = result.failure ?? ''
  if (UNHEALTHY.has(f)) return 'unhealthy'
  if (NEUTRAL.has(f)) return 'neutral'
  // 4xx of any kind (bad request, context length, content filter, 404, 401/403, 429): the target
  // answered properly, so it is up.
  return 'healthy'
}

export interface CircuitBreaker {
  /** The state as of `now` (an open circuit whose cooldown is over reads half-open). */
  state(now: number): CircuitState
  /** Whether an attempt may go now; in half-open this takes the one probe slot. */
  admit(now: number): boolean
  /** Whether `admit` would say yes (for ordering; takes nothing). */
  admissible(now: number): boolean
  record(verdict: Verdict, now: number): void
  /** Milliseconds until the circuit lets a probe through (0 when it already would). */
  waitMs(now: number): number
}

export function createCircuitBreaker(s: BreakerSettings): CircuitBreaker {
  let state: CircuitState = 'closed'
  // Timestamps of recent failures while closed; never more than `s.failures` kept.
  let failures: number[] = []
  let openUntil = 0
  // When the half-open probe was let through (0 = slot free).
  let probeAt = 0

  const open = (now: number) => {
    state = 'open'
    openUntil = now + s.cooldownMs
    failures = []
    probeAt = 0
  }
  const effective = (now: number): CircuitState => (state === 'open' && now >= openUntil ? 'half-open' : state)
  const probeFree = (now: number) => probeAt === 0 || now - probeAt >= s.cooldownMs

  return {
    state: effective,
    admissible(now) {
      const st = effective(now)
      return st === 'closed' || (st === 'half-open' && (state === 'open' || probeFree(now)))
    },
    admit(now) {
      const st = effective(now)
      if (st === 'closed') return true
      if (st === 'open') return false
      if (state === 'open') state = 'half-open'
      if (!probeFree(now)) return false
      probeAt = now
      return true
    },
    record(verdict, now) {
      const st = effective(now)
      if (st === 'open') return // late results of attempts admitted before it opened
      if (st === 'half-open') {
        if (verdict === 'healthy') {
          state = 'closed'
          failures = []
          probeAt = 0
        } else if (verdict === 'unhealthy') {
          open(now)
        } else if (state === 'half-open') {
          probeAt = 0
        }
        return
      }
      if (verdict !== 'unhealthy') return
      failures = failures.filter((t) => now - t < s.windowMs)
      failures.push(now)
      if (failures.length >= s.failures) open(now)
    },
    waitMs(now) {
      const st = effective(now)
      if (st === 'closed') return 0
      if (st === 'open') return openUntil - now
      return probeFree(now) || state === 'open' ? 0 : probeAt + s.cooldownMs - now
    },
  }
}
