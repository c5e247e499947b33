/**
 * GET /v1/responses/{id}, GET /v1/responses/{id}/input_items and DELETE /v1/responses/{id} for
 * responses this gateway stored (ids starting `resp_sb`). Any other id is OpenAI's and is forwarded
 * to an OpenAI target like every other /v1 path (see server/routes.ts). Scoped by the caller's team.
 */
import type { Context, Hono } from 'hono'
import type { Authenticator } from '../core/ports.ts'
import { GatewayError } from '../core/errors.ts'
import { remoteAddressOf } from '../auth/present-key.ts'
import type { ResponsesStore } from './sql-store.ts'

const notFound = (id: string) => new GatewayError({ status: 404, code: 'not_found', message: `Response with id '${id}' not found.` })

export function responsesRoutes(opts: { auth: Authenticator; store: ResponsesStore }): (app: Hono) => void {
  const team = async (c: Context): Promise<string> => (await opts.auth.authenticate(Object.fromEntries(c.req.raw.headers), remoteAddressOf(c.env))).team
  return (app) => {
    app.get('/v1/responses/:id', async (c) => {
      const id = c.req.param('id')
      const found = await opts.store.get(await team(c), id)
      if (!found) throw notFound(id)
      return c.json(found)
    })
    app.get('/v1/responses/:id/input_items', async (c) => {
      const id = c.req.param('id')
      const items = await opts.store.inputItems(await team(c), id)
      if (!items) throw notFound(id)
      const data = items.map((item, i) => ({ id: typeof item.id === 'string' ? item.id : `item_${id.slice(5)}_${i}`, ...item }))
      // OpenAI lists input items newest first by default.
      const order = c.req.query('order') === 'asc' ? data : data.reverse()
      return c.json({ object: 'list', data: order, first_id: order[0]?.id ?? null, last_id: order.at(-1)?.id ?? null, has_more: false })
    })
    app.delete('/v1/responses/:id', async (c) => {
      const id = c.req.param('id')
      if (!(await opts.store.delete(await team(c), id))) throw notFound(id)
      return c.json({ id, object: 'response', deleted: true })
    })
  }
}
