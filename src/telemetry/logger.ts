/**
 * The pino logger. Every place a credential could appear is redacted by path, and the access line
 * never carries headers, so keys stay out of logs by construction.
 */
import pino, { type Logger, type DestinationStream } from 'pino'

export const REDACT_PATHS = [
  'authorization', 'headers.authorization', 'req.headers.authorization', '*.authorization',
  'x-api-key', 'headers["x-api-key"]', 'req.headers["x-api-key"]', '*["x-api-key"]',
  'api-key', 'headers["api-key"]', '*["api-key"]',
  'key', '*.key', 'apiKey', '*.apiKey', 'keys', '*.keys', 'secret_access_key', '*.secret_access_key', 'admin_keys', '*.admin_keys',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'switchboard' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  )
}
