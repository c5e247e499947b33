/**
 * The core promise: point the official openai SDK at Switchboard and use it exactly as OpenAI,
 * through an OpenAI-type vendor stand-in on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startStandIn, json, sse, chatChunks, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const VENDOR_KEY = 'sk-vendor-secret-0000000000000000abcd'
const CLIENT_KEY = 'sk-sb-test-client-key'

let vendor: StandIn
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(`
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["${VENDOR_KEY}"] }
  up429: { type: openai, base_url: ${vendor.url}/v1, keys: ["${VENDOR_KEY}"] }
  up401: { type: openai, base_url: ${vendor.url}/v1, keys: ["${VENDOR_KEY}"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }] }
  emb: { targets: [{ provider: up, model: text-embedding-3-small }] }
  gpt-429: { targets: [{ provider: up429, model: upstream-model }] }
  gpt-401: { targets: [{ provider: up401, model: upstream-model }] }
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

describe('OpenAI SDK through the gateway', () => {
  it('non-streamed chat: maps the model, swaps the key, passes the body through', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2 }).withResponse()
    expect(data.choices[0]?.message.content).toBe('Hello from the stand-in')
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/v1/chat/completions')
    expect(seen.json).toEqual({ model: 'upstream-model', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2 })
    expect(seen.headers.authorization).toBe(`Bearer ${VENDOR_KEY}`)
    expect(response.headers.get('x-switchboard-provider')).toBe('up')
    expect(response.headers.get('x-switchboard-model')).toBe('upstream-model')
    expect(response.headers.get('x-switchboard-attempts')).toBe('1')
    expect(response.headers.get('x-request-id')).toBeTruthy()
  })

  it("the vendor gets the client's own bytes, only the model swapped (and the usage chunk asked for on streams)", async () => {
    // Python-style separators, escapes and a member order no serializer of ours would produce.
    const send = async (raw: string) => {
      const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' }, body: raw })
      await r.arrayBuffer()
      expect(r.status).toBe(200)
      return vendor.received.at(-1)!.body
    }
    const raw = '{"messages": [{"role": "user", "content": "caf\\u00e9 \\"model\\": x"}], "model": "gpt-test", "temperature": 0.20}'
    expect(await send(raw)).toBe(raw.replace('"model": "gpt-test"', '"model": "upstream-model"'))
    const streamed = '{"stream": true,\n "model" : "gpt-test", "messages": [{"role": "user", "content": "hi"}]}'
    expect(await send(streamed)).toBe(`{"stream_options":{"include_usage":true},${streamed.slice(1).replace('"model" : "gpt-test"', '"model" : "upstream-model"')}`)
    // A nested member named model (a tool's schema) cannot be told apart by bytes: re-serialized, same meaning.
    const nested = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"model": {"type": "string"}}}}}]}'
    expect(JSON.parse(await send(nested))).toEqual({ ...JSON.parse(nested), model: 'upstream-model' })
  })

  it('streamed chat: chunks arrive, usage asked upstream and hidden from a client that did not ask', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the stand-in')
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true)
    expect(vendor.received.at(-1)!.json?.stream_options).toEqual({ include_usage: true })
  })

  it('streamed chat with include_usage: the usage chunk reaches the client', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })
    let usage
    for await (const c of stream) if (c.usage) usage = c.usage
    expect(usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })
  })

  it('streamed tool-call deltas are reassembled by the SDK', async () => {
    const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'upstream-model' }
    vendor.queue.push(sse([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      { ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 } },
    ]))
    const runner = client.chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'weather?' }], tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }] })
    const final = await runner.finalChatCompletion()
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_a', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } })
    expect(final.choices[0]?.finish_reason).toBe('tool_calls')
  })

  it('embeddings', async () => {
    vendor.queue.push(json(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 2, total_tokens: 2 } }))
    const r = await client.embeddings.create({ model: 'emb', input: 'hello', encoding_format: 'float' })
    expect(r.data[0]?.embedding).toEqual([0.1, 0.2])
    expect(vendor.received.at(-1)!.path).toBe('/v1/embeddings')
    expect(vendor.received.at(-1)!.json?.model).toBe('text-embedding-3-small')
  })

  it('models.list and models.retrieve come from the config', async () => {
    const list = await client.models.list()
    expect(list.data.map((m) => m.id).sort()).toEqual(['emb', 'gpt-401', 'gpt-429', 'gpt-test'])
    const one = await client.models.retrieve('gpt-test')
    expect(one.id).toBe('gpt-test')
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({ status: 404 })
  })

  it('responses.create passes through to an OpenAI target', async () => {
    vendor.queue.push(json(200, {
      id: 'resp_1', object: 'response', created_at: 1, status: 'completed', model: 'upstream-model',
      output: [{ id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hey', annotations: [] }] }],
      usage: { input_tokens: 5, output_tokens: 1, total_tokens: 6, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
    }))
    const r = await client.responses.create({ model: 'gpt-test', input: 'hi', store: false })
    expect(r.output_text).toBe('hey')
    expect(vendor.received.at(-1)!.path).toBe('/v1/responses')
    expect(vendor.received.at(-1)!.json).toEqual({ model: 'upstream-model', input: 'hi', store: false })
  })

  it('a vendor 429 surfaces as RateLimitError with retry-after', async () => {
    vendor.queue.push(json(429, { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '7' }))
    const err = await client.chat.completions.create({ model: 'gpt-429', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('7')
    expect((err as Error).message).toContain('Rate limit reached for requests')
    // A sub-second wait keeps its precision (the SDKs read retry-after-ms first).
    vendor.queue.push(json(429, { error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after-ms': '250' }))
    const fine = await client.chat.completions.create({ model: 'gpt-429', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect((fine as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after-ms')).toBe('250')
    expect((fine as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('1')
  })

  it("a vendor 401 is the operator's problem: 502, never the vendor key", async () => {
    vendor.queue.push(json(401, { error: { message: `Incorrect API key provided: ${VENDOR_KEY}`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }))
    const err = await client.chat.completions.create({ model: 'gpt-401', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502)
    expect(JSON.stringify(err)).not.toContain(VENDOR_KEY)
  })

  it('a bad client key is 401 AuthenticationError', async () => {
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 })
    await expect(bad.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
  })

  it('a vendor 400 passes through with its status and message, tried once', async () => {
    const before = vendor.received.length
    vendor.queue.push(json(400, { error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } }))
    const err = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as Error).message).toContain("Invalid value for 'temperature'")
    expect(vendor.received.length - before).toBe(1)
  })

  it('a client that disconnects mid-stream aborts the upstream request', async () => {
    vendor.queue.push(sse(chatChunks(Array.from({ length: 200 }, (_, i) => `w${i} `)), { delayMs: 20 }))
    const controller = new AbortController()
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'long' }] }, { signal: controller.signal })
    let n = 0
    await (async () => {
      for await (const _c of stream) {
        if (++n === 3) controller.abort()
      }
    })().catch(() => {})
    expect(n).toBeGreaterThanOrEqual(3)
    const upstream = vendor.received.at(-1)!
    await upstream.aborted
    expect(upstream.wasAborted()).toBe(true)
  })

  it('never logs key material', () => {
    const all = gw.logs.join('\n')
    expect(all).not.toContain(VENDOR_KEY)
    expect(all).not.toContain(CLIENT_KEY)
    expect(all).toContain('"msg":"request"')
  })
})
