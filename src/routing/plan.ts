/**
 * The routing plan of one request: which target to try next after a failure, and how long to wait
 * first. Pure decisions over config, the clock and a random source; the pipeline does the I/O.
 *
 * Order: the model's targets (ordered by the strategy, open circuits left out), then the request's
 * own fallbacks (x-switchboard-fallbacks), then the model's `fallbacks`, each model's targets once;
 * when all are spent, the last model's targets again while attempts remain. A prompt-too-long
 * failure jumps to the context-window fallbacks, a content-policy refusal to the content-policy
 * fallbacks (none configured: the error stands). A client error is never retried. A target that
 * cannot take the request (it cannot be translated for it) is skipped for the rest of the request.
 *
 * Waiting: a target not yet tried in this request is tried at once. Trying a target again waits
 * an exponential backoff with full jitter, and at least until the vendor's retry-after for it (or,
 * for a 429, until one of its vendor keys is out of rest). A wait longer than max_backoff_ms or
 * past the request's deadline is not slept: that target is skipped, and when nothing else is left
 * the plan stops and the last error stands (a 429 reaches the client with its retry-after).
 */
import type { Config } from '../config/schema.ts'
import type { GatewayError } from '../core/errors.ts'
import type { ProviderError } from '../providers/types.ts'
import type { Target } from './deployments.ts'
import type { TransportFailure } from '../upstream/types.ts'
import { weightedOrder } from './strategies.ts'

export { weightedOrder }

export type AttemptFailure =
  | { kind: 'provider'; error: ProviderError }
  | { kind: 'transport'; failure: TransportFailure }
  | { kind: 'unavailable'; reason: string; retryAfterMs?: number }
  /**
   * The target cannot take this request at all (it cannot be translated for it: an OpenAI
   * previous_response_id on Anthropic, n > 1 on Claude...): nothing was sent. The plan moves on
   * and never offers that target again in this request; it costs no attempt.
   */
  | { kind: 'unservable'; error: GatewayError }

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
  now?: () => number
  /** Epoch ms after which no attempt may start (the request's total timeout). */
  deadline?: number
  /** Extra fallbacks the client asked for (x-switchboard-fallbacks). */
  requestFallbacks?: readonly string[]
}

const RETRYABLE_TRANSPORT: ReadonlySet<TransportFailure> = new Set([
  'connect_timeout', 'first_byte_timeout', 'idle_timeout', 'total_timeout', 'connection_refused', 'connection_reset', 'network',
])

/** Whether another attempt may help: vendor 429/5xx/529, refused keys, timeouts, broken connections. */
export function isRetryable(f: AttemptFailure): boolean {
  if (f.kind === 'unavailable' || f.kind === 'unservable') return true
  if (f.kind === 'transport') return RETRYABLE_TRANSPORT.has(f.failure)
  const k = f.error.kind
  // An auth failure is one key's problem: another key or vendor may serve.
  return k === 'rate_limited' || k === 'overloaded' || k === 'server' || k === 'auth'
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base * 2^(retry-1))). */
export function backoffMs(retry: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

/** A 429 the key pool absorbs by resting the key (the provider has keys to rotate). */
const keyLevel = (e: ProviderError, t: Target): boolean => e.kind === 'rate_limited' && t.provider.keys.size > 0

export function createPlan(publicModel: string, deps: PlanDeps): RoutePlan {
  const { config } = deps
  const random = deps.random ?? Math.random
  const now = deps.now ?? Date.now
  const deadline = deps.deadline ?? Number.POSITIVE_INFINITY
  const { max_attempts: maxAttempts, backoff_ms: base, max_backoff_ms: maxBackoff } = config.routing.retries
  const model = config.models[publicModel]
  const asked = deps.requestFallbacks ?? []
  const configured = model?.fallbacks ?? []
  const groups: string[] = asked.length === 0 && configured.length === 0 ? [publicModel] : [publicModel, ...asked, ...configured]
  let groupIndex = -1
  let queue: Target[] = []
  let attempt = 0
  let retries = 0
  let previous: Target | undefined
  // Made at the second attempt, holding the first one's target (the only one tried until then);
  // most calls succeed at their first attempt and never need it.
  let tried: Set<string> | undefined
  /** Per target id: not before this time (the vendor's retry-after). */
  let holdUntil: Map<string, number> | undefined
  /** Targets that cannot take this request (an 'unservable' failure): never offered again. */
  let unservable: Set<string> | undefined

  const loadGroup = (from: number): boolean => {
    for (let i = from; i < groups.length; i++) {
      const all = deps.order(groups[i]!, deps.targets.get(groups[i]!) ?? [])
      const ordered = unservable ? all.filter((t) => !unservable!.has(t.id)) : all
      if (ordered.length > 0) {
        groupIndex = i
        queue = ordered
        return true
      }
    }
    return false
  }

  const jumpTo = (names: readonly string[]): boolean => {
    groups.splice(groupIndex + 1, groups.length, ...names)
    queue = []
    return loadGroup(groupIndex + 1)
  }

  /** How long the target needs before it can be tried (retry-after, resting keys). */
  const readyIn = (t: Target, at: number): number => {
    let wait = holdUntil ? Math.max(0, (holdUntil.get(t.id) ?? 0) - at) : 0
    const keys = t.provider.keys
    if (keys.size > 0 && keys.available(t.upstreamModel, at) === 0) wait = Math.max(wait, (keys.readyAt?.(t.upstreamModel, at) ?? at + 1000) - at)
    return wait
  }

  /** Takes the queue's first target ready now, else the one ready soonest within `limit`. */
  const take = (at: number, limit: number): { target: Target; wait: number } | undefined => {
    let best = -1
    let bestWait = Number.POSITIVE_INFINITY
    for (let i = 0; i < queue.length; i++) {
      const w = readyIn(queue[i]!, at)
      if (w < bestWait) {
        best = i
        bestWait = w
        if (w === 0) break
      }
    }
    if (best < 0 || bestWait > limit) return undefined
    return { target: best === 0 ? queue.shift()! : queue.splice(best, 1)[0]!, wait: bestWait }
  }

  return {
    next(failure) {
      // Nothing was sent to a target that cannot take the request: that step was no attempt.
      if (failure?.kind === 'unservable' && previous) {
        (unservable ??= new Set()).add(previous.id)
        attempt--
      }
      if (attempt >= maxAttempts) return undefined
      const at = now()
      if (failure === undefined) {
        if (!loadGroup(0)) return undefined
      } else {
        if (previous && failure.kind === 'provider' && failure.error.retryAfterMs !== undefined && !keyLevel(failure.error, previous)) {
          (holdUntil ??= new Map()).set(previous.id, at + failure.error.retryAfterMs)
        }
        if (failure.kind === 'provider' && failure.error.kind === 'context_length') {
          if (!jumpTo(model?.context_window_fallbacks ?? [])) return undefined
        } else if (failure.kind === 'provider' && failure.error.kind === 'content_filter') {
          if (!jumpTo(model?.content_policy_fallbacks ?? [])) return undefined
        } else if (!isRetryable(failure)) {
          return undefined
        }
      }
      const limit = Math.min(maxBackoff, deadline - at)
      let choice = take(at, limit)
      // This model's targets are spent (or not ready in time): the next fallback, else the last
      // model's targets again, freshly ordered (circuits that opened meanwhile drop out).
      let cycled = false
      while (!choice) {
        if (!loadGroup(groupIndex + 1)) {
          if (cycled || !loadGroup(groupIndex)) return undefined
          cycled = true
        }
        choice = take(at, limit)
      }
      const { target, wait } = choice
      let delayMs = wait
      if (previous !== undefined && (tried ??= new Set([previous.id])).has(target.id)) {
        retries++
        delayMs = Math.max(wait, backoffMs(retries, base, maxBackoff, random))
      }
      if (at + delayMs >= deadline) return undefined
      tried?.add(target.id)
      previous = target
      attempt++
      return { target, delayMs, attempt, fallback: groupIndex > 0 }
    },
  }
}
