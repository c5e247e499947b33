/**
 * The HTTP entry point. Model calls run straight on Node's request/response objects: the web
 * stream bridge costs half the throughput on this path (measured; see docs/architecture.md).
 * Everything else is served by the Hono app through @hono/node-server's listener.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import type { Hono } from 'hono'
import { handleModelCall, type Route } from '../pipeline/handle-call.ts'
import type { PipelineDeps } from '../pipeline/deps.ts'
import { forwardRefusal, isGatewayOwnedV1, MODEL_ROUTES } from './routes.ts'

const PASSTHROUGH_METHODS = new Set(['GET', 'POST', 'DELETE', 'PUT', 'PATCH'])

export function createListener(pipeline: () => PipelineDeps, app: () => Hono) {
  let honoListener: ReturnType<typeof getRequestListener> | undefined
  let honoApp: Hono | undefined
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const method = req.method ?? 'GET'
    let route: Route | undefined = method === 'POST' ? MODEL_ROUTES.get(path) : undefined
    // Claude Code calls /v1/messages?beta=true: the query travels to native targets.
    if (route && q !== -1) route = { ...route, query: url.slice(q + 1) }
    if (!route && path.startsWith('/v1/') && !isGatewayOwnedV1(path, method) && PASSTHROUGH_METHODS.has(method)) {
      // A non-canonical path is refused by the pipeline once the caller is known (a ledger row, the throttle).
      route = { operation: 'passthrough', ingress: 'openai', path: path.slice(3), query: q === -1 ? undefined : url.slice(q + 1), method: method as Route['method'], refused: forwardRefusal(path, method) }
    }
    if (route) {
      void handleModelCall(pipeline(), req, res, route)
      return
    }
    const current = app()
    if (current !== honoApp) {
      honoApp = current
      honoListener = getRequestListener(current.fetch)
    }
    void honoListener!(req, res)
  }
}
