/**
 * What a cache hit or an Idempotency-Key replay may and may not reuse, end to end through the real
 * gateway: a request under another `anthropic-beta` is another question on every ingress (the
 * Anthropic adapter forwards the betas on translated chat too), and a streamed hit does not carry
 * the original call's cost inside the stream when it cost nothing.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, json, sse, chatChunks, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-replay-fidelity'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Stores happen just after the response is sent. */
const settle = () => sleep(60)

/** Anthropic's Messages API for /v1/messages (naming the betas it saw in the answer), OpenAI chat otherwise. */
const vendorHandler: Handler = (req, res) => {
  if (req.path.endsWith('/v1/messages')) {
    const betas = String(req.headers['anthropic-beta'] ?? 'none')
    return json(200, {
      id: `msg_${randomUUID()}`, type: 'message', role: 'assistant', model: 'claude-x',
      content: [{ type: 'text', text: `made under ${betas}` }], stop_reason: 'end_turn', stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5 },
    })(req, res)
  }
  if (req.json?.stream) return sse(chatChunks(['Hello ', 'there'], 'upstream-model', { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 }))(req, res)
  return json(500, { error: { message: 'unexpected' } })(req, res)
}

describe('cache and idempotent replay fidelity', () => {
  let vendor: StandIn
  let gw: TestGateway
  beforeAll(async () => {
    vendor = await startStandIn(vendorHandler)
    gw = await startTestGateway(`
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
  ant: { type: anthropic, base_url: ${vendor.url}, keys: ["sk-ant-vendor"] }
models:
  gpt: { targets: [{ provider: up, model: upstream-model }], pricing: { input: 1, output: 2 } }
  claude: { targets: [{ provider: ant, model: claude-x }] }
routing: { retries: { max_attempts: 1 } }
cache: { enabled: true, mode: deterministic }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`)
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })
  const seen = (nonce: string) => vendor.received.filter((r) => r.body.includes(nonce)).length
  const chat = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    return { status: r.status, text: await r.text(), cache: r.headers.get('x-switchboard-cache'), cost: r.headers.get('x-switchboard-cost-usd') }
  }

  it('chat ingress to an Anthropic model: another anthropic-beta is a miss, the same set (any order) a hit', async () => {
    const n = randomUUID()
    const body = { model: 'claude', temperature: 0, messages: [{ role: 'user', content: `q ${n}` }] }
    const first = await chat(body, { 'anthropic-beta': 'context-1m-2025-08-07' })
    await settle()
    const other = await chat(body, { 'anthropic-beta': 'output-128k-2025-02-19,context-1m-2025-08-07' })
    await settle()
    const again = await chat(body, { 'anthropic-beta': 'context-1m-2025-08-07, output-128k-2025-02-19' })
    expect([first.cache, other.cache, again.cache]).toEqual(['miss', 'miss', 'hit'])
    expect(JSON.parse(other.text).choices[0].message.content).toBe('made under output-128k-2025-02-19,context-1m-2025-08-07')
    expect(again.text).toBe(other.text)
    expect(seen(n)).toBe(2)
    // What was forwarded is what keyed the entry.
    expect(vendor.received.filter((r) => r.body.includes(n)).map((r) => r.headers['anthropic-beta'])).toEqual(['context-1m-2025-08-07', 'output-128k-2025-02-19,context-1m-2025-08-07'])
  })

  it('Idempotency-Key: the same body under another anthropic-beta is a 409, not a replay', async () => {
    const n = randomUUID()
    const key = randomUUID()
    // A sampled request: not cached, only deduplicated.
    const body = { model: 'claude', temperature: 0.7, messages: [{ role: 'user', content: `idem ${n}` }] }
    const first = await chat(body, { 'idempotency-key': key, 'anthropic-beta': 'context-1m-2025-08-07' })
    await settle()
    const replay = await chat(body, { 'idempotency-key': key, 'anthropic-beta': 'context-1m-2025-08-07' })
    const other = await chat(body, { 'idempotency-key': key, 'anthropic-beta': 'output-128k-2025-02-19' })
    expect(first.status).toBe(200)
    expect(replay.status).toBe(200)
    expect(replay.text).toBe(first.text)
    expect(other.status).toBe(409)
    expect(JSON.parse(other.text).error.code).toBe('idempotency_conflict')
    expect(seen(n)).toBe(1)
  })

  it('a streamed hit says cost 0 in its usage chunk, as its header does; every other byte is the original', async () => {
    const n = randomUUID()
    const body = { model: 'gpt', temperature: 0, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `s ${n}` }] }
    const first = await chat(body)
    await settle()
    const hit = await chat(body)
    expect([first.cache, hit.cache]).toEqual(['miss', 'hit'])
    expect(seen(n)).toBe(1)
    // 1000 input and 500 output tokens at 1 and 2 USD per million (a stream's headers leave before its cost is known).
    expect(first.text).toContain('"switchboard":{"cost_usd":0.00200000}')
    expect(hit.cost).toBe('0')
    expect(hit.text).toContain('"switchboard":{"cost_usd":0.00000000}')
    expect(hit.text).toBe(first.text.replace('"cost_usd":0.00200000', '"cost_usd":0.00000000'))
    const usageChunk = hit.text.split('\n\n').find((e) => e.includes('"usage"'))!
    expect(JSON.parse(usageChunk.slice('data: '.length)).switchboard).toEqual({ cost_usd: 0 })
  })

  it('a streamed Idempotency-Key replay says cost 0 in the stream too', async () => {
    const n = randomUUID()
    const key = randomUUID()
    const body = { model: 'gpt', temperature: 0.7, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `i ${n}` }] }
    const first = await chat(body, { 'idempotency-key': key })
    await settle()
    const replay = await chat(body, { 'idempotency-key': key })
    expect(seen(n)).toBe(1)
    expect(first.text).toContain('"cost_usd":0.00200000')
    expect(replay.cost).toBe('0')
    expect(replay.text).toBe(first.text.replace('"cost_usd":0.00200000', '"cost_usd":0.00000000'))
  })
})
