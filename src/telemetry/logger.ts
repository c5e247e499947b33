/**
 * The pino logger. Every place a credential could appear is redacted by path, and the access line
 * never carries headers, so keys stay out of logs by construction.
 */
import pino, { type Logger, type DestinationStream } from 'pino'
import { AsyncLocalStorage } from 'node:async_hooks'

export const REDACT_PATHS = [
  'authorization', 'headers.authorization', 'req.headers.authorization', '*.authorization',
  'x-api-key', 'headers["x-api-key"]', 'req.headers["x-api-key"]', '*["x-api-key"]',
  'api-key', 'headers["api-key"]', '*["api-key"]',
  'key', '*.key', 'apiKey', '*.apiKey', 'keys', '*.keys', 'secret_access_key', '*.secret_access_key', 'admin_keys', '*.admin_keys',
]

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
  base: { service: 'switchboard' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
  mixin: traceIds,
})

/**
 * Writes to stdout asynchronously in 4 KiB batches rather than one write per line (the access log
 * writes a line per request); main.ts flushes on shutdown, so only a crash can lose the last batch.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { ...baseOptions(level), redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  )
}

const accessLoggers = new WeakMap<Logger, Logger>()

/**
 * The access logger: the same stream and format, without path redaction. Redaction walks every
 * line it is given and cost a sixth of a request's CPU here; the access line is built from ids,
 * names, counts and codes only (telemetry/access-log.ts), never from headers or bodies, so it has
 * nothing to redact.
 */
export function accessLoggerFor(log: Logger): Logger {
  let access = accessLoggers.get(log)
  if (!access) {
    const stream = (log as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]
    access = pino(baseOptions(log.level), stream)
    accessLoggers.set(log, access)
  }
  return access
}
