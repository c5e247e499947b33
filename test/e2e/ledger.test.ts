/**
 * Costs on responses and in the ledger, to the cent, through the real gateway and an OpenAI-type
 * stand-in that reports cached and reasoning tokens; streams with and without client-requested
 * usage; an aborted stream still recorded; a model without a price recorded as cost unknown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { join } from 'node:path'
import { get_encoding } from 'tiktoken'
import { startStandIn, json, sse, chatChunks, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, ledgerRecord } from './ledger-support.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()

const CLIENT_KEY = 'sk-sb-ledger-client-key-000001'
// o4-mini: input 1.10, cached 0.275, output 4.40 per million.
// fresh (12000 - 8000) x 1.10 = 4400; 8000 x 0.275 = 2200; 3000 x 4.40 = 13200 -> $0.0198
const USAGE = { prompt_tokens: 12000, completion_tokens: 3000, total_tokens: 15000, prompt_tokens_details: { cached_tokens: 8000 }, completion_tokens_details: { reasoning_tokens: 1000 } }

let vendor: StandIn
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  vendor = await startStandIn()
  const dir = tempDir('sb-ledger-')
  gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite://${join(dir, 'ledger.db')}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor-key"] }
models:
  o4: { targets: [{ provider: up, model: o4-mini-2025-04-16 }] }
  unpriced: { targets: [{ provider: up, model: private-model-x }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t1: { keys: { k1: { key: "${CLIENT_KEY}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

describe('cost and the ledger', () => {
  it('non-streamed: x-switchboard-cost-usd to the cent, and one exact ledger record', async () => {
    vendor.queue.push(json(200, chatCompletion('ok', 'o4-mini-2025-04-16', USAGE as never)))
    const { response } = await client.chat.completions.create({ model: 'o4', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'led-nonstream-1', 'x-switchboard-run-id': 'run-a', 'x-switchboard-tags': 'ci,nightly' } }).withResponse()
    expect(response.headers.get('x-switchboard-cost-usd')).toBe('0.01980000')
    const rec = await ledgerRecord(gw.url, 'led-nonstream-1')
    expect(rec).toMatchObject({
      request_id: 'led-nonstream-1', team: 't1', key_id: 'cfg:t1/k1', key_name: 'k1', run_id: 'run-a', tags: ['ci', 'nightly'],
      operation: 'chat', requested_model: 'o4', provider: 'up', served_model: 'o4-mini-2025-04-16', response_model: 'o4-mini-2025-04-16',
      stream: false, attempts: 1, input_tokens: 12000, output_tokens: 3000, cached_tokens: 8000, cache_write_tokens: 0, reasoning_tokens: 1000,
      cost_usd: 0.0198, saved_usd: null, estimated: false, status: 200, error_code: null, cache: 'bypass', client_aborted: false,
    })
    expect(rec.attempts_detail).toEqual([{ provider: 'up', model: 'o4-mini-2025-04-16', attempt: 1, fallback: false, status: 200, error: null, ms: expect.any(Number) }])
    // The calling program: the SDK's user-agent.
    expect(rec.client).toMatch(/^OpenAI\/JS \d/)
    expect(rec.ttft_ms).toBeGreaterThanOrEqual(0)
    expect(rec.time).toMatch(/^\d{4}-\d{2}-\d{2}T/)
  })

  it('x-client-app names the calling program over the user-agent', async () => {
    vendor.queue.push(json(200, chatCompletion('ok', 'o4-mini-2025-04-16', USAGE as never)))
    await client.chat.completions.create({ model: 'o4', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'led-client-app', 'x-client-app': 'research-agent/3.1' } })
    expect((await ledgerRecord(gw.url, 'led-client-app')).client).toBe('research-agent/3.1')
  })

  it('streamed with include_usage: the final usage chunk carries switchboard.cost_usd', async () => {
    vendor.queue.push(sse(chatChunks(['Hel', 'lo'], 'o4-mini-2025-04-16', USAGE as never)))
    const stream = await client.chat.completions.create({ model: 'o4', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'led-stream-usage' } })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    const last = chunks.at(-1) as unknown as { usage: typeof USAGE; switchboard: { cost_usd: number } }
    expect(last.usage).toEqual(USAGE)
    expect(last.switchboard).toEqual({ cost_usd: 0.0198 })
    expect(chunks.slice(0, -1).every((c) => !('switchboard' in c))).toBe(true)
    const rec = await ledgerRecord(gw.url, 'led-stream-usage')
    expect(rec).toMatchObject({ stream: true, cost_usd: 0.0198, input_tokens: 12000, cached_tokens: 8000, reasoning_tokens: 1000, estimated: false, status: 200 })
  })

  it('streamed without include_usage: no usage chunk reaches the client, the ledger still has the cost', async () => {
    vendor.queue.push(sse(chatChunks(['Hel', 'lo'], 'o4-mini-2025-04-16', USAGE as never)))
    const stream = await client.chat.completions.create({ model: 'o4', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'led-stream-nousage' } })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello')
    expect(chunks.every((c) => c.usage === undefined || c.usage === null)).toBe(true)
    expect(vendor.received.at(-1)!.json?.stream_options).toEqual({ include_usage: true })
    const rec = await ledgerRecord(gw.url, 'led-stream-nousage')
    expect(rec).toMatchObject({ cost_usd: 0.0198, output_tokens: 3000, estimated: false })
  })

  it('a stream abandoned part-way is charged for what was streamed: one token per relayed event past the first two', async () => {
    const base = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'o4-mini' }
    vendor.queue.push(sse([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...Array.from({ length: 30 }, () => ({ ...base, choices: [{ index: 0, delta: { content: ' tok' }, finish_reason: null }] })),
    ], { delayMs: 80 }))
    const ac = new AbortController()
    const stream = await client.chat.completions.create({ model: 'o4', stream: true, messages: [{ role: 'user', content: 'go' }] }, { headers: { 'x-request-id': 'led-partial' }, signal: ac.signal })
    let n = 0
    try {
      for await (const _c of stream) if (++n === 12) ac.abort()
    } catch {
      // the abort surfaces as an error in the loop
    }
    await vendor.received.at(-1)!.aborted
    const rec = await ledgerRecord(gw.url, 'led-partial')
    expect(rec).toMatchObject({ client_aborted: true, estimated: true })
    // 12 events reached the client before it left (one more may have been in flight).
    expect(rec.output_tokens).toBeGreaterThanOrEqual(10)
    expect(rec.output_tokens).toBeLessThanOrEqual(11)
  })

  it('an aborted stream is recorded: 499, client aborted, prompt counted with tiktoken and priced', async () => {
    const base = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'o4-mini' }
    vendor.queue.push(sse([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'one' }, finish_reason: null }] },
      ...Array.from({ length: 20 }, () => ({ ...base, choices: [{ index: 0, delta: { content: ' more' }, finish_reason: null }] })),
    ], { delayMs: 100 }))
    const prompt = 'Count slowly from one to twenty, please.'
    const ac = new AbortController()
    const stream = await client.chat.completions.create({ model: 'o4', stream: true, messages: [{ role: 'user', content: prompt }] }, { headers: { 'x-request-id': 'led-aborted' }, signal: ac.signal })
    try {
      for await (const _c of stream) {
        ac.abort()
      }
    } catch {
      // the abort surfaces as an error in the loop
    }
    await vendor.received.at(-1)!.aborted
    const rec = await ledgerRecord(gw.url, 'led-aborted')
    const enc = get_encoding('o200k_base')
    const expected = 3 + 3 + enc.encode(prompt).length
    enc.free()
    expect(rec).toMatchObject({ status: 499, error_code: 'client_closed_request', client_aborted: true, estimated: true, input_tokens: expected, output_tokens: 0, provider: 'up', served_model: 'o4-mini-2025-04-16' })
    expect(rec.cost_usd).toBe(Math.round((expected * 1.1) / 1e6 * 1e10) / 1e10)
  })

  it('a model without a price: cost unknown (null, no header), warned once, never 0', async () => {
    for (const id of ['led-unpriced-1', 'led-unpriced-2']) {
      vendor.queue.push(json(200, chatCompletion('ok', 'private-model-x')))
      const { response } = await client.chat.completions.create({ model: 'unpriced', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': id } }).withResponse()
      expect(response.headers.get('x-switchboard-cost-usd')).toBeNull()
    }
    const rec = await ledgerRecord(gw.url, 'led-unpriced-2')
    expect(rec.cost_usd).toBeNull()
    expect(rec.input_tokens).toBe(10)
    expect(gw.logs.filter((l) => l.includes('no price for this model') && l.includes('private-model-x'))).toHaveLength(1)
  })

  it('requests API: filters and an opaque cursor page through the ledger', async () => {
    const all = await admin<{ data: Array<{ request_id: string }>; next_cursor: string | null }>(gw.url, '/admin/v1/requests?team=t1&limit=1000')
    const ids = all.body.data.map((r) => r.request_id)
    expect(ids.length).toBeGreaterThanOrEqual(6)
    const seen: string[] = []
    let cursor: string | null = null
    for (let page = 0; page < 20; page++) {
      const r: { body: { data: Array<{ request_id: string }>; next_cursor: string | null } } = await admin(gw.url, `/admin/v1/requests?team=t1&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...r.body.data.map((x) => x.request_id))
      cursor = r.body.next_cursor
      if (!cursor) break
    }
    expect(seen).toEqual(ids)
    const byStatus = await admin<{ data: Array<{ request_id: string }> }>(gw.url, '/admin/v1/requests?status=499')
    expect(byStatus.body.data.map((r) => r.request_id)).toEqual(['led-aborted', 'led-partial'])
    const byRun = await admin<{ data: Array<{ request_id: string }> }>(gw.url, '/admin/v1/requests?run=run-a&model=o4')
    expect(byRun.body.data.map((r) => r.request_id)).toEqual(['led-nonstream-1'])
    expect((await admin(gw.url, '/admin/v1/requests?cursor=bogus')).status).toBe(400)
    expect((await admin(gw.url, '/admin/v1/requests?from=yesterday')).status).toBe(400)
  })
})
