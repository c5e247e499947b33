/**
 * The trace pipeline: our lean spans (spans.ts; no global registration, no auto-instrumentation),
 * the SDK's samplers and BatchSpanProcessor, and an OTLP exporter. Built only when an endpoint is
 * configured; otherwise there is no tracer at all and the request path never touches any of it.
 *
 * For OTLP/HTTP protobuf (the default) a span is encoded to bytes the moment it ends
 * (otlp-proto.ts) and the batch is only those bytes, sent by the SDK's OTLP HTTP transport (its
 * retries, timeouts, compression and OTEL_EXPORTER_OTLP_* settings). For http/json and gRPC the
 * ended span becomes an SDK ReadableSpan for the SDK's exporter.
 */
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler,
  type ReadableSpan, type Sampler, type SpanExporter,
} from '@opentelemetry/sdk-trace'
import type { ExportResult } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base'
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http'
import { ProtobufTraceSerializer, type ISerializer, type IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer'
import type { Config } from '../config/schema.ts'
import { LeanTracer, toReadableSpan, type LeanSpan, type SpanSink } from './spans.ts'
import { EncodedSpan, encodeEnvelope, encodeRequest, encodeSpan } from './otlp-proto.ts'

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
  tracer: LeanTracer
  flush(): Promise<void>
  shutdown(): Promise<void>
}

export const nonEmpty = (v: string | undefined): string | undefined => (v && v.trim() !== '' ? v.trim() : undefined)
export const withPath = (base: string, path: string): string => `${base.replace(/\/+$/, '')}${path}`

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

export interface OtlpMetricsSettings {
  url: string
  protocol: 'http/protobuf' | 'http/json'
  headers: Record<string, string>
  serviceName: string
  /** OTEL_METRIC_EXPORT_INTERVAL (default 60000) and OTEL_METRIC_EXPORT_TIMEOUT (default 30000), ms. */
  intervalMs: number
  timeoutMs: number
  /** OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: cumulative (default) or delta. */
  temporality: 'cumulative' | 'delta'
}

/**
 * Whether and where GenAI metrics go over OTLP: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (used as is);
 * else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/metrics` when OTEL_METRICS_EXPORTER names `otlp`; else,
 * with `telemetry.otlp_metrics: true`, the trace base endpoint (`telemetry.otlp_endpoint`, else
 * OTEL_EXPORTER_OTLP_ENDPOINT) + `/v1/metrics`. Undefined = off (the default). `problem` says why a
 * requested export cannot run (gRPC, or otlp_metrics without a base endpoint).
 */
export function otlpMetricsSettings(telemetry: Config['telemetry'], env: Env): { settings?: OtlpMetricsSettings; problem?: string } {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_METRICS_EXPORTER === 'none') return {}
  const signal = nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT)
  const viaEnv = (nonEmpty(env.OTEL_METRICS_EXPORTER) ?? '').split(',').some((e) => e.trim() === 'otlp')
  const traceBase = nonEmpty(telemetry.otlp_endpoint) ?? base
  const url = signal ?? (viaEnv && base ? withPath(base, '/v1/metrics') : telemetry.otlp_metrics && traceBase ? withPath(traceBase, '/v1/metrics') : undefined)
  if (!url) return telemetry.otlp_metrics ? { problem: 'telemetry.otlp_metrics is on but there is no OTLP base endpoint (telemetry.otlp_endpoint or OTEL_EXPORTER_OTLP_ENDPOINT)' } : {}
  const protocol = nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? telemetry.otlp_protocol
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') return { problem: `OTLP metrics export supports http/protobuf and http/json, not ${protocol} (set OTEL_EXPORTER_OTLP_METRICS_PROTOCOL)` }
  const pref = (nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE) ?? 'cumulative').toLowerCase()
  return {
    settings: {
      url,
      protocol,
      headers: parseHeaders(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS),
      serviceName: telemetry.service_name !== 'switchboard' ? telemetry.service_name : nonEmpty(env.OTEL_SERVICE_NAME) ?? telemetry.service_name,
      intervalMs: positiveInt(env.OTEL_METRIC_EXPORT_INTERVAL) ?? 60000,
      timeoutMs: positiveInt(env.OTEL_METRIC_EXPORT_TIMEOUT) ?? 30000,
      temporality: pref === 'delta' ? 'delta' : 'cumulative',
    },
  }
}

export function positiveInt(v: string | undefined): number | undefined {
  const n = Number(v)
  return v !== undefined && v !== '' && Number.isInteger(n) && n > 0 ? n : undefined
}

/** OTEL_EXPORTER_OTLP_HEADERS: `key=value,key2=value2`, values URL-encoded. */
export function parseHeaders(raw: string | undefined): Record<string, string> {
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

/** Spans already encoded (EncodedSpan) in, one ExportTraceServiceRequest out, over the SDK's OTLP HTTP transport. */
class EncodedSpanExporter implements SpanExporter {
  private readonly base: OTLPExporterBase<EncodedSpan[]>
  constructor(s: TraceExportSettings, envelope: { resource: Buffer; scope: Buffer }) {
    const serializer: ISerializer<EncodedSpan[], IExportTraceServiceResponse> = {
      serializeRequest: (spans) => encodeRequest(envelope, spans),
      deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
    }
    const options = convertLegacyHttpOptions({ url: s.url, headers: s.headers }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' })
    this.base = new OTLPExporterBase(createOtlpHttpExportDelegate(options, serializer, 'otlp_http_span_exporter', { name: 'span', countItems: (spans) => spans.length }, undefined))
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.base.export(spans as unknown as EncodedSpan[], done)
  }

  forceFlush(): Promise<void> {
    return this.base.forceFlush()
  }

  shutdown(): Promise<void> {
    return this.base.shutdown()
  }
}

async function sdkExporterFor(s: TraceExportSettings): Promise<SpanExporter> {
  if (s.protocol === 'grpc') {
    // Loaded only when asked for: it pulls in @grpc/grpc-js.
    const [{ OTLPTraceExporter: GrpcExporter }, { Metadata }] = await Promise.all([import('@opentelemetry/exporter-trace-otlp-grpc'), import('@grpc/grpc-js')])
    // Configured headers (OTEL_EXPORTER_OTLP_[TRACES_]HEADERS from the gateway's env) go out as gRPC metadata.
    const metadata = new Metadata()
    for (const [k, v] of Object.entries(s.headers)) metadata.set(k, v)
    return new GrpcExporter({ url: s.url, metadata }) as unknown as SpanExporter
  }
  const { OTLPTraceExporter: JsonExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
  return new JsonExporter({ url: s.url, headers: s.headers }) as unknown as SpanExporter
}

export async function createTracing(s: TraceExportSettings, version: string): Promise<Tracing> {
  const attributes = { 'service.name': s.serviceName, 'service.version': version }
  const scope = { name: 'switchboard', version }
  const batch = (exporter: SpanExporter) => new BatchSpanProcessor({ exporter, maxQueueSize: s.queueSize, maxExportBatchSize: s.batchSize, scheduledDelayMillis: s.batchDelayMs })
  let processor: BatchSpanProcessor
  let sink: SpanSink
  if (s.protocol === 'http/protobuf') {
    const envelope = encodeEnvelope(attributes, scope.name, scope.version)
    const p = (processor = batch(new EncodedSpanExporter(s, envelope)))
    sink = { onEnd: (span: LeanSpan) => p.onEnd(encodeSpan(span) as unknown as ReadableSpan) }
  } else {
    const resource = resourceFromAttributes(attributes)
    const p = (processor = batch(await sdkExporterFor(s)))
    sink = { onEnd: (span: LeanSpan) => p.onEnd(toReadableSpan(span, resource, scope)) }
  }
  return {
    tracer: new LeanTracer(s.sampler, sink),
    flush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  }
}
