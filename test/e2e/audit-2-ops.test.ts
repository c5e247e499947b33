/**
 * Issue 2 acceptance gaps, operations side: the shipped config answers `demo` through the mock
 * provider (deterministic, honest usage, streamed and not, tool calls when tools are given); the
 * access line carries request id, model, provider, status, duration and tokens; a provider whose
 * key variable is unset is warned about; a body over max_body_bytes is refused before the client
 * has finished sending it; shutdown stops accepting while a stream in flight finishes, and cuts
 * what is still running when the grace ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import OpenAI from 'openai'
import { chatChunks, sse, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

describe('the shipped config: model demo through the mock provider', () => {
  let gw: TestGateway
  let client: OpenAI
  beforeAll(async () => {
    const text = readFileSync(new URL('../../config/switchboard.yaml', import.meta.url), 'utf8')
    gw = await startTestGateway(text.replace('sqlite://./data/switchboard.db', '"sqlite::memory:"'), {})
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-sb-demo-key', maxRetries: 0 })
  })
  afterAll(async () => { await gw?.stop() })

  const ask = 'What is a gateway?'
  const answer = `This is the mock model answering: ${ask}`
  const tokens = (s: string) => Math.ceil(s.length / 4)

  it('non-streamed: deterministic text and honest usage', async () => {
    const a = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: ask }] })
    const b = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: ask }] })
    expect(a.choices[0]?.message.content).toBe(answer)
    expect(b.choices[0]?.message.content).toBe(answer)
    expect(a.choices[0]?.finish_reason).toBe('stop')
    expect(a.usage).toMatchObject({ prompt_tokens: tokens(ask), completion_tokens: tokens(answer), total_tokens: tokens(ask) + tokens(answer) })
  })

  it('streamed: the same text in several chunks, and the same usage', async () => {
    const stream = await client.chat.completions.create({ model: 'demo', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: ask }] })
    const pieces: string[] = []
    let usage: unknown
    for await (const c of stream) {
      if (c.choices[0]?.delta.content) pieces.push(c.choices[0].delta.content)
      if (c.usage) usage = c.usage
    }
    expect(pieces.join('')).toBe(answer)
    expect(pieces.length).toBeGreaterThan(1)
    expect(usage).toMatchObject({ prompt_tokens: tokens(ask), completion_tokens: tokens(answer) })
  })

  it('tool calls when tools are given, reassembled by the SDK from the stream', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] } } }]
    const r = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'weather?' }], tools })
    expect(r.choices[0]?.finish_reason).toBe('tool_calls')
    const call = r.choices[0]?.message.tool_calls?.[0]
    expect(call?.type).toBe('function')
    expect(call?.type === 'function' ? call.function : undefined).toEqual({ name: 'get_weather', arguments: '{"city":"example","days":1}' })
    const final = await client.chat.completions.stream({ model: 'demo', messages: [{ role: 'user', content: 'weather?' }], tools }).finalChatCompletion()
    const streamed = final.choices[0]?.message.tool_calls?.[0]
    expect(streamed?.type === 'function' ? streamed.function : undefined).toEqual({ name: 'get_weather', arguments: '{"city":"example","days":1}' })
    expect(final.choices[0]?.finish_reason).toBe('tool_calls')
  })
})

describe('logs, limits and shutdown', () => {
  const KEY = 'sk-sb-audit-ops-client-key-0000001'
  let vendor: StandIn
  let gw: TestGateway

  beforeAll(async () => {
    vendor = await startStandIn()
    gw = await startTestGateway(`
server: { max_body_bytes: 2048 }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] }
  nokey: { type: openai, keys: ["\${AUDIT_UNSET_VENDOR_KEY}"] }
models:
  ok: { targets: [{ provider: up, model: up-ok }] }
  nokey: { targets: [{ provider: nokey, model: x }] }
routing: { retries: { max_attempts: 1 } }
teams: { t: { keys: { k: { key: ${KEY} } } } }
`)
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  const post = (body: object, headers: Record<string, string> = {}) => fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers }, body: JSON.stringify(body),
  })

  it('a provider whose key variable is unset is disabled with a warning naming it', () => {
    const warn = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.provider === 'nokey' && typeof l.msg === 'string' && l.msg.includes('no API key'))
    expect(warn).toMatchObject({ level: 'warn', msg: 'provider "nokey" has no API key configured (its key variable is unset); its models will answer 503 no_healthy_upstream' })
  })

  it('one access line per request with request id, model, provider, status, duration and tokens', async () => {
    const r = await post({ model: 'ok', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'audit-ops-req-1' })
    expect(r.status).toBe(200)
    await r.text()
    // The access line is written when the request settles; wait for it (bounded).
    let lines: Array<Record<string, unknown>> = []
    for (let i = 0; i < 100 && lines.length === 0; i++) {
      lines = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.requestId === 'audit-ops-req-1' && l.msg === 'request')
      if (lines.length === 0) await new Promise((res) => setTimeout(res, 10))
    }
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ requestId: 'audit-ops-req-1', model: 'ok', provider: 'up', upstreamModel: 'up-ok', status: 200, inputTokens: 10, outputTokens: 5 })
    expect(typeof lines[0]!.durationMs).toBe('number')
    expect(JSON.stringify(lines)).not.toContain(KEY)
  })

  it('413 comes back while the client is still sending: the rest is never awaited', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, resolve)
      req.on('error', () => {})
      // 4 KiB now, and the body is never ended: a gateway that read to the end would never answer.
      req.write(`{"model":"ok","messages":[{"role":"user","content":"${'x'.repeat(4096)}`, (err) => { if (err) reject(err) })
    })
    expect(res.statusCode).toBe(413)
    const body = await new Promise<string>((resolve) => {
      let s = ''
      res.on('data', (c: Buffer) => { s += c.toString() })
      res.on('end', () => resolve(s))
      res.on('close', () => resolve(s))
    })
    expect(JSON.parse(body)).toEqual({ error: { message: "The request body is larger than the gateway's limit of 2048 bytes (server.max_body_bytes). Send a smaller request.", type: 'invalid_request_error', param: null, code: 'request_too_large' } })
  })
})

describe('shutdown', () => {
  it('stops accepting at once, lets the stream in flight finish, then closes', async () => {
    const vendor = await startStandIn()
    const gw = await startTestGateway(`
server: { auth: none }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] } }
models: { m: { targets: [{ provider: up, model: x }] } }
`)
    try {
      let release: () => void = () => {}
      const released = new Promise<void>((r) => (release = r))
      vendor.queue.push(async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const chunks = chatChunks(['before ', 'after'], 'x')
        res.write(`data: ${JSON.stringify(chunks[0])}\n\ndata: ${JSON.stringify(chunks[1])}\n\n`)
        await released
        for (const c of chunks.slice(2)) res.write(`data: ${JSON.stringify(c)}\n\n`)
        res.end('data: [DONE]\n\n')
      })
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'none', maxRetries: 0 })
      const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] })
      const it = stream[Symbol.asyncIterator]()
      const first = await it.next()
      expect(first.done).toBe(false)
      const shut = gw.shutdown(10_000)
      // A new connection is refused while the stream is still running.
      const refused = await fetch(`${gw.url}/healthz`).then(() => 'accepted', (e: unknown) => String((e as { cause?: { code?: string } }).cause?.code))
      expect(refused).toBe('ECONNREFUSED')
      release()
      let text = ''
      for (let r = await it.next(); !r.done; r = await it.next()) text += r.value.choices[0]?.delta.content ?? ''
      expect(text).toBe('before after')
      await shut
    } finally {
      await vendor.close()
    }
  })

  it('a stream still running when the grace ends is cut, and shutdown completes', async () => {
    const vendor = await startStandIn()
    const gw = await startTestGateway(`
server: { auth: none }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] } }
models: { m: { targets: [{ provider: up, model: x }] } }
`)
    try {
      vendor.queue.push(sse(chatChunks(Array.from({ length: 1000 }, (_, i) => `w${i} `), 'x'), { delayMs: 20 }))
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'none', maxRetries: 0 })
      const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] })
      let n = 0
      let shut: Promise<void> | undefined
      const consumed = (async () => {
        for await (const _c of stream) {
          if (++n === 2) shut = gw.shutdown(200)
        }
      })().then(() => 'ended', () => 'cut')
      expect(await consumed).toBe('cut')
      await shut
      expect(n).toBeLessThan(1000)
    } finally {
      await vendor.close()
    }
  })
})
