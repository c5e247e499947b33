/**
 * Traces through the real gateway, exported over OTLP/HTTP protobuf (the default) to an in-process
 * receiver: span names, kinds, parent links across retries and fallbacks, GenAI attributes, the
 * continued incoming traceparent and the one sent upstream, content capture and key hygiene.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, json, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startOtlpReceiver, SPAN_KIND, type OtlpReceiver, type ReceivedSpan } from '../unit/telemetry/otlp-receiver.ts'

const VENDOR_KEY = 'sk-vendor-secret-0000000000000000abcd'
const CLIENT_KEY = 'sk-sb-test-client-key-trace'

let vendor: StandIn
let otlp: OtlpReceiver
let gw: TestGateway
let seq = 0

const config = (vendorUrl: string, otlpUrl: string, extra = '') => `
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["${VENDOR_KEY}"] }
  backup: { type: openai-compatible, base_url: ${vendorUrl}/v1, keys: ["${VENDOR_KEY}"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }] }
  fb-primary: { targets: [{ provider: backup, model: primary-upstream }], fallbacks: [gpt-test] }
routing: { retries: { max_attempts: 3, backoff_ms: 1, max_backoff_ms: 5 } }
telemetry: { otlp_endpoint: "${otlpUrl}", service_name: sb-trace-test${extra} }
teams:
  t1: { keys: { k1: { key: "${CLIENT_KEY}" } } }
`

beforeAll(async () => {
  vendor = await startStandIn()
  otlp = await startOtlpReceiver()
  gw = await startTestGateway(config(vendor.url, otlp.url), { OTEL_BSP_SCHEDULE_DELAY: '20' })
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
  await otlp?.close()
})

async function call(body: Record<string, unknown>, headers: Record<string, string> = {}, gateway: TestGateway = gw) {
  const runId = `run-${process.pid}-${++seq}`
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', 'x-switchboard-run-id': runId, ...headers },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { res, text, runId }
}

/** The request's spans: the SERVER span and its CLIENT children, in attempt order. */
async function spansOf(runId: string, attempts: number, rx: OtlpReceiver = otlp): Promise<{ server: ReceivedSpan; clients: ReceivedSpan[] }> {
  const mine = (all: ReceivedSpan[]) => all.filter((s) => s.attributes['switchboard.run_id'] === runId)
  const spans = mine(await rx.waitFor((all) => mine(all).length >= attempts + 1))
  const server = spans.filter((s) => s.kind === SPAN_KIND.SERVER)
  expect(server).toHaveLength(1)
  const clients = spans.filter((s) => s.kind === SPAN_KIND.CLIENT).sort((a, b) => Number(a.attributes['switchboard.attempt']) - Number(b.attributes['switchboard.attempt']))
  expect(clients).toHaveLength(attempts)
  return { server: server[0]!, clients }
}

const costOf = (res: Response): number | undefined => {
  const h = res.headers.get('x-switchboard-cost-usd')
  return h === null ? undefined : Number(h)
}

describe('traces over OTLP', () => {
  it('non-streamed: one SERVER span named "chat {model}" with GenAI attributes, one CLIENT child per attempt', async () => {
    const { res, runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], temperature: 0.3, top_p: 0.9, max_tokens: 64 }, { 'user-agent': 'claude-cli/2.0.14 (external, cli)' })
    expect(res.status).toBe(200)
    const { server, clients } = await spansOf(runId, 1)
    expect(server.name).toBe('chat gpt-test')
    expect(server.parentSpanId).toBe('')
    expect(server.resource['service.name']).toBe('sb-trace-test')
    const cost = costOf(res)
    const { 'switchboard.request_id': requestId, ...rest } = server.attributes
    expect(requestId).toBe(res.headers.get('x-request-id'))
    expect(rest).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-test',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.model': 'upstream-model',
      'gen_ai.response.id': 'chatcmpl-standin',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
      'switchboard.team': 't1',
      'switchboard.key_id': 'cfg:t1/k1',
      'switchboard.run_id': runId,
      'user_agent.original': 'claude-cli/2.0.14 (external, cli)',
      'switchboard.stream': false,
      'switchboard.cache': res.headers.get('x-switchboard-cache') ?? 'bypass',
      'switchboard.attempts': 1,
      'switchboard.fallback': false,
      'switchboard.provider': 'up',
      'http.response.status_code': 200,
      ...(cost === undefined ? {} : { 'switchboard.cost_usd': cost }),
    })
    expect(server.status.code).toBe(0)
    const [attempt] = clients
    expect(attempt!.name).toBe('chat upstream-model')
    expect(attempt!.traceId).toBe(server.traceId)
    expect(attempt!.parentSpanId).toBe(server.spanId)
    expect(attempt!.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'upstream-model',
      'server.address': '127.0.0.1',
      'server.port': vendor.port,
      'switchboard.provider': 'up',
      'switchboard.attempt': 1,
      'switchboard.fallback': false,
      'switchboard.run_id': runId,
      'http.response.status_code': 200,
    })
    // The request span covers the attempt.
    expect(server.startNs <= attempt!.startNs && server.endNs >= attempt!.endNs).toBe(true)
  })

  it('the upstream call carries the attempt span context; an incoming traceparent is continued', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const parent = '00f067aa0ba902b7'
    const { res, runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=abc' })
    expect(res.status).toBe(200)
    const seen = vendor.received.at(-1)!
    const { server, clients } = await spansOf(runId, 1)
    expect(server.traceId).toBe(traceId)
    expect(server.parentSpanId).toBe(parent)
    expect(seen.headers.traceparent).toBe(`00-${traceId}-${clients[0]!.spanId}-01`)
    expect(seen.headers.tracestate).toBe('vendor=abc')
  })

  it('an unsampled incoming trace stays unsampled: no spans exported, the vendor gets the context with flags 00', async () => {
    const traceId = 'aaaabbbbccccddddeeeeffff00001111'
    const { res, runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { traceparent: `00-${traceId}-1111222233334444-00` })
    expect(res.status).toBe(200)
    expect(vendor.received.at(-1)!.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
    // A later sampled request is exported; the unsampled one never is.
    const later = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
    await spansOf(later.runId, 1)
    expect(otlp.spans.filter((s) => s.attributes['switchboard.run_id'] === runId || s.traceId === traceId)).toEqual([])
  })

  it('retries: 500 then 200 gives two CLIENT spans under one SERVER span, the failed one with error.type', async () => {
    vendor.queue.push(json(500, { error: { message: 'boom', type: 'server_error' } }))
    const { res, runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'retry me' }] })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-switchboard-attempts')).toBe('2')
    const { server, clients } = await spansOf(runId, 2)
    expect(clients.map((c) => c.parentSpanId)).toEqual([server.spanId, server.spanId])
    expect(clients.map((c) => c.traceId)).toEqual([server.traceId, server.traceId])
    expect(clients[0]!.attributes['error.type']).toBe('server')
    expect(clients[0]!.attributes['http.response.status_code']).toBe(500)
    expect(clients[0]!.status.code).toBe(2)
    expect(clients[1]!.attributes['error.type']).toBeUndefined()
    expect(clients[1]!.attributes['switchboard.attempt']).toBe(2)
    expect(server.attributes['switchboard.attempts']).toBe(2)
    expect(server.attributes['error.type']).toBeUndefined()
    // Each attempt sent its own span id upstream.
    const sent = vendor.received.slice(-2).map((r) => r.headers.traceparent)
    expect(sent).toEqual(clients.map((c) => `00-${server.traceId}-${c.spanId}-01`))
  })

  it('sampling parameters the conventions type as double arrive as doubles, whole values (0, 1) included', async () => {
    const { res, runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], temperature: 0, top_p: 1, frequency_penalty: 0, presence_penalty: 1, max_tokens: 10, seed: 7 })
    expect(res.status).toBe(200)
    const { server } = await spansOf(runId, 1)
    expect(server.attributes).toMatchObject({ 'gen_ai.request.temperature': 0, 'gen_ai.request.top_p': 1, 'gen_ai.request.frequency_penalty': 0, 'gen_ai.request.presence_penalty': 1 })
    const t = server.attributeTypes
    expect([t['gen_ai.request.temperature'], t['gen_ai.request.top_p'], t['gen_ai.request.frequency_penalty'], t['gen_ai.request.presence_penalty']]).toEqual(['double', 'double', 'double', 'double'])
    expect([t['gen_ai.request.max_tokens'], t['gen_ai.request.seed'], t['gen_ai.usage.input_tokens']]).toEqual(['int', 'int', 'int'])
  })

  it('gen_ai.output.type when the request names an output format; gen_ai.request.stream only on streams', async () => {
    const json = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } })
    const text = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'text' } })
    const none = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
    const [a, b, c] = await Promise.all([json, text, none].map(async (r) => (await spansOf(r.runId, 1)).server.attributes))
    expect(a!['gen_ai.output.type']).toBe('json')
    expect(b!['gen_ai.output.type']).toBe('text')
    expect('gen_ai.output.type' in c!).toBe(false)
    for (const x of [a, b, c]) expect('gen_ai.request.stream' in x!).toBe(false)
  })

  it('streamed: the span ends when the stream ends and records time to first token', async () => {
    const { res, text, runId } = await call({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream' }] })
    expect(res.status).toBe(200)
    expect(text).toContain('data: [DONE]')
    const { server, clients } = await spansOf(runId, 1)
    expect(server.name).toBe('chat gpt-test')
    const a = server.attributes
    expect(a['switchboard.stream']).toBe(true)
    expect(a['gen_ai.usage.input_tokens']).toBe(10)
    expect(a['gen_ai.usage.output_tokens']).toBe(5)
    expect(a['gen_ai.response.finish_reasons']).toEqual(['stop'])
    expect(a['gen_ai.response.model']).toBe('upstream-model')
    expect(a['gen_ai.provider.name']).toBe('openai')
    // The GenAI span convention's names: the request streamed, and seconds to its first chunk (a double).
    expect(a['gen_ai.request.stream']).toBe(true)
    expect('gen_ai.server.time_to_first_token' in a).toBe(false)
    const ttft = a['gen_ai.response.time_to_first_chunk']
    expect(typeof ttft).toBe('number')
    expect(server.attributeTypes['gen_ai.response.time_to_first_chunk']).toBe('double')
    expect(server.attributeTypes['gen_ai.request.stream']).toBe('bool')
    const durationS = Number(server.endNs - server.startNs) / 1e9
    expect(ttft as number).toBeGreaterThan(0)
    expect(ttft as number).toBeLessThanOrEqual(durationS + 0.002)
    expect(server.endNs >= clients[0]!.endNs).toBe(true)
  })

  it('fallback: the answer from a fallback model is marked on the attempt and the request span', async () => {
    vendor.queue.push(json(503, { error: { message: 'overloaded', type: 'server_error' } }))
    const { res, runId } = await call({ model: 'fb-primary', messages: [{ role: 'user', content: 'fall back' }] })
    expect(res.status).toBe(200)
    const { server, clients } = await spansOf(runId, 2)
    expect(server.name).toBe('chat fb-primary')
    expect(clients[0]!.attributes).toMatchObject({ 'gen_ai.request.model': 'primary-upstream', 'switchboard.provider': 'backup', 'gen_ai.provider.name': 'openai', 'switchboard.fallback': false, 'error.type': 'overloaded', 'http.response.status_code': 503 })
    expect(clients[1]!.attributes).toMatchObject({ 'gen_ai.request.model': 'upstream-model', 'switchboard.provider': 'up', 'switchboard.fallback': true, 'switchboard.attempt': 2 })
    expect(server.attributes).toMatchObject({ 'gen_ai.request.model': 'fb-primary', 'switchboard.fallback': true, 'switchboard.attempts': 2, 'switchboard.provider': 'up', 'gen_ai.response.model': 'upstream-model' })
  })

  it('failed: retries exhausted gives 502 with error.type and ERROR status on every span', async () => {
    for (let i = 0; i < 3; i++) vendor.queue.push(json(500, { error: { message: 'down', type: 'server_error' } }))
    const { res, runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'fail' }] })
    expect(res.status).toBe(502)
    const { server, clients } = await spansOf(runId, 3)
    expect(server.attributes).toMatchObject({ 'error.type': 'upstream_error', 'http.response.status_code': 502, 'switchboard.attempts': 3, 'switchboard.cost_usd': 0 })
    expect(server.attributes['gen_ai.usage.input_tokens']).toBeUndefined()
    expect(server.status).toEqual({ code: 2, message: 'upstream_error' })
    expect(clients.map((c) => c.attributes['error.type'])).toEqual(['server', 'server', 'server'])
    expect(clients.every((c) => c.parentSpanId === server.spanId)).toBe(true)
  })

  it('log lines written during a request carry its trace_id and span_id', async () => {
    const { runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'log me' }] })
    const { server } = await spansOf(runId, 1)
    const line = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request' && l.runId === runId)
    expect(line).toMatchObject({ trace_id: server.traceId, span_id: server.spanId, status: 200, model: 'gpt-test', provider: 'up', team: 't1' })
  })

  it('content capture is off by default, and no key material appears in spans or logs', async () => {
    const { runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: `my key is ${VENDOR_KEY}` }] })
    const { server, clients } = await spansOf(runId, 1)
    expect(Object.keys(server.attributes).filter((k) => k.startsWith('gen_ai.input') || k.startsWith('gen_ai.output') || k.startsWith('gen_ai.system'))).toEqual([])
    const everything = JSON.stringify(otlp.spans, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + gw.logs.join('\n')
    expect(everything).not.toContain(VENDOR_KEY)
    expect(everything).not.toContain(CLIENT_KEY)
    expect(clients[0]!.attributes.authorization).toBeUndefined()
  })
})

describe('content capture on', () => {
  let rx: OtlpReceiver
  let gw2: TestGateway
  beforeAll(async () => {
    rx = await startOtlpReceiver()
    gw2 = await startTestGateway(
      config(vendor.url, rx.url).replace('service_name: sb-trace-test }', 'service_name: sb-capture, capture_content: true, content_max_bytes: 80, redact_patterns: ["ACME-\\\\d+"] }'),
      { OTEL_BSP_SCHEDULE_DELAY: '20' },
    )
  })
  afterAll(async () => {
    await gw2?.stop()
    await rx?.close()
  })

  it('tool-call arguments are objects and images keep their modality, as the message schemas have them', async () => {
    vendor.queue.push(json(200, {
      id: 'chatcmpl-tools', object: 'chat.completion', created: 1, model: 'upstream-model',
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c2', type: 'function', function: { name: 'f', arguments: '{"d":1}' } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    }))
    const { res, runId } = await call({
      model: 'gpt-test',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'w?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'g', arguments: '{"c":"P"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    }, {}, gw2)
    expect(res.status).toBe(200)
    const { server } = await spansOf(runId, 1, rx)
    expect(JSON.parse(server.attributes['gen_ai.input.messages'] as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'w?' }, { type: 'blob', modality: 'image', mime_type: 'image/png' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'g', arguments: { c: 'P' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: 'ok' }] },
    ])
    expect(JSON.parse(server.attributes['gen_ai.output.messages'] as string)).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'c2', name: 'f', arguments: { d: 1 } }], finish_reason: 'tool_calls' },
    ])
  })

  it('records prompts and the completion as GenAI attributes, redacted and capped', async () => {
    vendor.queue.push(json(200, {
      id: 'chatcmpl-cap', object: 'chat.completion', created: 1, model: 'upstream-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Mail bob@example.org about ACME-42' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    }))
    const { res, runId } = await call({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: `I am ann@corp.com, card 4111 1111 1111 1111, key ${VENDOR_KEY}` },
        { role: 'user', content: 'This second message is long enough to go over the cap of sixty bytes.' },
      ],
    }, {}, gw2)
    expect(res.status).toBe(200)
    const { server } = await spansOf(runId, 1, rx)
    expect(JSON.parse(server.attributes['gen_ai.system_instructions'] as string)).toEqual([{ type: 'text', content: 'Be brief.' }])
    expect(JSON.parse(server.attributes['gen_ai.input.messages'] as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'I am [REDACTED:email], card [REDACTED:card], key [REDACTED:key]' }] },
      { role: 'user', parts: [{ type: 'text', content: 'This second messa...[truncated]' }] },
    ])
    expect(JSON.parse(server.attributes['gen_ai.output.messages'] as string)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Mail [REDACTED:email] about [REDACTED:custom]' }], finish_reason: 'stop' },
    ])
    expect(JSON.stringify(rx.spans, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(VENDOR_KEY)
  })
})

describe('the exported resource and endpoint from the standard variables', () => {
  let rx: OtlpReceiver
  let gw3: TestGateway
  beforeAll(async () => {
    rx = await startOtlpReceiver()
    // The shipped config's pattern: the general endpoint reaches telemetry.otlp_endpoint through
    // interpolation. It points at nothing here; the traces endpoint must win.
    gw3 = await startTestGateway(
      config(vendor.url, '${OTEL_EXPORTER_OTLP_ENDPOINT:-}').replace(', service_name: sb-trace-test', ''),
      {
        OTEL_BSP_SCHEDULE_DELAY: '20',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${rx.url}/v1/traces`,
        OTEL_SERVICE_NAME: 'sb-env',
        OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=pod-1,service.instance.id=pod-1,deployment.environment.name=prod%2Ceu,service.version=img-7,service.name=ignored',
      },
    )
  })
  afterAll(async () => {
    await gw3?.stop()
    await rx?.close()
  })

  it('spans go to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT with OTEL_RESOURCE_ATTRIBUTES merged into the resource', async () => {
    const { res, runId } = await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, {}, gw3)
    expect(res.status).toBe(200)
    const { server, clients } = await spansOf(runId, 1, rx)
    const want = { 'service.name': 'sb-env', 'service.version': 'img-7', 'k8s.pod.name': 'pod-1', 'service.instance.id': 'pod-1', 'deployment.environment.name': 'prod,eu' }
    expect(server.resource).toEqual(want)
    expect(clients[0]!.resource).toEqual(want)
  })
})

describe('start-up with OTEL_* values the gateway cannot honour', () => {
  it('a malformed header escape and an unsupported exporter are warnings, not a crash; the gateway serves', async () => {
    const rx = await startOtlpReceiver()
    const start = (env: Record<string, string>) => startTestGateway(config(vendor.url, rx.url), { OTEL_BSP_SCHEDULE_DELAY: '20', ...env })
    const headers = await start({ OTEL_EXPORTER_OTLP_HEADERS: 'x-token=abc%zz,x-ok=1' })
    const console = await start({ OTEL_TRACES_EXPORTER: 'console' })
    try {
      const warned = (g: TestGateway, text: string) => g.logs.some((l) => l.includes('"level":"warn"') && l.includes(text))
      expect(warned(headers, 'OTEL_EXPORTER_OTLP_HEADERS: the header \\"x-token\\" has a malformed %-escape')).toBe(true)
      expect(headers.logs.some((l) => l.includes('exporting spans over OTLP'))).toBe(true)
      expect(warned(console, 'OTEL_TRACES_EXPORTER=console')).toBe(true)
      expect(console.logs.some((l) => l.includes('exporting spans over OTLP'))).toBe(false)
      for (const g of [headers, console]) expect((await call({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, {}, g)).res.status).toBe(200)
    } finally {
      await headers.stop()
      await console.stop()
      await rx.close()
    }
  })
})
