/**
 * What the client sees when the attempts are over. A vendor's own client error keeps its status
 * and message; a final 429 stays 429 so SDKs back off; a final 5xx becomes 502 upstream_error.
 * Vendor messages are scrubbed of anything that looks like a credential.
 */
import { GatewayError } from '../core/errors.ts'
import { scrubSecrets } from '../core/scrub.ts'
import type { ProviderError } from '../providers/types.ts'
import type { AttemptFailure } from '../routing/plan.ts'

export { scrubSecrets }

/**
 * Scrubs, in place, every field of a vendor error a client may see of the attempt's exact secrets
 * (providers/secrets.ts) and of anything key-like: the message, and the `param`, `code` and
 * `type` that are passed through with a vendor 4xx. Run where the attempt's secrets are known,
 * on every vendor error, before it is retried, reported or rendered.
 */
export function scrubVendorError(e: ProviderError, secrets: readonly (string | undefined)[]): ProviderError {
  e.message = scrubSecrets(e.message, secrets)
  if (typeof e.param === 'string') e.param = scrubSecrets(e.param, secrets)
  if (typeof e.code === 'string') e.code = scrubSecrets(e.code, secrets)
  if (typeof e.type === 'string') e.type = scrubSecrets(e.type, secrets)
  return e
}

export function vendorErrorToClient(e: ProviderError, provider: string): GatewayError {
  const message = scrubSecrets(e.message)
  if (e.status === 429 || e.kind === 'rate_limited') {
    const headers: Record<string, string> = { 'retry-after': String(Math.max(1, Math.ceil((e.retryAfterMs ?? 1000) / 1000))) }
    // The SDKs read retry-after-ms first: a vendor's sub-second wait keeps its precision.
    if (e.retryAfterMs !== undefined) headers['retry-after-ms'] = String(Math.max(0, Math.round(e.retryAfterMs)))
    return new GatewayError({ status: 429, code: e.code || 'rate_limit_exceeded', message: `${provider}: ${message}`, headers })
  }
  if (e.status >= 500 || e.kind === 'overloaded' || e.kind === 'server') {
    return new GatewayError({ status: 502, code: 'upstream_error', message: `The vendor failed (${provider} answered ${e.status}): ${message}`, overloaded: e.kind === 'overloaded' })
  }
  if (e.kind === 'auth') {
    // The gateway's vendor key was refused: that is the operator's problem, not the client's key.
    return new GatewayError({ status: 502, code: 'upstream_error', message: `The vendor rejected the gateway's credentials for provider "${provider}" (${e.status}). Ask the gateway operator to check the vendor key.` })
  }
  // The param is vendor text too (a key echoed as the offending value); codes and types are
  // identifiers, scrubbed of the exact secrets only (scrubVendorError): the key-like pattern would
  // take OpenAI's unsupported_country_region_territory for a key.
  return new GatewayError({ status: e.status, code: e.code, message, type: e.type, param: typeof e.param === 'string' ? scrubSecrets(e.param) : null })
}

/**
 * Whether `next` should replace `kept` as the failure the client hears when the attempts are over.
 * A vendor's own failure (the latest one) beats a target skipped as unusable now ('unavailable':
 * circuit open, keys resting), which beats a target that cannot take the request at all
 * ('unservable': a translation refusal). So a 429 seen first is not hidden by a fallback that
 * could not translate the request, and that 400 is answered only when no target could take it;
 * among such 400s, the first that names a field (the most precise one).
 */
export function supersedes(next: AttemptFailure, kept: AttemptFailure | undefined): boolean {
  if (!kept) return true
  const gap = weight(next) - weight(kept)
  if (gap !== 0) return gap > 0
  if (next.kind === 'unservable' && kept.kind === 'unservable') return next.error.param !== null && kept.error.param === null
  return next.kind !== 'unavailable'
}

const weight = (f: AttemptFailure): number => (f.kind === 'unservable' ? 0 : f.kind === 'unavailable' ? 1 : 2)

export function finalError(last: AttemptFailure | undefined, provider: string | undefined): GatewayError {
  if (last?.kind === 'unservable') return last.error
  if (!last || last.kind === 'unavailable') {
    return new GatewayError({
      status: 503,
      code: 'no_healthy_upstream',
      message: last?.reason ?? 'No healthy upstream can serve this model right now (every target is disabled, rate-limited or circuit-open). Retry later.',
      headers: { 'retry-after': String(last?.retryAfterMs !== undefined ? Math.max(1, Math.ceil(last.retryAfterMs / 1000)) : 5) },
    })
  }
  if (last.kind === 'provider') return vendorErrorToClient(last.error, provider ?? 'upstream')
  const f = last.failure
  if (f === 'connect_timeout' || f === 'first_byte_timeout' || f === 'idle_timeout' || f === 'total_timeout') {
    return new GatewayError({ status: 504, code: 'upstream_timeout', message: `The vendor did not answer in time (${f.replace(/_/g, ' ')}) after every attempt. Retry, or raise routing.timeouts.` })
  }
  return new GatewayError({ status: 502, code: 'upstream_error', message: `Could not reach the vendor (${f.replace(/_/g, ' ')}) after every attempt.` })
}
