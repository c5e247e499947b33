/**
 * One access-log line per admin API call (the model calls have theirs, telemetry/access-log.ts):
 * who (the admin's id, when it authenticated), what (method and path), the status and error code,
 * and how long it took. Never a header, a query or a body; and a key id in the path is shown only
 * when it is shaped like one, since a key may be pasted where its id belongs (admin/keys.ts).
 */
import type { MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import { toGatewayError } from '../core/errors.ts'
import { isKeyIdShaped } from './keys.ts'

const KEY_PATH = '/admin/v1/keys/'

/** The path as logged: a key-id segment that is not shaped like an id is replaced. */
export function adminPathForLog(path: string): string {
  if (!path.startsWith(KEY_PATH) || path.length === KEY_PATH.length) return path
  let id: string
  try {
    id = decodeURIComponent(path.slice(KEY_PATH.length))
  } catch {
    id = ''
  }
  return isKeyIdShaped(id) ? path : `${KEY_PATH}[not shown]`
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10

/** `enabled`: logging.access_log of the runtime's config. */
export function adminAccessLog(log: Logger, enabled: boolean): MiddlewareHandler {
  return async function adminAccessLogMiddleware(c, next) {
    if (!enabled) return next()
    const t0 = performance.now()
    await next()
    const status = c.res.status
    log.info({
      requestId: c.get('requestId'),
      method: c.req.method,
      path: adminPathForLog(c.req.path),
      status,
      code: c.error ? toGatewayError(c.error).code : undefined,
      admin: c.get('adminId'),
      durationMs: round1(performance.now() - t0),
    }, 'admin request')
  }
}
