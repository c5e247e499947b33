/**
 * Issue 9: optional OTLP metrics export with the GenAI metric names. An in-process OTLP/HTTP
 * receiver on loopback gets what the real gateway exports: http/json (decoded and asserted exactly:
 * names, units, buckets, counts, sums, attributes), the default http/protobuf on shutdown, the
 * config switch, and nothing at all when export is not asked for.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-otlp-metrics-key-000001'
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]

interface Export { path: string; headers: IncomingHttpHeaders; body: Buffer }
interface Receiver { url: string; exports: Export[]; close(): Promise<void> }

async function startReceiver(): Promise<Receiver> {
  const exports: Export[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      exports.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      const json = String(req.headers['content-type']).includes('json')
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

// --- OTLP/JSON metrics, the parts asserted ---------------------------------------------------
type JsonAttr = { key: string; value: { stringValue?: string; intValue?: number | string } }
interface JsonPoint { attributes: JsonAttr[]; count: number | string; sum: number; min?: number; max?: number; bucketCounts: Array<number | string>; explicitBounds: number[] }
interface JsonMetric { name: string; unit: string; histogram?: { dataPoints: JsonPoint[]; aggregationTemporality: number } }
interface JsonExport { resourceMetrics: Array<{ resource: { attributes: JsonAttr[] }; scopeMetrics: Array<{ scope: { name: string }; metrics: JsonMetric[] }> }> }

const attrs = (a: JsonAttr[]): Record<string, string | number> =>
  Object.fromEntries(a.map((x) => [x.key, x.value.stringValue ?? Number(x.value.intValue)]))
const metricsOf = (e: Export): JsonMetric[] =>
  (JSON.parse(e.body.toString('utf8')) as JsonExport).resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))

const config = (vendorUrl: string, telemetry: string) => `
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }] }
routing: { retries: { max_attempts: 1 } }
telemetry: ${telemetry}
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`

async function chat(gw: TestGateway): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
  })
  await res.text()
  return res.status
}

let vendor: StandIn | undefined
let rx: Receiver | undefined
let gw: TestGateway | undefined
afterEach(async () => {
  await gw?.stop()
  await vendor?.close()
  await rx?.close()
  gw = vendor = rx = undefined
})

const exporting = (g: TestGateway) => g.logs.some((l) => l.includes('exporting GenAI metrics over OTLP'))

describe('OTLP metrics export', () => {
  it('http/json: gen_ai.client.token.usage and gen_ai.client.operation.duration with exact counts, sums, buckets and attributes', async () => {
    vendor = await startStandIn()
    rx = await startReceiver()
    vendor.queue.push(
      json(200, chatCompletion('one', 'upstream-model-0613', { prompt_tokens: 120, completion_tokens: 7, total_tokens: 127 })),
      json(200, chatCompletion('two', 'upstream-model-0613', { prompt_tokens: 3000, completion_tokens: 45, total_tokens: 3045 })),
      json(500, { error: { message: 'boom', type: 'server_error' } }),
    )
    gw = await startTestGateway(config(vendor.url, '{ service_name: sb-otlp-metrics }'), {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/custom/v1/metrics`,
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-collector-auth=secret%20one',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=pod-2,service.instance.id=pod-2',
    })
    expect(exporting(gw)).toBe(true)
    expect(await chat(gw)).toBe(200)
    expect(await chat(gw)).toBe(200)
    expect(await chat(gw)).toBe(502)

    // Cumulative temporality: each export is a full snapshot; wait for one that has all three requests.
    const complete = (e: Export) => {
      const d = metricsOf(e).find((m) => m.name === 'gen_ai.client.operation.duration')
      return (d?.histogram?.dataPoints ?? []).reduce((n, p) => n + Number(p.count), 0) === 3
    }
    let last: Export | undefined
    for (let i = 0; i < 100 && !(last && complete(last)); i++) {
      await new Promise((r) => setTimeout(r, 50))
      last = rx.exports.filter((e) => e.body.length > 0).at(-1)
    }
    expect(last && complete(last)).toBe(true)
    const e = last!
    expect(e.path).toBe('/custom/v1/metrics')
    expect(e.headers['content-type']).toBe('application/json')
    expect(e.headers['x-collector-auth']).toBe('secret one')
    const body = JSON.parse(e.body.toString('utf8')) as JsonExport
    // The pod's identity from OTEL_RESOURCE_ATTRIBUTES: replicas' cumulative series stay apart.
    expect(attrs(body.resourceMetrics[0]!.resource.attributes)).toMatchObject({ 'service.name': 'sb-otlp-metrics', 'service.version': expect.any(String), 'k8s.pod.name': 'pod-2', 'service.instance.id': 'pod-2' })
    expect(body.resourceMetrics[0]!.scopeMetrics[0]!.scope.name).toBe('switchboard')
    const metrics = metricsOf(e)
    expect(metrics.map((m) => m.name).sort()).toEqual(['gen_ai.client.operation.duration', 'gen_ai.client.token.usage'])

    const base = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-test' }
    const tokens = metrics.find((m) => m.name === 'gen_ai.client.token.usage')!
    expect(tokens.unit).toBe('{token}')
    expect(tokens.histogram!.aggregationTemporality).toBe(2) // cumulative
    const tp = tokens.histogram!.dataPoints.map((p) => ({ attributes: attrs(p.attributes), count: Number(p.count), sum: p.sum, min: p.min, max: p.max, bounds: p.explicitBounds, buckets: p.bucketCounts.map(Number) }))
      .sort((a, b) => String(a.attributes['gen_ai.token.type']).localeCompare(String(b.attributes['gen_ai.token.type'])))
    // 120 is in (64, 256], 3000 in (1024, 4096]; 7 in (4, 16], 45 in (16, 64].
    const buckets = (...idx: number[]) => Array.from({ length: TOKEN_BUCKETS.length + 1 }, (_, i) => idx.filter((x) => x === i).length)
    expect(tp).toEqual([
      { attributes: { ...base, 'gen_ai.response.model': 'upstream-model-0613', 'gen_ai.token.type': 'input' }, count: 2, sum: 3120, min: 120, max: 3000, bounds: TOKEN_BUCKETS, buckets: buckets(4, 6) },
      { attributes: { ...base, 'gen_ai.response.model': 'upstream-model-0613', 'gen_ai.token.type': 'output' }, count: 2, sum: 52, min: 7, max: 45, bounds: TOKEN_BUCKETS, buckets: buckets(2, 3) },
    ])

    const duration = metrics.find((m) => m.name === 'gen_ai.client.operation.duration')!
    expect(duration.unit).toBe('s')
    const dp = duration.histogram!.dataPoints.map((p) => ({ attributes: attrs(p.attributes), count: Number(p.count), bounds: p.explicitBounds, sumPositive: p.sum > 0 }))
      .sort((a, b) => a.count - b.count)
    expect(dp).toEqual([
      // The failed request has no response model: the attribute is left out, error.type is set.
      { attributes: { ...base, 'error.type': 'upstream_error' }, count: 1, bounds: DURATION_BUCKETS, sumPositive: true },
      { attributes: { ...base, 'gen_ai.response.model': 'upstream-model-0613' }, count: 2, bounds: DURATION_BUCKETS, sumPositive: true },
    ])
  })

  it('default http/protobuf with OTEL_EXPORTER_OTLP_ENDPOINT + OTEL_METRICS_EXPORTER=otlp: shutdown exports what the interval has not yet', async () => {
    vendor = await startStandIn()
    rx = await startReceiver()
    // The default interval (60 s) never elapses here: only the shutdown flush can send.
    gw = await startTestGateway(config(vendor.url, '{ service_name: sb-proto }'), { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_METRICS_EXPORTER: 'otlp', OTEL_TRACES_EXPORTER: 'none' })
    expect(await chat(gw)).toBe(200)
    expect(rx.exports.filter((e) => e.path === '/v1/metrics')).toHaveLength(0)
    await gw.stop()
    gw = undefined
    const sent = rx.exports.filter((e) => e.path === '/v1/metrics')
    expect(sent).toHaveLength(1)
    expect(sent[0]!.headers['content-type']).toBe('application/x-protobuf')
    const text = sent[0]!.body.toString('latin1')
    for (const s of ['gen_ai.client.token.usage', 'gen_ai.client.operation.duration', '{token}', 'gen_ai.token.type', 'sb-proto']) expect(text).toContain(s)
    expect(rx.exports.filter((e) => e.path !== '/v1/metrics')).toHaveLength(0) // traces were switched off
  })

  it('telemetry.otlp_metrics: true sends metrics to the trace endpoint', async () => {
    vendor = await startStandIn()
    rx = await startReceiver()
    gw = await startTestGateway(config(vendor.url, `{ otlp_endpoint: "${rx.url}", otlp_metrics: true }`), { OTEL_BSP_SCHEDULE_DELAY: '20' })
    expect(exporting(gw)).toBe(true)
    expect(await chat(gw)).toBe(200)
    await gw.stop()
    gw = undefined
    expect(rx.exports.filter((e) => e.path === '/v1/metrics')).toHaveLength(1)
    expect(rx.exports.filter((e) => e.path === '/v1/traces').length).toBeGreaterThan(0)
  })

  it('off by default: traces on, no metrics export asked for, no meter provider, nothing sent', async () => {
    vendor = await startStandIn()
    rx = await startReceiver()
    gw = await startTestGateway(config(vendor.url, '{ service_name: sb-off }'), { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_METRIC_EXPORT_INTERVAL: '50', OTEL_BSP_SCHEDULE_DELAY: '20' })
    expect(exporting(gw)).toBe(false)
    expect(await chat(gw)).toBe(200)
    await gw.stop()
    gw = undefined
    expect(rx.exports.filter((e) => e.path === '/v1/traces').length).toBeGreaterThan(0)
    expect(rx.exports.filter((e) => e.path.includes('metrics'))).toHaveLength(0)
  })

  it('OTEL_METRICS_EXPORTER=none wins over the other switches', async () => {
    vendor = await startStandIn()
    rx = await startReceiver()
    gw = await startTestGateway(config(vendor.url, `{ otlp_endpoint: "${rx.url}", otlp_metrics: true }`), { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/v1/metrics`, OTEL_METRICS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none' })
    expect(exporting(gw)).toBe(false)
    expect(await chat(gw)).toBe(200)
    await gw.stop()
    gw = undefined
    expect(rx.exports).toHaveLength(0)
  })
})
