import { describe, expect, it } from 'vitest'
import { otlpMetricsSettings, parseResourceAttributes, resourceOf, traceExportSettings } from '../../../src/telemetry/otlp-settings.ts'
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

describe('OTEL_RESOURCE_ATTRIBUTES', () => {
  const t = shipped({})
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }

  it('is decoded (percent-escapes in keys and values) into the trace and metrics resources', () => {
    const env = { ...endpoint, OTEL_METRICS_EXPORTER: 'otlp', OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=pod-1, deployment.environment.name=prod%2Ceu ,team%3Dx=a%20b' }
    const want = { 'k8s.pod.name': 'pod-1', 'deployment.environment.name': 'prod,eu', 'team=x': 'a b' }
    expect(traceExportSettings(t, env)?.resourceAttributes).toEqual(want)
    expect(otlpMetricsSettings(t, env).settings?.resourceAttributes).toEqual(want)
  })

  it('service.name: a changed telemetry.service_name, else OTEL_SERVICE_NAME, else the attribute, else switchboard', () => {
    const attrs = { ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,a=1' }
    expect(traceExportSettings(t, attrs)).toMatchObject({ serviceName: 'from-attrs', resourceAttributes: { a: '1' } })
    expect(traceExportSettings(t, { ...attrs, OTEL_SERVICE_NAME: 'from-env' })?.serviceName).toBe('from-env')
    expect(traceExportSettings({ ...t, service_name: 'from-config' }, { ...attrs, OTEL_SERVICE_NAME: 'from-env' })?.serviceName).toBe('from-config')
    expect(traceExportSettings(t, endpoint)?.serviceName).toBe('switchboard')
  })

  it('resourceOf: service.version is the gateway\'s unless the operator names one; service.name is always the resolved one', () => {
    expect(resourceOf({ serviceName: 'sb', resourceAttributes: { 'k8s.pod.name': 'p' } }, '1.2.3')).toEqual({ 'service.version': '1.2.3', 'k8s.pod.name': 'p', 'service.name': 'sb' })
    expect(resourceOf({ serviceName: 'sb', resourceAttributes: { 'service.version': 'v9' } }, '1.2.3')['service.version']).toBe('v9')
  })

  it('a malformed value is discarded whole, with a warning naming the variable (never a start-up crash)', () => {
    for (const bad of ['a=1,b=%zz', 'a=1,novalue', '=x']) {
      const warnings: string[] = []
      expect(parseResourceAttributes(bad, warnings)).toEqual({})
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain('OTEL_RESOURCE_ATTRIBUTES')
    }
    const warnings: string[] = []
    expect(parseResourceAttributes(' ', warnings)).toEqual({})
    expect(parseResourceAttributes('a=1,,b=', warnings)).toEqual({ a: '1', b: '' })
    expect(warnings).toEqual([])
  })
})

describe('OTEL_* switches and malformed values', () => {
  const t = shipped({})
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }
  const metricsOn = { ...endpoint, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m/v1/metrics' }

  it('OTEL_SDK_DISABLED is a boolean in any case ("TRUE" disables)', () => {
    for (const v of ['true', 'TRUE', 'True', ' true ']) {
      expect(traceExportSettings(t, { ...endpoint, OTEL_SDK_DISABLED: v })).toBeUndefined()
      expect(otlpMetricsSettings(t, { ...metricsOn, OTEL_SDK_DISABLED: v }).settings).toBeUndefined()
    }
    for (const v of ['false', '1', '']) expect(traceExportSettings(t, { ...endpoint, OTEL_SDK_DISABLED: v })).toBeDefined()
  })

  it('OTEL_TRACES_EXPORTER: none disables quietly; a list without otlp (console) disables with a warning; extra names next to otlp are warned about', () => {
    const run = (v: string) => {
      const warnings: string[] = []
      return { url: traceExportSettings(t, { ...endpoint, OTEL_TRACES_EXPORTER: v }, warnings)?.url, warnings }
    }
    expect(run('none')).toEqual({ url: undefined, warnings: [] })
    expect(run('NONE')).toEqual({ url: undefined, warnings: [] })
    const console = run('console')
    expect(console.url).toBeUndefined()
    expect(console.warnings).toEqual(['OTEL_TRACES_EXPORTER=console: the gateway exports only otlp (or none), not console: tracing is off'])
    expect(run('zipkin,console').warnings[0]).toContain('not zipkin, console')
    expect(run('otlp')).toEqual({ url: 'http://c:4318/v1/traces', warnings: [] })
    expect(run(' OTLP ')).toEqual({ url: 'http://c:4318/v1/traces', warnings: [] })
    const both = run('otlp,console')
    expect(both.url).toBe('http://c:4318/v1/traces')
    expect(both.warnings).toEqual(['OTEL_TRACES_EXPORTER names console besides otlp: the gateway exports only otlp, the others are ignored'])
  })

  it('OTEL_METRICS_EXPORTER follows the same rule; prometheus is what /metrics serves, so it needs no warning', () => {
    const run = (v: string) => {
      const warnings: string[] = []
      return { url: otlpMetricsSettings(t, { ...metricsOn, OTEL_METRICS_EXPORTER: v }, warnings).settings?.url, warnings }
    }
    expect(run('none')).toEqual({ url: undefined, warnings: [] })
    expect(run('prometheus')).toEqual({ url: undefined, warnings: [] })
    expect(run('console').url).toBeUndefined()
    expect(run('console').warnings[0]).toContain('OTEL_METRICS_EXPORTER=console')
    expect(run('otlp,prometheus')).toEqual({ url: 'http://m/v1/metrics', warnings: [] })
  })

  it('a malformed %-escape in OTEL_EXPORTER_OTLP_HEADERS leaves that header out with a warning naming the variable, never its value', () => {
    const warnings: string[] = []
    const s = traceExportSettings(t, { ...endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'x-token=abc%zz-secret,api-key=a%3Db' }, warnings)
    expect(s?.headers).toEqual({ 'api-key': 'a=b' })
    expect(warnings).toEqual(['OTEL_EXPORTER_OTLP_HEADERS: the header "x-token" has a malformed %-escape: it is not sent'])
    const signal: string[] = []
    expect(otlpMetricsSettings(t, { ...metricsOn, OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'a=%E0%A4%A' }, signal).settings?.headers).toEqual({})
    expect(signal[0]).toContain('OTEL_EXPORTER_OTLP_METRICS_HEADERS')
    expect(warnings.join()).not.toContain('secret')
  })
})
