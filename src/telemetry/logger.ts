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

interface HasSpanContext { spanContext(): { traceId: string; spanId: string } }

/**
 * The request span of the code running now, set by the tracer when a request starts (only when
 * tracing is on), so every line logged while serving it carries trace_id and span_id.
 */
export const logSpan = new AsyncLocalStorage<HasSpanContext>()
// pino merges the log call's fields into the object returned here, so it must be fresh each time.
function traceIds(): object {
  const span = logSpan.getStore()
  if (!span) return {}
  const c = span.spanContext()
  return { trace_id: c.traceId, span_id: c.spanId }
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'switchboard' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceIds,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  )
}
