/**
 * The pino logger. Every place a credential could appear is redacted by path, and the access line
 * never carries headers, so keys stay out of logs by construction.
 */
import pino, { type Logger, type DestinationStream } from 'pino'
import { AsyncLocalStorage } from 'node:async_hooks'
import { createLogSink } from './log-sink.ts'

export const REDACT_PATHS = [
  'authorization', 'headers.authorization', 'req.headers.authorization', '*.authorization',
  'x-api-key', 'headers["x-api-key"]', 'req.headers["x-api-key"]', '*["x-api-key"]',
  'api-key', 'headers["api-key"]', '*["api-key"]',
  'key', '*.key', 'apiKey', '*.apiKey', 'keys', '*.keys', 'secret_access_key', '*.secret_access_key', 'admin_keys', '*.admin_keys',
]

/** The `service` field of every line (the access log writes its lines itself). */
export const SERVICE = 'switchboard'

interface HasTraceIds { readonly traceId: string; readonly spanId: string }

/**
 * The request span of the code running now, set by the tracer when a request starts (only when
 * tracing is on), so every line logged while serving it carries trace_id and span_id.
 */
export const logSpan = new AsyncLocalStorage<HasTraceIds>()
// pino merges the log call's fields into the object returned here, so it must be fresh each time.
function traceIds(): object {
  const span = logSpan.getStore()
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {}
}

const baseOptions = (level: string) => ({
  level,
  base: { service: SERVICE },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
  mixin: traceIds,
})

/**
 * Writes to stdout asynchronously in 64 KiB batches rather than one write per line (the access log
 * writes a line per request; see log-sink.ts); main.ts flushes every 250 ms and on shutdown, and
 * what is queued at exit is written synchronously, so only a crash can lose the last batch.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { ...baseOptions(level), redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination ?? createLogSink(1),
  )
}
