/**
 * Where telemetry goes, read from config and the standard OTEL_* variables: pure functions with no
 * OpenTelemetry SDK import, so a gateway without an OTLP endpoint never loads the trace SDK and its
 * exporters (measured: ~2.7 MiB less heap after start-up); tracing.ts, which needs them, is imported
 * only when tracing is on.
 */
import type { Config } from '../config/schema.ts'

export type Env = Record<string, string | undefined>
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc'

export interface TraceExportSettings {
  url: string
  protocol: OtlpProtocol
  headers: Record<string, string>
  serviceName: string
  /** OTEL_RESOURCE_ATTRIBUTES, decoded (service.name left out: serviceName decides it). */
  resourceAttributes: Record<string, string>
  /** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, built into an SDK sampler by tracing.ts. */
  sampler: SamplerChoice
  /** OTEL_BSP_SCHEDULE_DELAY: how long spans wait in the batch before export. */
  batchDelayMs: number
  /** OTEL_BSP_MAX_EXPORT_BATCH_SIZE and OTEL_BSP_MAX_QUEUE_SIZE. */
  batchSize: number
  queueSize: number
}

/** OTEL_TRACES_SAMPLER's standard names; anything else is OTel's default, parentbased_always_on. */
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const
export type SamplerName = (typeof SAMPLERS)[number]
export interface SamplerChoice { name: SamplerName; ratio: number }

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, the standard names; default parentbased_always_on. */
export function samplerChoice(env: Env): SamplerChoice {
  const name = nonEmpty(env.OTEL_TRACES_SAMPLER) ?? 'parentbased_always_on'
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1')
  return {
    name: (SAMPLERS as readonly string[]).includes(name) ? (name as SamplerName) : 'parentbased_always_on',
    ratio: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
  }
}

export const nonEmpty = (v: string | undefined): string | undefined => (v && v.trim() !== '' ? v.trim() : undefined)
export const withPath = (base: string, path: string): string => `${base.replace(/\/+$/, '')}${path}`

/**
 * Where traces go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), else `telemetry.otlp_endpoint`
 * (a base URL, `/v1/traces` appended), else OTEL_EXPORTER_OTLP_ENDPOINT (+ `/v1/traces`).
 * Undefined = tracing off.
 *
 * The signal's own variable comes first, as the OTel exporter spec has it and as metrics already
 * do: the shipped config (and the Helm values) fill `telemetry.otlp_endpoint` from
 * `${OTEL_EXPORTER_OTLP_ENDPOINT:-}`, so "config" is often the general variable in disguise, and it
 * must not hide the more specific one. Config still wins over the general variable when both are set.
 */
export function traceExportSettings(telemetry: Config['telemetry'], env: Env, warnings: string[] = []): TraceExportSettings | undefined {
  if (sdkDisabled(env) || !exporterAllowsOtlp('OTEL_TRACES_EXPORTER', env.OTEL_TRACES_EXPORTER, warnings, 'tracing is off')) return undefined
  const protocol = (nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? telemetry.otlp_protocol) as OtlpProtocol
  const fromConfig = nonEmpty(telemetry.otlp_endpoint)
  const signal = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT)
  // gRPC takes the bare endpoint; the HTTP protocols take the /v1/traces path.
  const path = protocol === 'grpc' ? '' : '/v1/traces'
  const general = fromConfig ?? base
  const url = signal ?? (general ? withPath(general, path) : undefined)
  if (!url) return undefined
  const resource = resourceFromEnv(telemetry, env, warnings)
  return { url, protocol, headers: signalHeaders(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', warnings), ...resource, sampler: samplerChoice(env), batchDelayMs: positiveInt(env.OTEL_BSP_SCHEDULE_DELAY) ?? 1000,
    batchSize: positiveInt(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE) ?? 512,
    queueSize: positiveInt(env.OTEL_BSP_MAX_QUEUE_SIZE) ?? 8192,
  }
}

export interface OtlpMetricsSettings {
  url: string
  protocol: 'http/protobuf' | 'http/json'
  headers: Record<string, string>
  serviceName: string
  /** As for traces. */
  resourceAttributes: Record<string, string>
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
export function otlpMetricsSettings(telemetry: Config['telemetry'], env: Env, warnings: string[] = []): { settings?: OtlpMetricsSettings; problem?: string } {
  if (sdkDisabled(env) || !exporterAllowsOtlp('OTEL_METRICS_EXPORTER', env.OTEL_METRICS_EXPORTER, warnings, 'no OTLP metrics export', ['prometheus'])) return {}
  const signal = nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT)
  const viaEnv = exporterNames(env.OTEL_METRICS_EXPORTER).includes('otlp')
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
      headers: signalHeaders(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', warnings),
      ...resourceFromEnv(telemetry, env, warnings),
      intervalMs: positiveInt(env.OTEL_METRIC_EXPORT_INTERVAL) ?? 60000,
      timeoutMs: positiveInt(env.OTEL_METRIC_EXPORT_TIMEOUT) ?? 30000,
      temporality: pref === 'delta' ? 'delta' : 'cumulative',
    },
  }
}

/**
 * The resource's service.name and the operator's OTEL_RESOURCE_ATTRIBUTES (the Helm chart puts the
 * pod, namespace, node and service.instance.id there: without them replicas cannot be told apart,
 * and their cumulative OTLP metrics collide). service.name: `telemetry.service_name` when changed
 * from its default, else OTEL_SERVICE_NAME, else service.name from OTEL_RESOURCE_ATTRIBUTES (the
 * spec's order), else `switchboard`.
 */
export function resourceFromEnv(telemetry: Config['telemetry'], env: Env, warnings: string[]): { serviceName: string; resourceAttributes: Record<string, string> } {
  const resourceAttributes = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES, warnings)
  const fromAttributes = nonEmpty(resourceAttributes['service.name'])
  delete resourceAttributes['service.name']
  const serviceName = telemetry.service_name !== 'switchboard' ? telemetry.service_name : nonEmpty(env.OTEL_SERVICE_NAME) ?? fromAttributes ?? telemetry.service_name
  return { serviceName, resourceAttributes }
}

/**
 * The attributes of the exported resource: service.version (the gateway's, unless the operator
 * names one, as the Helm chart does with the image tag), the operator's attributes, service.name.
 */
export function resourceOf(s: { serviceName: string; resourceAttributes: Readonly<Record<string, string>> }, version: string): Record<string, string> {
  return { 'service.version': version, ...s.resourceAttributes, 'service.name': s.serviceName }
}

/**
 * OTEL_RESOURCE_ATTRIBUTES: `key=value,key2=value2`, keys and values percent-decoded. As the spec
 * says, a value that cannot be decoded is discarded whole (with a warning), never half applied.
 */
export function parseResourceAttributes(raw: string | undefined, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  if (raw === undefined || raw.trim() === '') return out
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue
    const eq = pair.indexOf('=')
    const key = eq > 0 ? decoded(pair.slice(0, eq).trim()) : undefined
    const value = eq > 0 ? decoded(pair.slice(eq + 1).trim()) : undefined
    if (!key || value === undefined) {
      // Names the key, never the value.
      const at = (eq > 0 ? pair.slice(0, eq) : pair).trim().slice(0, 64)
      warnings.push(`OTEL_RESOURCE_ATTRIBUTES is not a list of key=value pairs with valid percent-encoding (at "${at}"): it is ignored`)
      return {}
    }
    out[key] = value
  }
  return out
}

/** decodeURIComponent, or undefined for a malformed escape (it would throw URIError). */
function decoded(s: string): string | undefined {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

export function positiveInt(v: string | undefined): number | undefined {
  const n = Number(v)
  return v !== undefined && v !== '' && Number.isInteger(n) && n > 0 ? n : undefined
}

/** OTEL_SDK_DISABLED: a boolean, which the OTel environment spec reads as "true" in any case. */
export const sdkDisabled = (env: Env): boolean => (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true'

/** OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: a comma-separated list, names compared in lower case. */
export const exporterNames = (raw: string | undefined): string[] =>
  (raw ?? '').split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '')

/**
 * Whether an OTEL_*_EXPORTER value lets OTLP export run: unset (OTLP is the spec's default) or a
 * list naming `otlp`. `none` anywhere turns the signal off. A list of only exporters the gateway
 * does not have (`console`, `zipkin`...) turns it off too, with a warning: the operator asked for
 * something else, and quietly sending OTLP instead would be a surprise. Other names next to `otlp`
 * are warned about and ignored. `served` are names the gateway honours otherwise (`prometheus` for
 * metrics: GET /metrics), so they need no warning.
 */
export function exporterAllowsOtlp(name: string, raw: string | undefined, warnings: string[], off: string, served: readonly string[] = []): boolean {
  const names = exporterNames(raw)
  if (names.length === 0) return true
  if (names.includes('none')) return false
  const unsupported = names.filter((e) => e !== 'otlp' && !served.includes(e))
  if (!names.includes('otlp')) {
    if (unsupported.length > 0) warnings.push(`${name}=${names.join(',')}: the gateway exports only otlp (or none), not ${unsupported.join(', ')}: ${off}`)
    return false
  }
  if (unsupported.length > 0) warnings.push(`${name} names ${unsupported.join(', ')} besides otlp: the gateway exports only otlp, the others are ignored`)
  return true
}

/** The signal's headers variable when set, else OTEL_EXPORTER_OTLP_HEADERS; problems go to `warnings` naming the variable. */
function signalHeaders(env: Env, signalVar: string, warnings: string[]): Record<string, string> {
  const name = env[signalVar] !== undefined ? signalVar : 'OTEL_EXPORTER_OTLP_HEADERS'
  return parseHeaders(env[name], name, warnings)
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS: `key=value,key2=value2`, values URL-encoded. A pair with a malformed
 * %-escape is left out with a warning naming the variable and the header (never its value, often a
 * credential): a telemetry setting never stops the gateway from starting, and the warning says why
 * the collector may refuse the exports.
 */
export function parseHeaders(raw: string | undefined, name = 'OTEL_EXPORTER_OTLP_HEADERS', warnings: string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of (raw ?? '').split(',')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    const rawKey = pair.slice(0, eq).trim()
    const key = decoded(rawKey)
    const value = decoded(pair.slice(eq + 1).trim())
    if (key === undefined || value === undefined) {
      warnings.push(`${name}: the header "${rawKey.slice(0, 64)}" has a malformed %-escape: it is not sent`)
      continue
    }
    out[key] = value
  }
  return out
}
