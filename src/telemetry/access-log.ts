/**
 * The access log: one line per request with what an on-call engineer needs. Logged when the
 * request is settled (for streams, when the stream ends), never with headers or bodies, so there
 * is nothing to redact. With tracing on, the line carries the request span's trace_id and span_id.
 *
 * The line is written in pino's format (level label, ISO time, base fields, msg) straight to the
 * logger's destination with one JSON.stringify of a flat object: going through pino's serializer
 * cost about a tenth of a request's CPU here (docs/performance.md).
 */
import pino, { type DestinationStream, type Logger } from 'pino'
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { Observability } from '../core/ports.ts'
import { SERVICE } from './logger.ts'

const SERVICE_JSON = JSON.stringify(SERVICE)

const round1 = (ms: number): number => Math.round(ms * 10) / 10

interface TraceIds { readonly traceId: string; readonly spanId: string }

export interface AccessLog {
  request(call: CallInfo, outcome: CallOutcome, ttftMs: number | undefined, span?: TraceIds): void
  refused(info: Parameters<Observability['refused']>[0]): void
}

/** The fields of a served request's line, in the order they are written. */
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

/** The ISO time of a line, formatted once per millisecond. */
let isoAt = 0
let isoText = ''
function isoNow(): string {
  const now = Date.now()
  if (now !== isoAt) {
    isoAt = now
    isoText = new Date(now).toISOString()
  }
  return isoText
}

/**
 * Lines for `log`'s destination, in its format (its `base` fields included); written only while
 * its level lets info lines through, which is checked per line so a reload's level applies.
 */
export function createAccessLog(log: Logger): AccessLog {
  const stream = (log as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]!
  const write = (fields: Record<string, unknown>, msg: string, span?: TraceIds): void => {
    if (!log.isLevelEnabled('info')) return
    // The fixed head is written as text and the fields' JSON spliced in after it: merging them
    // into one object first (Object.assign) made V8 stringify a dictionary-mode object, ~2x slower.
    const head = span
      ? `{"level":"info","time":"${isoNow()}","service":${SERVICE_JSON},"trace_id":"${span.traceId}","span_id":"${span.spanId}",`
      : `{"level":"info","time":"${isoNow()}","service":${SERVICE_JSON},`
    stream.write(`${head}${JSON.stringify(fields).slice(1, -1)},"msg":"${msg}"}\n`)
  }
  return {
    request: (call, outcome, ttftMs, span) => write(accessLine(call, outcome, ttftMs), 'request', span),
    refused: (info) => write(refusedLine(info), 'request refused'),
  }
}
