/**
 * What a backend answers for one reservation, and how that becomes response headers or a 429.
 * Both backends (memory, Redis) produce the same Decision, so messages and headers are identical.
 */
import { GatewayError } from '../core/errors.ts'
import { CONC, RPD, RPS, TPD, TPM, type ScopePlan } from './scopes.ts'
import { WINDOW_MS, formatResetDuration, msToWindowEnd, retryAfterSeconds } from './windows.ts'

/** Counters per scope after a reservation: used[i * 5 + j] for scope i and limit j in rps..tpd. */
export type Admitted = { ok: true; now: number; used: readonly number[] }
/** The first check that failed: scope index, limit position, the count it saw, ms until it resets. */
export type Refused = { ok: false; scope: number; limit: number; used: number; resetMs: number }
export type Decision = Admitted | Refused

export const PER_SCOPE = 5

const UNIT = ['second', 'minute', 'day', 'minute', 'day']

/** Request limits (rps..rpd) and token limits (tpm, tpd), with their header names, built once. */
const HEADER_GROUPS = [
  { from: RPS, to: RPD, limit: 'x-ratelimit-limit-requests', remaining: 'x-ratelimit-remaining-requests', reset: 'x-ratelimit-reset-requests' },
  { from: TPM, to: TPD, limit: 'x-ratelimit-limit-tokens', remaining: 'x-ratelimit-remaining-tokens', reset: 'x-ratelimit-reset-tokens' },
] as const

/** The tightest request limit and the tightest token limit across scopes, as OpenAI's headers. */
export function rateLimitHeaders(plan: ScopePlan, d: Admitted): Record<string, string> | undefined {
  let out: Record<string, string> | undefined
  for (const g of HEADER_GROUPS) {
    let limit = 0
    let remaining = Infinity
    let windowMs = 0
    for (let i = 0; i < plan.scopes.length; i++) {
      const limits = plan.scopes[i]!.limits
      for (let j = g.from; j <= g.to; j++) {
        const lim = limits[j]!
        if (lim === 0) continue
        const rem = lim - d.used[i * PER_SCOPE + j]!
        if (rem < remaining) {
          remaining = rem
          limit = lim
          windowMs = WINDOW_MS[j]!
        }
      }
    }
    if (limit === 0) continue
    out ??= {}
    out[g.limit] = String(limit)
    out[g.remaining] = String(Math.max(0, remaining))
    out[g.reset] = formatResetDuration(msToWindowEnd(d.now, windowMs))
  }
  return out
}

/** The 429 for a refused reservation: names the scope and the limit, says when to retry. */
export function limitExceeded(plan: ScopePlan, d: Refused, tokens: number): GatewayError {
  const scope = plan.scopes[d.scope]!
  const lim = scope.limits[d.limit]!
  const retry = retryAfterSeconds(d.resetMs)
  const headers: Record<string, string> = { 'retry-after': String(retry) }
  let message: string
  if (d.limit === CONC) {
    message = `Rate limit of ${lim} concurrent requests reached for ${scope.label}. Retry after ${retry} s.`
  } else if (d.limit <= RPD) {
    message = `Rate limit of ${lim} requests per ${UNIT[d.limit]} reached for ${scope.label}. Retry after ${retry} s.`
    Object.assign(headers, { 'x-ratelimit-limit-requests': String(lim), 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': formatResetDuration(d.resetMs) })
  } else {
    // A request larger than the limit itself can never pass: the SDKs must not sleep and resend it.
    if (tokens > lim) headers['x-should-retry'] = 'false'
    message = tokens > lim
      ? `Request too large for ${scope.label}: it reserves ${tokens} tokens (estimated prompt plus max output tokens) and the limit is ${lim} tokens per ${UNIT[d.limit]}. Lower max_tokens or shorten the prompt.`
      : `Rate limit of ${lim} tokens per ${UNIT[d.limit]} reached for ${scope.label}: ${d.used} used, this request reserves ${tokens} (estimated prompt plus max output tokens). Retry after ${retry} s.`
    Object.assign(headers, { 'x-ratelimit-limit-tokens': String(lim), 'x-ratelimit-remaining-tokens': String(Math.max(0, lim - d.used)), 'x-ratelimit-reset-tokens': formatResetDuration(d.resetMs) })
  }
  return new GatewayError({ status: 429, code: 'rate_limit_exceeded', message, headers })
}

export const limiterUnavailable = (): GatewayError =>
  new GatewayError({
    status: 503,
    code: 'rate_limiter_unavailable',
    message: 'Rate limits cannot be checked right now (the shared limiter store is unreachable and redis.on_failure is fail-closed). Retry shortly.',
    headers: { 'retry-after': '1' },
  })
