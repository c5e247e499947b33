/**
 * GET /admin/v1/requests: the ledger, newest first, filtered by team, key, model, status, run and
 * time, paged with an opaque cursor (`next_cursor`, null on the last page).
 */
import type { Hono } from 'hono'
import { GatewayError } from '../core/errors.ts'
import type { SqlDb } from '../stores/sql.ts'
import { requestsPage } from '../ledger/queries.ts'
import { timeRange } from './spend.ts'

const bad = (param: string, message: string) => new GatewayError({ status: 400, code: 'invalid_request', param, message })

const encodeCursor = (id: number): string => Buffer.from(`l:${id}`).toString('base64url')
/**
 * The row id a cursor names. One this API returned holds a safe integer; a larger one (garbled or
 * made up) reached the store as an out-of-range bigint, a 500, so it is refused like any other.
 */
function decodeCursor(c: string): number {
  const m = c.length <= 64 ? /^l:(\d{1,16})$/.exec(Buffer.from(c, 'base64url').toString('utf8')) : null
  const id = m ? Number(m[1]) : NaN
  if (!Number.isSafeInteger(id)) throw bad('cursor', "'cursor' is not one this API returned.")
  return id
}

export function requestsAdminRoutes(db: SqlDb): (app: Hono) => void {
  return (app) => {
    app.get('/admin/v1/requests', async (c) => {
      const q = (k: string) => {
        const v = c.req.query(k)
        return v === undefined || v === '' ? undefined : v
      }
      const limitRaw = q('limit') ?? '100'
      const limit = Number(limitRaw)
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw bad('limit', `'limit' is an integer from 1 to 1000, got '${limitRaw}'.`)
      const statusRaw = q('status')
      const status = statusRaw === undefined ? undefined : Number(statusRaw)
      if (status !== undefined && (!Number.isInteger(status) || status < 100 || status > 599)) throw bad('status', `'status' is an HTTP status code, got '${statusRaw}'.`)
      const { fromMs, toMs } = timeRange((k) => (k === 'from' && !q('from') ? '1970-01-01' : q(k)))
      const cursor = q('cursor')
      const rows = await requestsPage(db, {
        team: q('team'), key: q('key'), model: q('model'), status, run: q('run'),
        fromMs, toMs, beforeId: cursor ? decodeCursor(cursor) : undefined, limit: limit + 1,
      })
      const more = rows.length > limit
      const data = more ? rows.slice(0, limit) : rows
      return c.json({ data, next_cursor: more ? encodeCursor(data[data.length - 1]!.id) : null })
    })
  }
}
