/**
 * Composition root: builds every component from a loaded config and starts the HTTP server.
 * main.ts (the CLI) and the end-to-end tests both start the gateway through here, so tests run
 * the real thing. Each concern contributes through its factory; this file only wires them.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { Hono } from 'hono'
import type { Redis } from 'ioredis'
import { ConfigError, type LoadedConfig } from './config/load.ts'
import type { Config } from './config/schema.ts'
import { restartOnlyChanges } from './config/reload.ts'
import { configWarnings } from './config/cross-check.ts'
import { buildDeployments } from './routing/deployments.ts'
import { createTargetHealth } from './routing/health.ts'
import { nominalPrice } from './routing/nominal-price.ts'
import { createLimits } from './limits/index.ts'
import { createMemoryStore } from './limits/memory-store.ts'
import { createKeyService } from './keys/key-service.ts'
import { keyAdminRoutes } from './admin/keys.ts'
import { teamAdminRoutes } from './admin/teams.ts'
import { createTelemetry } from './telemetry/telemetry.ts'
import { circuitStates } from './telemetry/metrics.ts'
import { createAuditLog } from './audit/audit-log.ts'
import { auditRoutes } from './admin/audit.ts'
import { createPricing } from './accounting/pricing.ts'
import { createLedger } from './ledger/index.ts'
import { createBudgets, createBudgetStore } from './budget/index.ts'
import { spendAdminRoutes } from './admin/spend.ts'
import { requestsAdminRoutes } from './admin/requests.ts'
import { createApp } from './server/app.ts'
import { createListener } from './server/listener.ts'
import type { PipelineDeps } from './pipeline/deps.ts'
import { endInFlightCalls, type InFlightCalls } from './pipeline/shutdown.ts'
import type { IngressCodec } from './ingress/types.ts'
import type { Operation } from './core/call.ts'
import type { Guard, Pricing } from './core/ports.ts'
import { anthropicIngress } from './ingress/anthropic/index.ts'
import { responsesIngress } from './ingress/responses/index.ts'
import { createResponsesStore } from './responses-store/sql-store.ts'
import { responsesRoutes } from './responses-store/routes.ts'
import { openSqlDb, type SqlDb } from './stores/sql.ts'
import { createRedis } from './stores/redis.ts'
import { adminAuth } from './admin/auth.ts'
import { adminAccessLog } from './admin/access-log.ts'
import { createCacheStore, createResponseCache } from './cache/index.ts'
import { restoreFastStringPrototype } from './core/fast-prototypes.ts'

export interface GatewayOptions {
  loaded: LoadedConfig
  log: Logger
  env: Record<string, string | undefined>
  /** Overrides server.port (0 = any free port). */
  port?: number
  host?: string
}

export interface Gateway {
  server: Server
  port: number
  url: string
  /** The config new requests are served with: the start-up one, or the last one a reload applied. */
  readonly config: Config
  /** Applies a new, already validated config; in-flight requests finish on the old one. */
  reload(next: LoadedConfig): Promise<{ applied: boolean; ignored: string[] }>
  /** Records a reload refused because the new file is invalid (the old config keeps running). */
  rejectReload(file: string, err: unknown): void
  /** Stops accepting, lets in-flight requests finish up to the grace period (default: the current config's), flushes, closes. */
  shutdown(graceMs?: number): Promise<void>
}

interface Runtime {
  config: Config
  pipeline: PipelineDeps
  app: Hono
  limits: ReturnType<typeof createLimits>
  budgets: ReturnType<typeof createBudgets>
  close(): Promise<void>
}

/** Ingress APIs served on non-native targets by translation through OpenAI Chat. */
function ingressCodecs(): Partial<Record<Operation, IngressCodec>> {
  return { messages: anthropicIngress, responses: responsesIngress }
}

/** Things to close on shutdown, in reverse order of creation. */
type Closer = () => Promise<void> | void

/** How long calls ended at the end of the shutdown grace have to send their error before their sockets are destroyed. */
const END_CALLS_MS = 1000

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config } = opts.loaded
  const log = opts.log
  const warn = (msg: string, fields?: Record<string, unknown>) => log.warn(fields ?? {}, msg)
  const closers: Closer[] = []
  let draining = false
  // Every module has loaded by now, ioredis's String subclass included (see core/fast-prototypes.ts).
  restoreFastStringPrototype()

  // Stores: the SQL store (SQLite by default, Postgres by URL) and, when configured, Redis.
  const db: SqlDb = await openSqlDb(config.store.url)
  closers.push(() => db.close())
  let redisUp = false
  const redis: Redis | undefined = config.redis.url
    ? createRedis(config.redis.url, (state, err) => {
      if (state === 'down' && redisUp) log.warn({ err: err?.message }, 'redis unavailable; applying redis.on_failure policy')
      if (state === 'ready' && !redisUp) log.info('redis connected')
      redisUp = state === 'ready'
    })
    : undefined
  if (redis) closers.push(() => { redis.disconnect() })
  // Audit trail of admin actions (docs/observability.md); written before the store closes.
  const audit = await createAuditLog(db, log)
  closers.push(() => audit.flush())
  // Metrics, traces, access log (docs/observability.md).
  const telemetry = await createTelemetry(config, opts.env, log)
  closers.push(() => telemetry.close())

  // The ledger outlives config reloads (its queue must not be lost); it prices estimated usage
  // with the current runtime's catalog.
  const pricingNow: Pricing = { cost: (...a) => current.pipeline.pricing.cost(...a), worstCase: (...a) => current.pipeline.pricing.worstCase(...a) }
  const ledger = await createLedger(db, config, pricingNow, log)
  let shutdownEnds: number | undefined // the ledger retries a failing store until then (docs/costs.md)
  closers.push(() => ledger.close(shutdownEnds))
  // Responses produced on translated targets, kept for previous_response_id (docs/translation-responses.md).
  const conversations = await createResponsesStore({ db, log, retentionDays: config.store.responses_retention_days ?? 30 })
  closers.push(() => conversations.close())
  // Counters outlive config reloads too: budget spend (in memory, or Redis with its fail-open
  // fallback) and in-memory rate-limit windows and slots. Made afresh per runtime, a reload forgot
  // spend still queued for the ledger or made by calls in flight, and reset rate limits. Their
  // limits are read from the config on each call, so one store serves every runtime.
  const budgetStore = createBudgetStore({ config, totalMs: () => current.config.routing.timeouts.total_ms, db, redis, log })
  closers.push(() => budgetStore.close())
  const limitsMemory = createMemoryStore()
  closers.push(() => limitsMemory.close())
  // The response cache and Idempotency-Key records outlive reloads for the same reason: made per
  // runtime, a reload forgot them and retries were billed again (cache/index.ts).
  const cacheStore = createCacheStore({ config, redis, log })
  // Model calls in progress, whatever runtime serves them: shutdown ends those still running when
  // its grace period is over (pipeline/shutdown.ts).
  const inflight: InFlightCalls = new Set()

  /**
   * Everything derived from the config: providers and routing, keys, limits, prices, budgets,
   * cache, the admin and model routes. Built at start and again on every valid reload; requests
   * already in flight finish on the runtime they started with.
   */
  const buildRuntime = async (config: Config): Promise<Runtime> => {
    const own: Closer[] = []
    for (const w of configWarnings(config)) log.warn(w)
    const deployments = buildDeployments(config, (level, msg, fields) => log[level](fields ?? {}, msg))
    own.push(() => deployments.close())
    // Virtual keys: served from memory, the SQL store is the source of truth (docs/keys.md). A
    // store that cannot load them fails the build; a failed reload is tried again (config/watch.ts),
    // so what was built so far is closed rather than left open by each try.
    const keys = await createKeyService({ config, db, redis, log }).catch(async (err: unknown) => {
      await deployments.close()
      throw err
    })
    own.push(() => keys.close())
    const auth = keys.auth

    // Limits, then budgets: each guard reserves before the call and settles after it.
    const guards: Guard[] = []
    // Rate limits (docs/limits.md); also keeps targets under their vendor's rpm/tpm.
    const limits = createLimits({ config, redis, log, memory: limitsMemory, targets: deployments.targets, health: createTargetHealth(config, { targets: deployments.targets, price: nominalPrice(() => pipeline.pricing) }) })
    guards.push(...limits.guards)
    own.push(() => limits.close())

    // Prices and budgets, after the limits (docs/costs.md).
    const pricing = createPricing(config, warn)
    const budgets = createBudgets({ config, pricing, store: budgetStore, db, log })
    guards.push(budgets.guard)

    const pipeline: PipelineDeps = {
      config,
      deployments,
      auth,
      guards,
      // Always present: Idempotency-Key is honoured even with cache.enabled false (docs/cache.md).
      cache: createResponseCache({ config, store: cacheStore, log }),
      pricing,
      ledger,
      observability: telemetry.observability,
      health: limits.health,
      codecs: ingressCodecs(),
      conversations,
      inflight,
      log,
    }

    // Admin API routes, mounted under /admin/v1 behind the admin-key check.
    const adminRoutes: Array<(admin: Hono) => void> = []
    adminRoutes.push(auditRoutes(audit))
    adminRoutes.push(keyAdminRoutes({ config, keys, audit, spendThisPeriod: budgets.spendThisPeriod }), teamAdminRoutes({ config, keys, spendThisPeriod: budgets.spendThisPeriod }))
    adminRoutes.push(spendAdminRoutes(db), requestsAdminRoutes(db))

    const app = createApp({
      config,
      auth,
      log,
      metrics: telemetry.scrape,
      readiness: async () => {
        const sql = await db.ping()
        const redisOk = redis ? redisUp : undefined
        const degraded = !sql || (redis !== undefined && !redisOk) || keys.status().store !== 'ok'
        return { ready: !draining, degraded, detail: { draining, store: sql ? 'ok' : 'down', ...(redis ? { redis: redisOk ? 'ok' : 'down' } : {}), limits: limits.stats().mode, keys: keys.status(), circuits: pipeline.health.openCircuits(), config: { file: configFile, reloads: reloadStats } } }
      },
      mount: [
        (root) => {
          root.use('/admin/v1/*', adminAccessLog(log, config.logging.access_log), adminAuth(config.server.admin_keys, auth, log))
          for (const add of adminRoutes) add(root)
        },
        responsesRoutes({ auth, store: conversations }),
      ],
    })
    return { config, pipeline, app, limits, budgets, close: async () => { for (const c of own.reverse()) await c() } }
  }

  const configFile = opts.loaded.file
  const reloadStats = { applied: 0, rejected: 0 }
  let current = await buildRuntime(config)
  // Runtimes not closed yet: the current one, and those a reload replaced, closed once their
  // requests had time to finish. Shutdown closes them all once in-flight requests have ended:
  // closing only the current one left a runtime replaced shortly before (a rollout after a
  // reload) unclosed, with its Redis leases never handed back.
  const open = new Set<Runtime>([current])
  const closeRuntime = async (r: Runtime): Promise<void> => {
    if (open.delete(r)) await r.close()
  }
  closers.push(async () => {
    for (const r of [...open]) await closeRuntime(r).catch((err: unknown) => log.warn({ err }, 'closing a config runtime failed'))
  })
  telemetry.metrics?.rateLimitedFrom(() => current.limits.stats().rateLimited)
  telemetry.metrics?.circuitOpenFrom(() => circuitStates(current.pipeline.deployments.targets, () => current.pipeline.health.openCircuits())())
  telemetry.metrics?.ledgerFrom(() => ledger.stats())
  telemetry.metrics?.budgetRemainingFrom(() => current.budgets.budgetStates().map((b) => ({ scope: b.scope, id: b.id, usd: b.remaining_usd })))

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, createListener(() => current.pipeline, () => current.app))
  const port = opts.port ?? config.server.port
  const host = opts.host ?? config.server.host
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  log.info({ port: address.port, host: address.address, models: Object.keys(config.models).length, providers: current.pipeline.deployments.providers.size }, 'switchboard listening')

  return {
    server,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    get config() { return current.config },
    async reload(next: LoadedConfig) {
      // Compared with the start-up config: these keep their start-up values until a restart.
      const ignored = restartOnlyChanges(config, next.config)
      let runtime: Runtime
      try {
        runtime = await buildRuntime(next.config)
      } catch (err) {
        reloadStats.rejected++
        telemetry.metrics?.configReload('rejected')
        log.error({ err, file: next.file }, 'config reload failed; keeping the running config')
        return { applied: false, ignored }
      }
      const previous = current
      current = runtime
      open.add(runtime)
      reloadStats.applied++
      // Read once when the logger and telemetry were built, so applied here; the shutdown grace is
      // read from the current config when shutdown starts.
      log.level = next.config.logging.level
      telemetry.setAccessLog(next.config.logging.access_log)
      telemetry.setProviders(next.config.providers)
      telemetry.metrics?.configReload('applied')
      telemetry.metrics?.setModels(Object.keys(next.config.models))
      audit.record({ actor: 'system', action: 'config.reload', target: next.file, detail: { models: Object.keys(next.config.models).length, ignored } })
      if (ignored.length > 0) log.warn({ ignored }, 'config reloaded; these settings take effect only after a restart')
      else log.info({ file: next.file, models: Object.keys(next.config.models).length }, 'config reloaded')
      // Requests in flight still use the previous runtime: close it once they had time to finish
      // (they run under its own total_ms, not the start-up one).
      setTimeout(() => { void closeRuntime(previous).catch((err: unknown) => log.warn({ err }, 'closing the previous config runtime failed')) }, previous.config.routing.timeouts.total_ms).unref()
      return { applied: true, ignored }
    },
    rejectReload(file: string, err: unknown) {
      reloadStats.rejected++
      telemetry.metrics?.configReload('rejected')
      log.error({ file, problems: err instanceof ConfigError ? err.problems : String(err) }, 'invalid config on reload; keeping the running config')
    },
    async shutdown(graceMs = current.config.server.shutdown_grace_ms) {
      shutdownEnds = Date.now() + graceMs
      draining = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Keep-alive connections become idle as their last response ends: close them as they do,
      // so shutdown takes as long as the slowest in-flight request, not the keep-alive timeout.
      const sweep = setInterval(() => server.closeIdleConnections(), 50)
      server.closeIdleConnections()
      // When the grace is over, calls still running end with a retryable error in their client's
      // format (a stream's error event, else a 503), and their connections then close as idle
      // ones; whatever is still open shortly after (a client not reading) is destroyed.
      let destroy: NodeJS.Timeout | undefined
      const timer = setTimeout(() => {
        const ended = endInFlightCalls(inflight)
        if (ended > 0) log.warn({ calls: ended }, 'shutdown grace period over: ending the calls still running with a retryable error')
        destroy = setTimeout(() => server.closeAllConnections(), ended > 0 ? END_CALLS_MS : 0)
      }, graceMs)
      await closed
      clearInterval(sweep)
      clearTimeout(timer)
      clearTimeout(destroy)
      for (const close of closers.reverse()) {
        try {
          await close()
        } catch (err) {
          log.warn({ err }, 'error while closing')
        }
      }
    },
  }
}
