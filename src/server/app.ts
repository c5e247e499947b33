/**
 * The Hono app for everything off the data plane: models list, health, metrics, admin. No I/O at
 * import time; all dependencies come in through createApp.
 */
import { Hono } from 'hono'
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Authenticator } from '../core/ports.ts'
import { GatewayError, openAIErrorBody, toGatewayError } from '../core/errors.ts'
import { anyGlobMatches } from '../core/glob.ts'
import { remoteAddressOf } from '../auth/present-key.ts'
import { requestIdFrom } from '../pipeline/headers.ts'

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's id (its x-request-id), for log lines about it. */
    requestId: string
  }
}

export interface AppDeps {
  config: Config
  auth: Authenticator
  /** Where failures (5xx) are logged; the id in their answer is what finds the line. */
  log?: Logger
  /** Readiness: config loaded and stores reachable; detail for operators. */
  /**
   * Readiness. `ready: false` only while draining. A shared dependency being down (the SQL store,
   * Redis) is `degraded`, still 200: every replica sees the same outage, and taking them all out of
   * the load balancer would turn a degraded service into no service (docs/deploy.md).
   */
  readiness(): Promise<{ ready: boolean; degraded: boolean; detail: Record<string, unknown> }>
  metrics?(): Promise<{ contentType: string; body: string }>
  /** Extra routes (admin API) mounted by their owners. */
  mount?: Array<(app: Hono) => void>
}

const CREATED = Math.floor(Date.now() / 1000)

export function createApp(deps: AppDeps): Hono {
  const app = new Hono()

  // Every response names its request, as the model calls' do: the client's x-request-id when sane, else a new one.
  app.use(async (c, next) => {
    const id = requestIdFrom({ 'x-request-id': c.req.header('x-request-id') })
    c.set('requestId', id)
    await next()
    c.res.headers.set('x-request-id', id)
  })

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const r = await deps.readiness()
    return c.json({ status: r.ready ? (r.degraded ? 'degraded' : 'ready') : 'not ready', ...r.detail }, r.ready ? 200 : 503)
  })
  if (deps.metrics) {
    const metrics = deps.metrics
    app.get('/metrics', async (c) => {
      const m = await metrics()
      return c.body(m.body, 200, { 'content-type': m.contentType })
    })
  }
  // Claude Code checks connectivity with HEAD /api/hello before it starts.
  app.on(['GET', 'HEAD'], '/api/hello', (c) => c.body(null, 200))

  const listModels = async (headers: Headers, env: unknown) => {
    const principal = await deps.auth.authenticate(Object.fromEntries(headers), remoteAddressOf(env))
    return Object.keys(deps.config.models)
      .filter((m) => anyGlobMatches(principal.keyModels, m) && anyGlobMatches(principal.teamModels, m))
      .map((id) => ({ id, object: 'model' as const, created: CREATED, owned_by: 'switchboard' }))
  }
  // Anthropic's SDKs (and Claude Code) send anthropic-version and read Anthropic's model shape.
  const anthropicModel = (id: string) => ({ type: 'model' as const, id, display_name: id, created_at: new Date(CREATED * 1000).toISOString() })
  app.get('/v1/models', async (c) => {
    const models = await listModels(c.req.raw.headers, c.env)
    if (c.req.header('anthropic-version') === undefined) return c.json({ object: 'list', data: models })
    return c.json({ data: models.map((m) => anthropicModel(m.id)), has_more: false, first_id: models[0]?.id ?? null, last_id: models.at(-1)?.id ?? null })
  })
  app.get('/v1/models/:id{.+}', async (c) => {
    const id = c.req.param('id')
    const found = (await listModels(c.req.raw.headers, c.env)).find((m) => m.id === id)
    if (!found) throw new GatewayError({ status: 404, code: 'model_not_found', param: 'model', message: `The model '${id}' does not exist on this gateway or your key may not use it.` })
    return c.json(c.req.header('anthropic-version') === undefined ? found : anthropicModel(found.id))
  })

  for (const mount of deps.mount ?? []) mount(app)

  app.notFound(() => errorResponse(new GatewayError({ status: 404, code: 'not_found', message: 'No such endpoint. See the README for the endpoints Switchboard serves.' })))
  app.onError((err, c) => {
    const e = toGatewayError(err)
    // A 500 tells the client "the request id identifies it in the logs": this is that line. The
    // route is its pattern, never the path, which may hold a key pasted where an id belongs.
    if (e.status >= 500) deps.log?.error({ err: e.cause ?? err, requestId: c.get('requestId'), method: c.req.method, route: c.req.routePath, status: e.status, code: e.code }, 'request failed')
    return errorResponse(e)
  })
  return app
}

export function errorResponse(err: GatewayError): Response {
  return new Response(openAIErrorBody(err), { status: err.status, headers: { 'content-type': 'application/json', ...err.headers } })
}
