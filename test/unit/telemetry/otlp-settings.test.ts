import { describe, expect, it } from 'vitest'
import { otlpMetricsSettings, traceExportSettings } from '../../../src/telemetry/otlp-settings.ts'
import { parseConfig } from '../../../src/config/load.ts'

/** The telemetry section as the shipped config and the Helm values write it. */
const shipped = (env: Record<string, string>) => parseConfig('telemetry: { otlp_endpoint: "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" }\n', 'x.yaml', env).config.telemetry

describe('trace endpoint precedence', () => {
  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT wins even when the general endpoint reaches the config through ${OTEL_EXPORTER_OTLP_ENDPOINT:-}', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/v1/traces' }
    expect(traceExportSettings(shipped(env), env)?.url).toBe('http://tempo:4318/v1/traces')
    // As metrics already do with their own variable.
    const menv = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:4318/v1/metrics' }
    expect(otlpMetricsSettings(shipped(menv), menv).settings?.url).toBe('http://m:4318/v1/metrics')
  })

  it('signal variable > telemetry.otlp_endpoint > OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    const t = shipped({})
    const configured = { ...t, otlp_endpoint: 'http://config:4318/' }
    expect(traceExportSettings(configured, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318' })?.url).toBe('http://config:4318/v1/traces')
    expect(traceExportSettings(configured, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://sig/t' })?.url).toBe('http://sig/t')
    expect(traceExportSettings(t, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318' })?.url).toBe('http://env:4318/v1/traces')
    // gRPC takes the bare base endpoint.
    expect(traceExportSettings(configured, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })?.url).toBe('http://config:4318')
    expect(traceExportSettings(t, {})).toBeUndefined()
  })
})
