/**
 * Per-replica target health: what this replica knows about each target (attempts in flight,
 * moving-average time to first byte, circuit breaker), and the order in which a request should
 * try a model's targets. Disabled providers and open circuits are left out of the order.
 */
import type { Config } from '../config/schema.ts'
import type { Target } from './deployments.ts'
import { createCircuitBreaker, healthVerdict, type CircuitBreaker, type CircuitState } from './circuit-breaker.ts'
import { costOrder, latencyOrder, leastBusyOrder, roundRobinOrder, weightedOrder, type Candidate } from './strategies.ts'

export interface AttemptResultInfo {
  ok: boolean
  /** Time to the response headers, for the latency strategy (successes only). */
  ttfbMs?: number
  /** The failure label: a ProviderError kind or a TransportFailure. */
  failure?: string
}

export interface CircuitInfo {
  /** Target id, `<public model>#<index>`. */
  target: string
  provider: string
  /** The upstream model of the target. */
  model: string
  publicModel: string
  state: CircuitState
  /** True unless closed (half-open counts as open: it admits a single probe). */
  open: boolean
}

export interface TargetHealth {
  /** The usable targets of a model, best first, for one request. */
  order(model: string, targets: readonly Target[]): Target[]
  /** An attempt is about to go to the target. False: its circuit rejects it (do not send). */
  started(target: Target): boolean
  /** The attempt admitted by `started` ended. Called exactly once per admitted attempt. */
  finished(target: Target, result: AttemptResultInfo): void
  /** Milliseconds until the first of these targets' circuits admits a probe; undefined if none is open. */
  reopensIn(targets: readonly Target[]): number | undefined
  /** Every known target's circuit (for metrics: switchboard_circuit_open{provider,model}). */
  circuitStates(): CircuitInfo[]
  /** Only the circuits that are not closed, by target id (for /readyz). */
  openCircuits(): Record<string, 'open' | 'half-open'>
}

export interface HealthOptions {
  random?: () => number
  now?: () => number
  /** USD of a nominal call on the target, for the `cost` strategy; null when unknown. */
  price?: (target: Target) => number | null
  /** Targets to track from the start, so circuitStates lists them before their first call. */
  targets?: ReadonlyMap<string, readonly Target[]>
}

/** Weight of the newest sample in the time-to-first-byte moving average. */
const EWMA_ALPHA = 0.3
/** Share of requests the latency strategy routes at random, so slow-once targets get re-measured. */
export const LATENCY_EXPLORATION = 0.1

interface Stats {
  target: Target
  inFlight: number
  latencyMs: number | undefined
  breaker: CircuitBreaker
}

export function createTargetHealth(config: Config, opts: HealthOptions = {}): TargetHealth {
  const random = opts.random ?? Math.random
  const now = opts.now ?? Date.now
  const cb = config.routing.circuit_breaker
  const settings = { failures: cb.failures, windowMs: cb.window_ms, cooldownMs: cb.cooldown_ms }
  const stats = new Map<string, Stats>()
  const rr = new Map<string, number>()
  const strategy = config.routing.strategy

  const of = (t: Target): Stats => {
    let s = stats.get(t.id)
    if (!s) {
      s = { target: t, inFlight: 0, latencyMs: undefined, breaker: createCircuitBreaker(settings) }
      stats.set(t.id, s)
    }
    return s
  }
  for (const list of opts.targets?.values() ?? []) for (const t of list) of(t)

  const candidate = (t: Target): Candidate & { target: Target } => {
    const s = of(t)
    return { target: t, weight: t.weight, inFlight: s.inFlight, latencyMs: s.latencyMs, price: strategy === 'cost' && opts.price ? opts.price(t) : null }
  }

  return {
    order(model, targets) {
      const at = now()
      const usable = targets.filter((t) => !t.provider.disabled && of(t).breaker.admissible(at))
      if (usable.length <= 1) return usable
      switch (strategy) {
        case 'round-robin': {
          const n = rr.get(model) ?? 0
          rr.set(model, n + 1)
          return roundRobinOrder(usable, n)
        }
        case 'weighted':
          return weightedOrder(usable, random)
        case 'least-busy':
          return unwrap(leastBusyOrder(usable.map(candidate), random))
        case 'latency':
          return unwrap(latencyOrder(usable.map(candidate), random, LATENCY_EXPLORATION))
        case 'cost':
          return unwrap(costOrder(usable.map(candidate), random))
      }
    },
    started(target) {
      const s = of(target)
      if (!s.breaker.admit(now())) return false
      s.inFlight++
      return true
    },
    finished(target, result) {
      const s = of(target)
      if (s.inFlight > 0) s.inFlight--
      if (result.ok && result.ttfbMs !== undefined) {
        s.latencyMs = s.latencyMs === undefined ? result.ttfbMs : s.latencyMs + EWMA_ALPHA * (result.ttfbMs - s.latencyMs)
      }
      s.breaker.record(healthVerdict(result), now())
    },
    reopensIn(targets) {
      const at = now()
      let min: number | undefined
      for (const t of targets) {
        const s = stats.get(t.id)
        if (!s || t.provider.disabled || s.breaker.state(at) === 'closed') continue
        const w = s.breaker.waitMs(at)
        if (min === undefined || w < min) min = w
      }
      return min
    },
    circuitStates() {
      const at = now()
      return [...stats.values()].map((s) => {
        const state = s.breaker.state(at)
        return { target: s.target.id, provider: s.target.provider.name, model: s.target.upstreamModel, publicModel: s.target.publicModel, state, open: state !== 'closed' }
      })
    },
    openCircuits() {
      const at = now()
      const out: Record<string, 'open' | 'half-open'> = {}
      for (const [id, s] of stats) {
        const state = s.breaker.state(at)
        if (state !== 'closed') out[id] = state
      }
      return out
    },
  }
}

const unwrap = (list: ReadonlyArray<{ target: Target }>): Target[] => list.map((c) => c.target)
