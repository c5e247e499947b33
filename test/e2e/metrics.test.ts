/**
 * GET /metrics through the real gateway: Prometheus text that parses, spec section 6 names, exact
 * counter deltas for what happened, bounded labels, and the off / separate-port switches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer } from 'node:net'
import { startStandIn, json, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const VENDOR_KEY = 'sk-vendor-secret-metrics-000000000000'
const CLIENT_KEY = 'sk-sb-test-client-key-metrics'
const NARROW_KEY = 'sk-sb-test-narrow-key-metrics'

let vendor: StandIn
let gw: TestGateway

const yaml = (vendorUrl: string, telemetry = '') => `
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["${VENDOR_KEY}"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }] }
routing: { retries: { max_attempts: 3, backoff_ms: 1, max_backoff_ms: 5 } }
teams:
  t1: { keys: { k1: { key: "${CLIENT_KEY}" }, narrow: { key: "${NARROW_KEY}", models: [other-model] } } }
${telemetry}
`

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(yaml(vendor.url))
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

type Samples = Map<string, number>

/** Parses the Prometheus text format strictly: every non-comment line is `name{labels} value`. */
function parseProm(text: string): Samples {
  const out: Samples = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]Inf)$/.exec(line)
    if (!m) throw new Error(`not Prometheus text: ${line}`)
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]))
  }
  return out
}

async function scrape(url = gw.url): Promise<{ samples: Samples; text: string; contentType: string | null }> {
  const res = await fetch(`${url}/metrics`)
  expect(res.status).toBe(200)
  const text = await res.text()
  return { samples: parseProm(text), text, contentType: res.headers.get('content-type') }
}

const delta = (before: Samples, after: Samples, key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0)

async function chat(body: Record<string, unknown>, key = CLIENT_KEY): Promise<Response> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  await res.text()
  return res
}

describe('GET /metrics', () => {
  it('serves Prometheus text with the spec names and Node process metrics', async () => {
    const { samples, text, contentType } = await scrape()
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8')
    for (const name of [
      'switchboard_requests_total', 'switchboard_request_duration_seconds', 'switchboard_time_to_first_token_seconds',
      'switchboard_tokens_total', 'switchboard_cost_usd_total', 'switchboard_cache_requests_total', 'switchboard_rate_limited_total',
      'switchboard_budget_remaining_usd', 'switchboard_upstream_attempts_total', 'switchboard_circuit_open',
    ]) expect(text).toContain(`# TYPE ${name} `)
    expect(text).toContain('# TYPE switchboard_request_duration_seconds histogram')
    expect(text).toContain('# TYPE switchboard_time_to_first_token_seconds histogram')
    expect(samples.has('process_cpu_user_seconds_total')).toBe(true)
    expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true)
    expect(samples.get('switchboard_circuit_open{provider="up",model="upstream-model"}')).toBe(0)
  })

  it('counts requests, tokens, attempts, durations and refusals exactly', async () => {
    const { samples: before } = await scrape()
    const r1 = await chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
    const r2 = await chat({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    vendor.queue.push(json(500, { error: { message: 'boom', type: 'server_error' } }))
    const r3 = await chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'retry' }] })
    expect([r1.status, r2.status, r3.status]).toEqual([200, 200, 200])
    expect((await chat({ model: 'gpt-test', messages: [] }, 'sk-wrong-key-00000000')).status).toBe(401)
    expect((await chat({ model: 'no-such-model-from-a-client', messages: [{ role: 'user', content: 'x' }] })).status).toBe(404)
    expect((await chat({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }, NARROW_KEY)).status).toBe(403)
    expect((await chat({ model: 'gpt-test', messages: 'not a list' })).status).toBe(400)
    const { samples: after, text } = await scrape()

    const d = (k: string) => delta(before, after, k)
    expect(d('switchboard_requests_total{model="gpt-test",provider="up",team="t1",status="200"}')).toBe(3)
    expect(d('switchboard_requests_total{model="none",provider="none",team="none",status="401"}')).toBe(1)
    // After authentication the team is known; a configured model is named, a client's made-up one is not.
    expect(d('switchboard_requests_total{model="none",provider="none",team="t1",status="404"}')).toBe(1)
    expect(d('switchboard_requests_total{model="gpt-test",provider="none",team="t1",status="403"}')).toBe(1)
    expect(d('switchboard_requests_total{model="none",provider="none",team="t1",status="400"}')).toBe(1)
    expect(text).not.toContain('no-such-model-from-a-client')
    expect(d('switchboard_tokens_total{model="gpt-test",team="t1",kind="input"}')).toBe(30)
    expect(d('switchboard_tokens_total{model="gpt-test",team="t1",kind="output"}')).toBe(15)
    expect(d('switchboard_tokens_total{model="gpt-test",team="t1",kind="cached"}')).toBe(0)
    expect(d('switchboard_upstream_attempts_total{provider="up",outcome="success"}')).toBe(3)
    expect(d('switchboard_upstream_attempts_total{provider="up",outcome="server"}')).toBe(1)
    expect(d('switchboard_request_duration_seconds_count{model="gpt-test"}')).toBe(3)
    expect(d('switchboard_request_duration_seconds_bucket{model="gpt-test",le="+Inf"}')).toBe(3)
    expect(d('switchboard_time_to_first_token_seconds_count{model="gpt-test"}')).toBe(1)
    const cacheResults = [r1, r2, r3].map((r) => r.headers.get('x-switchboard-cache') ?? 'bypass')
    for (const result of ['hit', 'miss', 'bypass']) {
      expect(d(`switchboard_cache_requests_total{result="${result}"}`)).toBe(cacheResults.filter((c) => c === result).length)
    }
    // Buckets are cumulative and end at the count.
    const le = [...after.entries()].filter(([k]) => k.startsWith('switchboard_request_duration_seconds_bucket{') && k.includes('{model="gpt-test",le=')).map(([, v]) => v)
    expect(le).toHaveLength(14)
    expect(le).toEqual([...le].sort((a, b) => a - b))
    // A client's model name never becomes a label; neither do keys.
    expect(text).not.toContain('no-such-model-from-a-client')
    expect(text).not.toContain(CLIENT_KEY)
    expect(text).not.toContain(VENDOR_KEY)
  })
})

describe('tracing off', () => {
  it('passes a valid incoming traceparent to the vendor unchanged, and drops a malformed one', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    for (const [sent, seen] of [[tp, tp], ['00-zz-bad', undefined]] as const) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', traceparent: sent },
        body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
      })
      expect(res.status).toBe(200)
      await res.text()
      expect(vendor.received.at(-1)!.headers.traceparent).toBe(seen)
    }
  })
})

describe('metrics switches', () => {
  it('telemetry.metrics: false removes /metrics', async () => {
    const off = await startTestGateway(yaml(vendor.url, 'telemetry: { metrics: false }'))
    try {
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404)
    } finally {
      await off.stop()
    }
  })

  it('telemetry.metrics_port serves /metrics on its own port only', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer()
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => resolve(p))
      })
    })
    const sep = await startTestGateway(yaml(vendor.url, `telemetry: { metrics_port: ${port} }`))
    try {
      expect((await fetch(`${sep.url}/metrics`)).status).toBe(404)
      const { samples } = await scrape(`http://127.0.0.1:${port}`)
      expect(samples.has('process_cpu_user_seconds_total')).toBe(true)
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404)
    } finally {
      await sep.stop()
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
  })
})
