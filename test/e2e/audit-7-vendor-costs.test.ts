/**
 * Issue 7 acceptance: costs to the cent for Anthropic and Gemini targets through the real gateway
 * (the unit tests price normalized usage; this proves the adapters hand that usage to accounting on
 * every path). Each vendor stand-in reports cache reads, cache writes and reasoning in its own wire
 * format; the cost header, the usage chunk and the ledger record must match the hand-computed
 * figure, streamed and not, through the OpenAI SDK (translated) and Anthropic's own /v1/messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, ledgerRecord } from './ledger-support.ts'

const CLIENT_KEY = 'sk-sb-audit7-costs-client-000001'

// claude-sonnet-4-5: input 3, cache read 0.30, cache write 3.75, output 15 per million.
// 2000 x 3 = 6000; 10000 x 0.30 = 3000; 4000 x 3.75 = 15000; 1500 x 15 = 22500 -> 46500 / 1e6 = $0.0465
const ANT_USAGE = { input_tokens: 2000, cache_read_input_tokens: 10000, cache_creation_input_tokens: 4000, output_tokens: 1500 }
const ANT_COST = 0.0465
// gemini-2.5-flash: input 0.30, cached 0.03, output 2.50 per million. cachedContentTokenCount is
// inside promptTokenCount; thoughts are billed as output.
// fresh 5000 x 0.30 = 1500; 15000 x 0.03 = 450; (800 + 1200) x 2.50 = 5000 -> 6950 / 1e6 = $0.00695
const GEM_USAGE = { promptTokenCount: 20000, cachedContentTokenCount: 15000, candidatesTokenCount: 800, thoughtsTokenCount: 1200, totalTokenCount: 22000 }
const GEM_COST = 0.00695

const anthropicVendor: Handler = (req, res) => {
  const model = String(req.json?.model)
  if (req.json?.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const ev = (e: Record<string, unknown>) => res.write(`event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`)
    ev({ type: 'message_start', message: { id: 'msg_c1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...ANT_USAGE, output_tokens: 1 } } })
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'priced' } })
    ev({ type: 'content_block_stop', index: 0 })
    ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: ANT_USAGE.output_tokens } })
    ev({ type: 'message_stop' })
    res.end()
    return
  }
  const body = JSON.stringify({ id: 'msg_c1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'priced' }], stop_reason: 'end_turn', stop_sequence: null, usage: ANT_USAGE })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
}

const geminiVendor: Handler = (req, res) => {
  if (req.path.includes(':streamGenerateContent')) {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'pri' }] }, index: 0 }], usageMetadata: { promptTokenCount: 20000, candidatesTokenCount: 1, totalTokenCount: 20001 }, modelVersion: 'gemini-2.5-flash' })}\r\n\r\n`)
    res.write(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'ced' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: GEM_USAGE, modelVersion: 'gemini-2.5-flash' })}\r\n\r\n`)
    res.end()
    return
  }
  const body = JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'priced' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: GEM_USAGE, modelVersion: 'gemini-2.5-flash' })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
}

let ant: StandIn
let gem: StandIn
let gw: TestGateway
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  ant = await startStandIn(anthropicVendor)
  gem = await startStandIn(geminiVendor)
  gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite::memory:" }
providers:
  anthropic: { type: anthropic, base_url: "${ant.url}", keys: ["sk-ant-vendor"] }
  gemini: { type: gemini, base_url: "${gem.url}", keys: ["gm-vendor"] }
models:
  claude: { targets: [{ provider: anthropic, model: claude-sonnet-4-5-20250929 }] }
  gem: { targets: [{ provider: gemini, model: gemini-2.5-flash }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${CLIENT_KEY}" } } }
`)
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await ant?.close()
  await gem?.close()
})

const ANT_RECORD = { input_tokens: 16000, cached_tokens: 10000, cache_write_tokens: 4000, output_tokens: 1500, reasoning_tokens: 0, cost_usd: ANT_COST, estimated: false, status: 200, provider: 'anthropic', served_model: 'claude-sonnet-4-5-20250929' }
const GEM_RECORD = { input_tokens: 20000, cached_tokens: 15000, cache_write_tokens: 0, output_tokens: 2000, reasoning_tokens: 1200, cost_usd: GEM_COST, estimated: false, status: 200, provider: 'gemini', served_model: 'gemini-2.5-flash' }

describe('Anthropic target: cache reads and writes each at their own rate', () => {
  it('OpenAI SDK, non-streamed: header and ledger to the cent', async () => {
    const { response } = await openai.chat.completions.create({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'a7-ant-1' } }).withResponse()
    expect(response.headers.get('x-switchboard-cost-usd')).toBe('0.04650000')
    expect(await ledgerRecord(gw.url, 'a7-ant-1')).toMatchObject({ ...ANT_RECORD, stream: false })
  })

  it('OpenAI SDK, streamed with include_usage: the usage chunk carries the cost', async () => {
    const stream = await openai.chat.completions.create({ model: 'claude', max_tokens: 100, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'a7-ant-2' } })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    const last = chunks.at(-1) as unknown as { usage: Record<string, unknown>; switchboard: { cost_usd: number } }
    expect(last.usage).toMatchObject({ prompt_tokens: 16000, completion_tokens: 1500, prompt_tokens_details: { cached_tokens: 10000 } })
    expect(last.switchboard).toEqual({ cost_usd: ANT_COST })
    expect(await ledgerRecord(gw.url, 'a7-ant-2')).toMatchObject({ ...ANT_RECORD, stream: true })
  })

  it('Anthropic SDK on /v1/messages (native pass-through), non-streamed and streamed', async () => {
    const { response } = await anthropic.messages.create({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'a7-ant-3' } }).withResponse()
    expect(response.headers.get('x-switchboard-cost-usd')).toBe('0.04650000')
    expect(await ledgerRecord(gw.url, 'a7-ant-3')).toMatchObject({ ...ANT_RECORD, stream: false })
    const final = await anthropic.messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'a7-ant-4' } }).finalMessage()
    expect(final.usage).toMatchObject(ANT_USAGE)
    expect(await ledgerRecord(gw.url, 'a7-ant-4')).toMatchObject({ ...ANT_RECORD, stream: true })
  })
})

describe('Gemini target: cached tokens inside the prompt, thoughts billed as output', () => {
  it('OpenAI SDK, non-streamed: header and ledger to the cent', async () => {
    const { response } = await openai.chat.completions.create({ model: 'gem', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'a7-gem-1' } }).withResponse()
    expect(response.headers.get('x-switchboard-cost-usd')).toBe('0.00695000')
    expect(await ledgerRecord(gw.url, 'a7-gem-1')).toMatchObject({ ...GEM_RECORD, stream: false })
  })

  it('OpenAI SDK, streamed with include_usage: the usage chunk carries the cost', async () => {
    const stream = await openai.chat.completions.create({ model: 'gem', max_tokens: 100, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'a7-gem-2' } })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    const last = chunks.at(-1) as unknown as { usage: Record<string, unknown>; switchboard: { cost_usd: number } }
    expect(last.usage).toMatchObject({ prompt_tokens: 20000, completion_tokens: 2000, prompt_tokens_details: { cached_tokens: 15000 }, completion_tokens_details: { reasoning_tokens: 1200 } })
    expect(last.switchboard).toEqual({ cost_usd: GEM_COST })
    expect(await ledgerRecord(gw.url, 'a7-gem-2')).toMatchObject({ ...GEM_RECORD, stream: true })
  })

  it('Anthropic SDK on /v1/messages translated to Gemini: the same cost', async () => {
    const { response } = await anthropic.messages.create({ model: 'gem', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'a7-gem-3' } }).withResponse()
    expect(response.headers.get('x-switchboard-cost-usd')).toBe('0.00695000')
    expect(await ledgerRecord(gw.url, 'a7-gem-3')).toMatchObject({ ...GEM_RECORD, stream: false })
  })
})
