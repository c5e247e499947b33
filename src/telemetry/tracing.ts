/**
 * The trace pipeline: our lean spans (spans.ts; no global registration, no auto-instrumentation),
 * our head samplers (sampler.ts), the SDK's BatchSpanProcessor, and an OTLP exporter. Built only
 * when an endpoint is configured (telemetry.ts imports this module only then); otherwise there is
 * no tracer at all and the request path never touches any of it.
 *
 * For OTLP/HTTP protobuf (the default) a span is encoded to bytes the moment it ends
 * (otlp-proto.ts) and the batch is only those bytes, sent by the SDK's OTLP HTTP transport (its
 * retries, timeouts, compression and OTEL_EXPORTER_OTLP_* settings). For http/json and gRPC the
 * ended span becomes an SDK ReadableSpan for the SDK's exporter.
 */
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace'
import type { ExportResult } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base'
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http'
import { ProtobufTraceSerializer, type ISerializer, type IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer'
import { LeanTracer, toReadableSpan, type LeanSpan, type SpanSink } from './spans.ts'
import { EncodedSpan, encodeEnvelope, encodeRequest, encodeSpan } from './otlp-proto.ts'
import { resourceOf, type TraceExportSettings } from './otlp-settings.ts'
import { createSampler } from './sampler.ts'

export interface Tracing {
  tracer: LeanTracer
  flush(): Promise<void>
  shutdown(): Promise<void>
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
  const attributes = resourceOf(s, version)
  const scope = { name: 'switchboard', version }
  const batch = (exporter: SpanExporter) => new BatchSpanProcessor({ exporter, maxQueueSize: s.queueSize, maxExportBatchSize: s.batchSize, scheduledDelayMillis: s.batchDelayMs })
  let processor: BatchSpanProcessor
  let sink: SpanSink
  let drain = () => {}
  if (s.protocol === 'http/protobuf') {
    const envelope = encodeEnvelope(attributes, scope.name, scope.version)
    const p = (processor = batch(new EncodedSpanExporter(s, envelope)))
    const turn = encodedAfterTurn((span) => p.onEnd(encodeSpan(span) as unknown as ReadableSpan))
    sink = turn.sink
    drain = turn.drain
  } else {
    const resource = resourceFromAttributes(attributes)
    const p = (processor = batch(await sdkExporterFor(s)))
    sink = { onEnd: (span: LeanSpan) => p.onEnd(toReadableSpan(span, resource, scope)) }
  }
  return {
    tracer: new LeanTracer(createSampler(s.sampler), sink),
    flush: () => {
      drain()
      return processor.forceFlush()
    },
    shutdown: () => {
      drain()
      return processor.shutdown()
    },
  }
}

/**
 * Spans that end in one event-loop turn are encoded together after it (setImmediate), not one by
 * one as each request ends: the encoder's code and tables stay hot across the run (measured ~3% of
 * the CPU of a gateway tracing every request). A turn's spans are the requests that finished in it,
 * capped at `max` per run, and wait microseconds, so they die young like any request object.
 */
function encodedAfterTurn(encode: (span: LeanSpan) => void, max = 64): { sink: SpanSink; drain: () => void } {
  let pending: LeanSpan[] = []
  const drain = () => {
    const spans = pending
    pending = []
    for (const span of spans) {
      // Off the request path there is no caller to hand an error to: a span that cannot be
      // encoded is dropped rather than let an exception out of setImmediate.
      try {
        encode(span)
      } catch { /* dropped */ }
    }
  }
  return {
    sink: {
      onEnd(span) {
        const n = pending.push(span)
        if (n === 1) setImmediate(drain)
        else if (n >= max) drain()
      },
    },
    drain,
  }
}
