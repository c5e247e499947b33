/**
 * Optional OTLP metrics export with the GenAI semantic-convention client metrics
 * (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`), through the OpenTelemetry SDK's
 * MeterProvider, PeriodicExportingMetricReader and OTLP HTTP exporters. Loaded only when export is
 * on (see otlpMetricsSettings in tracing.ts); otherwise no meter provider exists and the request
 * path never touches any of it.
 */
import type { Attributes, Histogram } from '@opentelemetry/api'
import { ValueType } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics'
import { OTLPMetricExporter, OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http'
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http'
import { MetricsExporterMetricsHelper, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer'
import type { CallInfo, CallOutcome } from '../core/call.ts'
import { OPERATION_NAME } from './genai.ts'
import { resourceOf, type OtlpMetricsSettings } from './otlp-settings.ts'

/** Bucket boundaries advised by the GenAI semantic conventions. */
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
export const DURATION_BUCKETS_S = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]

export interface OtlpMetrics {
  /** One finished request. */
  record(call: CallInfo, outcome: CallOutcome): void
  flush(): Promise<void>
  shutdown(): Promise<void>
}

/** The attribute objects of one (operation, provider, model, response model, error) combination, built once. */
interface AttrSet { input: Attributes; output: Attributes; duration: Attributes }
const MAX_CACHED = 1024

function exporterFor(s: OtlpMetricsSettings): PushMetricExporter {
  const temporalityPreference = s.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE
  if (s.protocol === 'http/json') return new OTLPMetricExporter({ url: s.url, headers: s.headers, temporalityPreference })
  // http/protobuf: the exporter-metrics-otlp-proto package is this same base with the protobuf serializer.
  const options = convertLegacyHttpOptions({ url: s.url, headers: s.headers }, 'METRICS', 'v1/metrics', { 'Content-Type': 'application/x-protobuf' })
  const delegate = createOtlpHttpExportDelegate(options, ProtobufMetricsSerializer, 'otlp_http_metric_exporter', MetricsExporterMetricsHelper, undefined)
  // The exporter package pins otlp-exporter-base 0.301.0, ours is 0.301.1: same delegate interface,
  // separately declared private fields.
  return new OTLPMetricExporterBase(delegate as unknown as ConstructorParameters<typeof OTLPMetricExporterBase>[0], { temporalityPreference })
}

export function createOtlpMetrics(s: OtlpMetricsSettings, version: string, providerNames: ReadonlyMap<string, string>): OtlpMetrics {
  const reader = new PeriodicExportingMetricReader({
    exporter: exporterFor(s),
    exportIntervalMillis: s.intervalMs,
    exportTimeoutMillis: Math.min(s.timeoutMs, s.intervalMs),
  })
  const provider = new MeterProvider({
    resource: resourceFromAttributes(resourceOf(s, version)),
    readers: [reader],
  })
  const meter = provider.getMeter('switchboard', version)
  const tokens: Histogram = meter.createHistogram('gen_ai.client.token.usage', {
    description: 'Number of input and output tokens used, per request.',
    unit: '{token}',
    valueType: ValueType.INT,
    advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
  })
  const duration: Histogram = meter.createHistogram('gen_ai.client.operation.duration', {
    description: 'GenAI operation duration, from the request\'s arrival to its last byte.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  })

  const sets = new Map<string, AttrSet>()
  const attrSet = (op: string, providerName: string | undefined, model: string, responseModel: string | undefined, errorType: string | undefined): AttrSet => {
    const key = `${op}\u0000${providerName ?? ''}\u0000${model}\u0000${responseModel ?? ''}\u0000${errorType ?? ''}`
    let set = sets.get(key)
    if (set) return set
    const base: Attributes = { 'gen_ai.operation.name': op, 'gen_ai.request.model': model }
    if (providerName !== undefined) base['gen_ai.provider.name'] = providerName
    if (responseModel !== undefined) base['gen_ai.response.model'] = responseModel
    set = {
      input: { ...base, 'gen_ai.token.type': 'input' },
      output: { ...base, 'gen_ai.token.type': 'output' },
      duration: errorType === undefined ? base : { ...base, 'error.type': errorType },
    }
    if (sets.size < MAX_CACHED) sets.set(key, set)
    return set
  }

  return {
    record(call, outcome) {
      const attempts = outcome.attempts
      const configured = outcome.provider ?? attempts[attempts.length - 1]?.provider
      const providerName = configured === undefined ? undefined : providerNames.get(configured) ?? configured
      const set = attrSet(OPERATION_NAME[call.operation], providerName, call.publicModel, outcome.responseModel ?? outcome.upstreamModel, outcome.errorCode)
      const u = outcome.usage
      if (u) {
        tokens.record(u.inputTokens, set.input)
        tokens.record(u.outputTokens, set.output)
      }
      duration.record(outcome.durationMs / 1000, set.duration)
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  }
}
