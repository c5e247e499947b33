/**
 * What the client sees when the attempts are over. A vendor's own client error keeps its status
 * and message; a final 429 stays 429 so SDKs back off; a final 5xx becomes 502 upstream_error.
 * Vendor messages are scrubbed of anything that looks like a credential.
 */
import { GatewayError } from '../core/errors.ts'
import type { ProviderError } from '../providers/types.ts'
import type { AttemptFailure } from '../routing/plan.ts'

const KEYISH = /\b(sk-[A-Za-z0-9_\-]{6,}|sk-ant-[A-Za-z0-9_\-]{6,}|AKIA[0-9A-Z]{12,}|AIza[0-9A-Za-z_\-]{20,}|[A-Za-z0-9_\-]{32,})\b/g

export function scrubSecrets(message: string, secrets: readonly (string | undefined)[] = []): string {
  let out = message
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]')
  return out.replace(KEYISH, (m) => (m.length >= 20 || m.startsWith('sk-') || m.startsWith('AKIA') || m.startsWith('AIza') ? '[redacted]' : m))
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
  return new GatewayError({ status: e.status, code: e.code, message, type: e.type, param: e.param ?? null })
}

export function finalError(last: AttemptFailure | undefined, provider: string | undefined): GatewayError {
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
