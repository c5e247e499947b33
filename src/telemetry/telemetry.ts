/**
 * Builds the observability stack from config: metrics (unless `telemetry.metrics: false`), tracing
 * (only with an OTLP endpoint), content capture (only with `telemetry.capture_content: true`) and
 * the access log, behind the one Observability port the pipeline calls.
 */
import { createAccessLog } from './access-log.ts'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Observability } from '../core/ports.ts'
import { createMetrics, type GatewayMetrics } from './metrics.ts'
import { otlpMetricsSettings, traceExportSettings } from './otlp-settings.ts'
import type { Tracing } from './tracing.ts'
import type { OtlpMetrics } from './otlp-metrics.ts'
import { createObservability, type ObservabilityDeps } from './observability.ts'
import { providerNameByConfigName } from './genai.ts'
import { createContentCapture } from './content.ts'
import { createRedactor } from './redact.ts'

export interface Telemetry {
  observability: Observability
  /** Undefined when `telemetry.metrics` is false. */
  metrics: GatewayMetrics | undefined
  /** The handler for GET /metrics on the main port; undefined when metrics are off or on their own port. */
  scrape: GatewayMetrics['scrape'] | undefined
  /** The separate metrics listener (`telemetry.metrics_port`), when configured. */
  metricsPort: number | undefined
  tracing: boolean
  /** Whether GenAI metrics are exported over OTLP (a meter provider exists only then). */
  otlpMetrics: boolean
  /** Turns the access log on or off (`logging.access_log`, applied on reload). */
  setAccessLog(on: boolean): void
  /** A reload's providers: their `gen_ai.provider.name` values (a provider added by a reload had none). */
  setProviders(providers: Config['providers']): void
  /** Exports what is buffered (tests, shutdown). */
  flush(): Promise<void>
  close(): Promise<void>
}

function version(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version?: string }).version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export async function createTelemetry(config: Config, env: Record<string, string | undefined>, log: Logger): Promise<Telemetry> {
  const t = config.telemetry
  const metrics = t.metrics ? createMetrics(Object.keys(config.models)) : undefined
  const providerNames = providerNameByConfigName(config.providers)
  // Problems with the OTEL_* variables are reported once each (traces and metrics share some).
  const warnings: string[] = []
  const settings = traceExportSettings(t, env, warnings)
  let tracing: Tracing | undefined
  if (settings) {
    // Loaded only when tracing is on: the trace SDK stays out of a gateway that does not export.
    const { createTracing } = await import('./tracing.ts')
    tracing = await createTracing(settings, version())
    log.info({ endpoint: settings.url, protocol: settings.protocol, serviceName: settings.serviceName }, 'tracing: exporting spans over OTLP')
  }
  const m = otlpMetricsSettings(t, env, warnings)
  for (const w of new Set(warnings)) log.warn(w)
  if (m.problem) log.warn(`${m.problem}: no OTLP metrics export`)
  let otlpMetrics: OtlpMetrics | undefined
  if (m.settings) {
    // Loaded only when asked for: the metrics SDK stays out of a gateway that does not export.
    const { createOtlpMetrics } = await import('./otlp-metrics.ts')
    otlpMetrics = createOtlpMetrics(m.settings, version(), providerNames)
    log.info({ endpoint: m.settings.url, protocol: m.settings.protocol, intervalMs: m.settings.intervalMs }, 'metrics: exporting GenAI metrics over OTLP')
  }
  const content = tracing && t.capture_content ? createContentCapture(createRedactor(t.redact_patterns), t.content_max_bytes) : undefined
  if (t.capture_content && !tracing) log.warn('telemetry.capture_content is on but tracing is off (no OTLP endpoint): nothing is captured')

  let metricsServer: Server | undefined
  if (metrics && t.metrics_port !== undefined) {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
        return
      }
      metrics.scrape().then(
        (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
        (err: unknown) => {
          log.error({ err }, 'metrics scrape failed')
          res.writeHead(500).end()
        },
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(t.metrics_port, config.server.host, () => resolve())
    })
    metricsServer = server
  }

  // The observability object reads `access` on every request, so switching it applies at once.
  const deps: ObservabilityDeps = {
    log,
    access: config.logging.access_log ? createAccessLog(log) : undefined,
    metrics,
    tracer: tracing?.tracer,
    otlpMetrics,
    providerNames,
    content,
  }
  return {
    observability: createObservability(deps),
    setAccessLog(on) {
      if (on !== (deps.access !== undefined)) deps.access = on ? createAccessLog(log) : undefined
    },
    setProviders(providers) {
      // In place: spans and OTLP metrics hold this one map. A name a reload removed keeps its value
      // for the calls still in flight on the runtime that had it.
      for (const [name, value] of providerNameByConfigName(providers)) providerNames.set(name, value)
    },
    metrics,
    scrape: metrics && !metricsServer ? () => metrics.scrape() : undefined,
    metricsPort: metricsServer ? (metricsServer.address() as AddressInfo).port : undefined,
    tracing: tracing !== undefined,
    otlpMetrics: otlpMetrics !== undefined,
    flush: async () => { await Promise.all([tracing?.flush(), otlpMetrics?.flush()]) },
    async close() {
      if (metricsServer) await new Promise<void>((resolve) => metricsServer.close(() => resolve()))
      // Shutting the meter provider down exports what was recorded since the last interval.
      await Promise.all([tracing?.shutdown(), otlpMetrics?.shutdown()])
    },
  }
}
