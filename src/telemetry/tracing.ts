/**
 * The trace pipeline: a TracerProvider of our own (not registered globally, no auto-instrumentation)
 * with a batch span processor and an OTLP exporter. Built only when an endpoint is configured;
 * otherwise there is no tracer at all and the request path never touches the SDK.
 */
import type { Tracer } from '@opentelemetry/api'
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
  type Sampler, type SpanExporter,
} from '@opentelemetry/sdk-trace'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import type { Config } from '../config/schema.ts'

type Env = Record<string, string | undefined>
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc'

export interface TraceExportSettings {
  url: string
  protocol: OtlpProtocol
  headers: Record<string, string>
  serviceName: string
  sampler: Sampler
  /** OTEL_BSP_SCHEDULE_DELAY: how long spans wait in the batch before export. */
  batchDelayMs: number
  /** OTEL_BSP_MAX_EXPORT_BATCH_SIZE and OTEL_BSP_MAX_QUEUE_SIZE. */
  batchSize: number
  queueSize: number
}

export interface Tracing {
  tracer: Tracer
  flush(): Promise<void>
  shutdown(): Promise<void>
}

const nonEmpty = (v: string | undefined): string | undefined => (v && v.trim() !== '' ? v.trim() : undefined)
const withPath = (base: string, path: string): string => `${base.replace(/\/+$/, '')}${path}`

/**
 * Where traces go: `telemetry.otlp_endpoint` (a base URL, `/v1/traces` appended), else
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), else OTEL_EXPORTER_OTLP_ENDPOINT (+ `/v1/traces`).
 * Undefined = tracing off.
 */
export function traceExportSettings(telemetry: Config['telemetry'], env: Env): TraceExportSettings | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined
  const protocol = (nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? telemetry.otlp_protocol) as OtlpProtocol
  const fromConfig = nonEmpty(telemetry.otlp_endpoint)
  const signal = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT)
  // gRPC takes the bare endpoint; the HTTP protocols take the /v1/traces path.
  const path = protocol === 'grpc' ? '' : '/v1/traces'
  const url = fromConfig ? withPath(fromConfig, path) : signal ?? (base ? withPath(base, path) : undefined)
  if (!url) return undefined
  const serviceName = telemetry.service_name !== 'switchboard' ? telemetry.service_name : nonEmpty(env.OTEL_SERVICE_NAME) ?? telemetry.service_name
  return { url, protocol, headers: parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS), serviceName, sampler: samplerFrom(env), batchDelayMs: positiveInt(env.OTEL_BSP_SCHEDULE_DELAY) ?? 1000,
    batchSize: positiveInt(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE) ?? 512,
    queueSize: positiveInt(env.OTEL_BSP_MAX_QUEUE_SIZE) ?? 8192,
  }
}

function positiveInt(v: string | undefined): number | undefined {
  const n = Number(v)
  return v !== undefined && v !== '' && Number.isInteger(n) && n > 0 ? n : undefined
}

/** OTEL_EXPORTER_OTLP_HEADERS: `key=value,key2=value2`, values URL-encoded. */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of (raw ?? '').split(',')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim())
  }
  return out
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, the standard names; default parentbased_always_on. */
function samplerFrom(env: Env): Sampler {
  const name = nonEmpty(env.OTEL_TRACES_SAMPLER) ?? 'parentbased_always_on'
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1')
  const r = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1
  switch (name) {
    case 'always_on': return new AlwaysOnSampler()
    case 'always_off': return new AlwaysOffSampler()
    case 'traceidratio': return new TraceIdRatioBasedSampler(r)
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(r) })
    default: return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

async function exporterFor(s: TraceExportSettings): Promise<SpanExporter> {
  const opts = { url: s.url, headers: s.headers }
  if (s.protocol === 'grpc') {
    // Loaded only when asked for: it pulls in @grpc/grpc-js.
    const { OTLPTraceExporter: GrpcExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc')
    return new GrpcExporter({ url: s.url }) as unknown as SpanExporter
  }
  if (s.protocol === 'http/json') {
    const { OTLPTraceExporter: JsonExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    return new JsonExporter(opts) as unknown as SpanExporter
  }
  return new OTLPTraceExporter(opts)
}

export async function createTracing(s: TraceExportSettings, version: string): Promise<Tracing> {
  const exporter = await exporterFor(s)
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': s.serviceName, 'service.version': version }),
    sampler: s.sampler,
    spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: s.queueSize, maxExportBatchSize: s.batchSize, scheduledDelayMillis: s.batchDelayMs })],
  })
  return {
    tracer: provider.getTracer('switchboard', version),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  }
}
