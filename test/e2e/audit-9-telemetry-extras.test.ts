/**
 * Issue 9 acceptance, the points the main telemetry suites leave out: the embeddings span name and
 * attributes, a cache hit traced (SERVER span, no upstream attempt), and exact /metrics deltas for
 * cost, cache results, rate-limit refusals and the remaining budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { startStandIn, json, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startOtlpReceiver, SPAN_KIND, type OtlpReceiver, type ReceivedSpan } from '../unit/telemetry/otlp-receiver.ts'

const KEY = 'sk-sb-audit9-client-key-0001'
const LIMITED = 'sk-sb-audit9-limited-key-001'

let vendor: StandIn
let otlp: OtlpReceiver
let gw: TestGateway

beforeAll(async () => {
  vendor = await startStandIn()
  otlp = await startOtlpReceiver()
  // gpt-test: $1000 / $2000 per million in / out; the stand-in's 10 + 5 tokens cost exactly $0.02.
  // emb: $1000 per million; 4 prompt tokens cost $0.004.
  gw = await startTestGateway(`
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }], pricing: { input: 1000, output: 2000 } }
  emb: { targets: [{ provider: up, model: text-embedding-3-small }], pricing: { input: 1000, output: 0 } }
routing: { retries: { max_attempts: 1 } }
cache: { enabled: true }
telemetry: { otlp_endpoint: "${otlp.url}", service_name: sb-audit9 }
teams:
  t9:
    budget: { usd: 10, period: monthly }
    keys:
      k: { key: "${KEY}" }
      limited: { key: "${LIMITED}", limits: { rpm: 1 } }
`, { OTEL_BSP_SCHEDULE_DELAY: '20' })
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
  await otlp?.close()
})

async function post(path: string, body: unknown, runId: string, key = KEY): Promise<Response> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-switchboard-run-id': runId },
    body: JSON.stringify(body),
  })
  await res.arrayBuffer()
  return res
}

const spansOfRun = (runId: string): ReceivedSpan[] => otlp.spans.filter((s) => s.attributes['switchboard.run_id'] === runId)

function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line)
    if (!m) throw new Error(`not Prometheus text: ${line}`)
    out.set(m[1]!, Number(m[2]))
  }
  return out
}
const scrape = async () => parseProm(await (await fetch(`${gw.url}/metrics`)).text())

describe('traces', () => {
  it('embeddings: SERVER span "embeddings {model}", CLIENT child "embeddings {upstream}", GenAI attributes', async () => {
    vendor.queue.push(json(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 4, total_tokens: 4 } }))
    const run = `a9-emb-${randomUUID()}`
    const res = await post('/v1/embeddings', { model: 'emb', input: 'embed me' }, run)
    expect(res.status).toBe(200)
    await otlp.waitFor(() => spansOfRun(run).length >= 2)
    const spans = spansOfRun(run)
    const server = spans.find((s) => s.kind === SPAN_KIND.SERVER)!
    const client = spans.find((s) => s.kind === SPAN_KIND.CLIENT)!
    expect(server.name).toBe('embeddings emb')
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings', 'gen_ai.request.model': 'emb', 'gen_ai.provider.name': 'openai',
      'gen_ai.response.model': 'text-embedding-3-small', 'gen_ai.usage.input_tokens': 4,
      'switchboard.team': 't9', 'switchboard.key_id': 'cfg:t9/k', 'switchboard.cost_usd': 0.004,
    })
    expect(client.name).toBe('embeddings text-embedding-3-small')
    expect(client.parentSpanId).toBe(server.spanId)
    expect(client.attributes).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'switchboard.attempt': 1 })
  })

  it('a cache hit is traced: SERVER span with switchboard.cache=hit, cost 0, no upstream attempt span', async () => {
    const n = randomUUID()
    const body = { model: 'gpt-test', temperature: 0, messages: [{ role: 'user', content: `trace the hit ${n}` }] }
    const missRun = `a9-miss-${n}`
    const hitRun = `a9-hit-${n}`
    expect((await post('/v1/chat/completions', body, missRun)).headers.get('x-switchboard-cache')).toBe('miss')
    await new Promise((r) => setTimeout(r, 60))
    expect((await post('/v1/chat/completions', body, hitRun)).headers.get('x-switchboard-cache')).toBe('hit')
    // A later request on the same exporter: once its spans are in, every span of the hit is too.
    const later = `a9-later-${n}`
    await post('/v1/chat/completions', { model: 'gpt-test', messages: [{ role: 'user', content: 'later' }] }, later)
    await otlp.waitFor(() => spansOfRun(later).length >= 2 && spansOfRun(missRun).length >= 2)
    const hit = spansOfRun(hitRun)
    expect(hit.map((s) => s.kind)).toEqual([SPAN_KIND.SERVER])
    expect(hit[0]!.name).toBe('chat gpt-test')
    expect(hit[0]!.attributes).toMatchObject({ 'switchboard.cache': 'hit', 'switchboard.attempts': 0, 'switchboard.cost_usd': 0, 'switchboard.run_id': hitRun })
    expect(spansOfRun(missRun).find((s) => s.kind === SPAN_KIND.SERVER)!.attributes).toMatchObject({ 'switchboard.cache': 'miss', 'switchboard.cost_usd': 0.02 })
  })
})

describe('metrics', () => {
  it('exact deltas for cost, cache results and rate-limit refusals; the remaining budget', async () => {
    const before = await scrape()
    const n = randomUUID()
    const body = { model: 'gpt-test', temperature: 0, messages: [{ role: 'user', content: `metrics ${n}` }] }
    expect((await post('/v1/chat/completions', body, 'm1')).headers.get('x-switchboard-cache')).toBe('miss')
    await new Promise((r) => setTimeout(r, 60))
    expect((await post('/v1/chat/completions', body, 'm2')).headers.get('x-switchboard-cache')).toBe('hit')
    // Sampled (no temperature): a bypass that costs $0.02.
    expect((await post('/v1/chat/completions', { model: 'gpt-test', messages: [{ role: 'user', content: n }] }, 'm3')).status).toBe(200)
    // rpm 1 on this key: the second call is refused.
    const limitedBody = { model: 'gpt-test', messages: [{ role: 'user', content: `limited ${n}` }] }
    expect((await post('/v1/chat/completions', limitedBody, 'm4', LIMITED)).status).toBe(200)
    expect((await post('/v1/chat/completions', limitedBody, 'm5', LIMITED)).status).toBe(429)
    const after = await scrape()
    const d = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0)
    // miss + bypass + the limited key's call are priced; the hit costs nothing.
    expect(Math.round(d('switchboard_cost_usd_total{model="gpt-test",team="t9"}') * 1e6) / 1e6).toBe(0.06)
    expect(d('switchboard_cache_requests_total{result="hit"}')).toBe(1)
    expect(d('switchboard_cache_requests_total{result="miss"}')).toBe(1)
    // Bypass: the sampled call, and the rate-limited one (refused before the cache was consulted).
    expect(d('switchboard_cache_requests_total{result="bypass"}')).toBe(3)
    expect(d('switchboard_rate_limited_total{scope="key"}')).toBe(1)
    expect(d('switchboard_requests_total{model="gpt-test",provider="up",team="t9",status="200"}')).toBe(4)
    // Everything this file spent so far: 0.004 (embedding) + 0.02 x 2 (the earlier miss and "later") + 0.06.
    const spent = 0.004 + 0.02 * 2 + 0.06
    expect(Math.round(after.get('switchboard_budget_remaining_usd{scope="team",id="t9"}')! * 1e6) / 1e6).toBe(Math.round((10 - spent) * 1e6) / 1e6)
  })
})
