/**
 * Composition root: builds every component from a loaded config and starts the HTTP server.
 * main.ts (the CLI) and the end-to-end tests both start the gateway through here, so tests run
 * the real thing.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { LoadedConfig } from './config/load.ts'
import { buildDeployments } from './routing/deployments.ts'
import { createTargetHealth } from './routing/health.ts'
import { createAuthenticator } from './auth/authenticator.ts'
import { accessLogObservability } from './telemetry/access-log.ts'
import { unknownPricing } from './accounting/no-pricing.ts'
import { createApp } from './server/app.ts'
import { createListener } from './server/listener.ts'
import type { PipelineDeps } from './pipeline/deps.ts'
import type { IngressCodec } from './ingress/types.ts'
import type { Operation } from './core/call.ts'
import { anthropicIngress } from './ingress/anthropic/index.ts'

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
  /** Stops accepting, lets in-flight requests finish up to the grace period, flushes, closes. */
  shutdown(graceMs?: number): Promise<void>
}

/** Ingress APIs served on non-native targets by translation through OpenAI Chat. */
function ingressCodecs(): Partial<Record<Operation, IngressCodec>> {
  return { messages: anthropicIngress }
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config } = opts.loaded
  const log = opts.log
  const warn = (msg: string, fields?: Record<string, unknown>) => log.warn(fields ?? {}, msg)
  const deployments = buildDeployments(config, (level, msg, fields) => log[level](fields ?? {}, msg))
  const auth = createAuthenticator(config, warn)
  let draining = false

  const pipeline: PipelineDeps = {
    config,
    deployments,
    auth,
    guards: [],
    cache: undefined,
    pricing: unknownPricing,
    ledger: { record() {} },
    observability: accessLogObservability(log, config.logging.access_log),
    health: createTargetHealth(config),
    codecs: ingressCodecs(),
    log,
  }
  const app = createApp({
    config,
    auth,
    readiness: async () => ({ ready: !draining, detail: { draining } }),
  })

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, createListener(() => pipeline, () => app))
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
  log.info({ port: address.port, host: address.address, models: Object.keys(config.models).length, providers: deployments.providers.size }, 'switchboard listening')

  return {
    server,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    async shutdown(graceMs = config.server.shutdown_grace_ms) {
      draining = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const timer = setTimeout(() => server.closeAllConnections(), graceMs)
      await closed
      clearTimeout(timer)
      await deployments.close()
    },
  }
}
