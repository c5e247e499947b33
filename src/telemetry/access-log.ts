/**
 * The access log: one line per request with what an on-call engineer needs. Logged when the
 * request is settled (for streams, when the stream ends), never with headers or bodies. With
 * tracing on, the logger's mixin adds trace_id and span_id (the request span).
 */
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { Observability } from '../core/ports.ts'

const round1 = (ms: number): number => Math.round(ms * 10) / 10

export function accessLine(call: CallInfo, outcome: CallOutcome, ttftMs: number | undefined): Record<string, unknown> {
  const u = outcome.usage
  const attempts = outcome.attempts
  const last = attempts[attempts.length - 1]
  const line: Record<string, unknown> = {
    requestId: call.requestId,
    op: call.operation,
    model: call.publicModel,
    provider: outcome.provider,
    upstreamModel: outcome.upstreamModel,
    team: call.principal.team,
    keyId: call.principal.keyId,
    runId: call.runId,
    stream: call.stream,
    status: outcome.status,
    code: outcome.errorCode,
    attempts: attempts.length,
    fallback: last?.fallback || undefined,
    cache: outcome.cache,
    inputTokens: u?.inputTokens,
    outputTokens: u?.outputTokens,
    cachedTokens: u?.cachedInputTokens,
    costUsd: outcome.costUsd,
    ttftMs: ttftMs === undefined ? undefined : round1(ttftMs),
    durationMs: round1(outcome.durationMs),
    aborted: outcome.clientAborted || undefined,
  }
  // Why there were retries: only failed attempts, so the common line stays short.
  if (attempts.length > 1 || (last && last.error)) {
    line.failedAttempts = attempts.filter((a) => a.error !== undefined).map((a) => ({ provider: a.provider, model: a.upstreamModel, status: a.status, error: a.error }))
  }
  return line
}

export function refusedLine(info: Parameters<Observability['refused']>[0]): Record<string, unknown> {
  return { requestId: info.requestId, method: info.method, path: info.path.split('?')[0], status: info.status, code: info.code, durationMs: round1(info.durationMs) }
}
