/**
 * GET /admin/v1/audit: the audit trail, newest first. Filters: action, actor (an admin id such as
 * `admin:1a2b3c4d5e6f`), from (inclusive) and to (exclusive) as ISO-8601 dates or times; cursor
 * pagination with `next_cursor`; `limit` 1-500 (default 100). Mounted behind the admin-key check.
 */
import type { Hono } from 'hono'
import { GatewayError } from '../core/errors.ts'
import { BadCursor, type AuditStore } from '../audit/audit-log.ts'
import { parseTime } from './spend.ts'

export function auditRoutes(audit: AuditStore): (app: Hono) => void {
  return (app) => {
    app.get('/admin/v1/audit', async (c) => {
      const q = c.req.query()
      const limitRaw = q.limit ?? '100'
      const limit = Number(limitRaw)
      if (!/^\d+$/.test(limitRaw) || limit < 1 || limit > 500) {
        throw new GatewayError({ status: 400, code: 'invalid_request', param: 'limit', message: "'limit' must be an integer from 1 to 500." })
      }
      // `to` is exclusive here: a date-only `to` is the start of that day (UTC), as documented.
      const from = parseTime(q.from, 'from', false)
      const to = parseTime(q.to, 'to', false)
      // As the spend and requests endpoints do: an empty window is a mistake, not an empty page.
      if (from !== undefined && to !== undefined && to <= from) throw new GatewayError({ status: 400, code: 'invalid_request', param: 'to', message: "'to' must be after 'from'." })
      try {
        const page = await audit.list({
          action: q.action || undefined,
          actor: q.actor || undefined,
          from: from === undefined ? undefined : new Date(from).toISOString(),
          to: to === undefined ? undefined : new Date(to).toISOString(),
          cursor: q.cursor || undefined,
          limit,
        })
        return c.json({ object: 'list', data: page.entries, next_cursor: page.nextCursor })
      } catch (err) {
        if (err instanceof BadCursor) throw new GatewayError({ status: 400, code: 'invalid_request', param: 'cursor', message: "'cursor' is not a cursor this endpoint returned." })
        throw err
      }
    })
  }
}
