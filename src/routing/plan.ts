/**
 * The routing plan of one request: which target to try next after a failure, and how long to wait
 * first. Pure decisions over config and a random source; the pipeline does the I/O.
 *
 * Order: the model's targets (ordered by the strategy), retried while attempts remain; then each
 * fallback model's targets in order. A prompt-too-long failure jumps to the context-window
 * fallbacks; a content-policy refusal to the content-policy fallbacks (if any). A client error is
 * never retried.
 */
import type { Config } from '../config/schema.ts'
import type { ProviderError } from '../providers/types.ts'
import type { Target } from './deployments.ts'
import type { TransportFailure } from '../upstream/types.ts'

export type AttemptFailure =
  | { kind: 'provider'; error: ProviderError }
  | { kind: 'transport'; failure: TransportFailure }
  | { kind: 'unavailable'; reason: string }

export interface Step {
  target: Target
  /** Wait this long before sending. */
  delayMs: number
  /** 1-based attempt number across the request. */
  attempt: number
  fallback: boolean
}

export interface RoutePlan {
  next(failure?: AttemptFailure): Step | undefined
}

export interface PlanDeps {
  config: Config
  targets: ReadonlyMap<string, readonly Target[]>
  /** Orders a model's healthy targets for this request (strategy + circuit breaker). */
  order(model: string, targets: readonly Target[]): Target[]
  random?: () => number
  /** Extra fallbacks the client asked for (x-switchboard-fallbacks). */
  requestFallbacks?: readonly string[]
}

const RETRYABLE_TRANSPORT: ReadonlySet<TransportFailure> = new Set(['connect_timeout', 'first_byte_timeout', 'idle_timeout', 'connection_refused', 'connection_reset', 'network'])

export function isRetryable(f: AttemptFailure): boolean {
  if (f.kind === 'unavailable') return true
  if (f.kind === 'transport') return RETRYABLE_TRANSPORT.has(f.failure)
  const k = f.error.kind
  // An auth failure is one key's problem: another key or vendor may serve.
  return k === 'rate_limited' || k === 'overloaded' || k === 'server' || k === 'auth'
}

export function backoffMs(retry: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

export function createPlan(publicModel: string, deps: PlanDeps): RoutePlan {
  const { config } = deps
  const random = deps.random ?? Math.random
  const maxAttempts = config.routing.retries.max_attempts
  const model = config.models[publicModel]
  const groups: string[] = [publicModel, ...(deps.requestFallbacks ?? []), ...(model?.fallbacks ?? [])]
  let groupIndex = 0
  let queue: Target[] = []
  let triedInGroup = 0
  let attempt = 0
  let retries = 0

  const loadGroup = (index: number): boolean => {
    while (index < groups.length) {
      const name = groups[index]!
      const targets = deps.targets.get(name) ?? []
      const ordered = deps.order(name, targets)
      if (ordered.length > 0) {
        groupIndex = index
        queue = ordered
        triedInGroup = 0
        return true
      }
      index++
    }
    return false
  }

  const jumpTo = (names: readonly string[]): boolean => {
    groups.splice(groupIndex + 1, groups.length, ...names)
    return loadGroup(groupIndex + 1)
  }

  return {
    next(failure) {
      if (attempt >= maxAttempts) return undefined
      if (failure === undefined) {
        if (!loadGroup(0)) return undefined
      } else if (failure.kind === 'provider' && failure.error.kind === 'context_length') {
        if (!jumpTo(model?.context_window_fallbacks ?? [])) return undefined
      } else if (failure.kind === 'provider' && failure.error.kind === 'content_filter') {
        if (!jumpTo(model?.content_policy_fallbacks ?? [])) return undefined
      } else if (!isRetryable(failure)) {
        return undefined
      } else if (triedInGroup >= queue.length && !loadGroup(groupIndex + 1)) {
        // every target of the last group failed: retry its targets while attempts remain
        triedInGroup = 0
      }
      const target = queue[triedInGroup % queue.length]!
      triedInGroup++
      attempt++
      let delayMs = 0
      if (failure !== undefined) {
        retries++
        delayMs = backoffMs(retries, config.routing.retries.backoff_ms, config.routing.retries.max_backoff_ms, random)
        if (failure.kind === 'provider' && failure.error.retryAfterMs !== undefined) {
          delayMs = Math.max(delayMs, Math.min(failure.error.retryAfterMs, config.routing.retries.max_backoff_ms))
        }
      }
      return { target, delayMs, attempt, fallback: groupIndex > 0 }
    },
  }
}

/** Weighted random order without replacement; zero weights go last. */
export function weightedOrder<T extends { weight: number }>(items: readonly T[], random: () => number): T[] {
  const pool = [...items]
  const out: T[] = []
  while (pool.length > 0) {
    const total = pool.reduce((s, t) => s + Math.max(0, t.weight), 0)
    let idx = 0
    if (total > 0) {
      let r = random() * total
      idx = pool.findIndex((t) => (r -= Math.max(0, t.weight)) < 0)
      if (idx < 0) idx = pool.length - 1
    }
    out.push(pool.splice(idx, 1)[0]!)
  }
  return out
}
