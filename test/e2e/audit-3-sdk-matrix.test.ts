/**
 * Issue 3 acceptance: both official SDKs (openai, @anthropic-ai/sdk) against every vendor schema
 * (anthropic, gemini, bedrock, openai), streamed and not, through the real gateway and stand-in
 * vendors on loopback. Each case asserts what the SDK returns (text, stop reason, usage with cache
 * and reasoning counts) and what the vendor received (path, credentials, translated body). Then
 * images in, and a mid-stream vendor error surfacing as an SDK error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServerResponse } from 'node:http'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { startStandIn, type Handler, type Received, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { awsEventStreamCodec } from '../../src/upstream/aws-eventstream.ts'

const CLIENT_KEY = 'sk-sb-audit-matrix-client-key-000000001'
const ANT_KEY = 'sk-ant-vendor-key-matrix-0001'
const GEM_KEY = 'gm-vendor-key-matrix-0001'
const OAI_KEY = 'sk-openai-vendor-key-matrix-0001'
const AWS_ID = 'AKIDMATRIXEXAMPLE0001'

type Target = 'anthropic' | 'gemini' | 'bedrock' | 'openai'
const TARGETS: Target[] = ['anthropic', 'gemini', 'bedrock', 'openai']
const TEXT: Record<Target, [string, string]> = {
  anthropic: ['Hi from ', 'Claude'],
  gemini: ['Hi from ', 'Gemini'],
  bedrock: ['Hi from ', 'Bedrock'],
  openai: ['Hi from ', 'OpenAI'],
}
const UPSTREAM: Record<Target, string> = {
  anthropic: 'claude-up', gemini: 'gemini-up', bedrock: 'anthropic.claude-up-v1:0', openai: 'gpt-up',
}

/** What an OpenAI client must see as `usage`, given each vendor's own counts below. */
const OPENAI_USAGE: Record<Target, object> = {
  // Anthropic: input 10 uncached + 100 cache reads + 20 cache writes = 130 prompt tokens.
  anthropic: { prompt_tokens: 130, completion_tokens: 7, total_tokens: 137, prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 } },
  // Gemini: thoughts are output; cachedContentTokenCount is already inside promptTokenCount.
  gemini: { prompt_tokens: 50, completion_tokens: 17, total_tokens: 67, prompt_tokens_details: { cached_tokens: 30 }, completion_tokens_details: { reasoning_tokens: 12 } },
  // Bedrock: inputTokens 10 uncached + 40 cache reads.
  bedrock: { prompt_tokens: 50, completion_tokens: 6, total_tokens: 56, prompt_tokens_details: { cached_tokens: 40 } },
  openai: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29, prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 4 } },
}
/** What an Anthropic client must see: input_tokens excludes cache reads and writes. */
const ANTHROPIC_USAGE: Record<Target, { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number }> = {
  anthropic: { input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 },
  gemini: { input_tokens: 20, output_tokens: 17, cache_read_input_tokens: 30, cache_creation_input_tokens: 0 },
  bedrock: { input_tokens: 10, output_tokens: 6, cache_read_input_tokens: 40, cache_creation_input_tokens: 0 },
  openai: { input_tokens: 12, output_tokens: 9, cache_read_input_tokens: 8, cache_creation_input_tokens: 0 },
}

// ---- vendor stand-ins, each answering in its own documented wire format ----

const anthropicUsage = { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 7 }

const anthropicVendor: Handler = (req, res) => {
  const [a, b] = TEXT.anthropic
  if (req.json?.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const ev = (e: { type: string }) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
    ev({ type: 'message_start', message: { id: 'msg_m1', type: 'message', role: 'assistant', model: UPSTREAM.anthropic, content: [], stop_reason: null, stop_sequence: null, usage: { ...anthropicUsage, output_tokens: 1 } } } as { type: string })
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } as { type: string })
    ev({ type: 'ping' })
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: a } } as { type: string })
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: b } } as { type: string })
    ev({ type: 'content_block_stop', index: 0 } as { type: string })
    ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } } as { type: string })
    ev({ type: 'message_stop' })
    res.end()
    return
  }
  const body = JSON.stringify({ id: 'msg_m1', type: 'message', role: 'assistant', model: UPSTREAM.anthropic, content: [{ type: 'text', text: a + b }], stop_reason: 'end_turn', stop_sequence: null, usage: anthropicUsage })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
}

const geminiUsage = { promptTokenCount: 50, cachedContentTokenCount: 30, candidatesTokenCount: 5, thoughtsTokenCount: 12, totalTokenCount: 67 }

const geminiVendor: Handler = (req, res) => {
  const [a, b] = TEXT.gemini
  if (req.path.includes(':streamGenerateContent')) {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: a }] }, index: 0 }], usageMetadata: { promptTokenCount: 50, candidatesTokenCount: 2, totalTokenCount: 52 }, modelVersion: UPSTREAM.gemini })}\r\n\r\n`)
    res.write(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: b }] }, finishReason: 'STOP', index: 0 }], usageMetadata: geminiUsage, modelVersion: UPSTREAM.gemini })}\r\n\r\n`)
    res.end()
    return
  }
  const body = JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: a + b }] }, finishReason: 'STOP', index: 0 }], usageMetadata: geminiUsage, modelVersion: UPSTREAM.gemini })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
}

const str = (value: string) => ({ type: 'string' as const, value })
const frame = (eventType: string, payload: unknown): Uint8Array => awsEventStreamCodec.encode({
  headers: { ':message-type': str('event'), ':event-type': str(eventType), ':content-type': str('application/json') },
  body: Buffer.from(JSON.stringify({ ...(payload as object), p: 'abcd' })),
})
const exceptionFrame = (type: string, message: string): Uint8Array => awsEventStreamCodec.encode({
  headers: { ':message-type': str('exception'), ':exception-type': str(type), ':content-type': str('application/json') },
  body: Buffer.from(JSON.stringify({ message })),
})
const bedrockUsage = { inputTokens: 10, outputTokens: 6, totalTokens: 56, cacheReadInputTokens: 40, cacheWriteInputTokens: 0 }

function writeFrames(res: ServerResponse, frames: Uint8Array[]): void {
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' })
  // Split the binary stream at odd places so the decoder must reassemble frames across reads.
  const all = Buffer.concat(frames)
  for (let i = 0; i < all.length; i += 37) res.write(all.subarray(i, i + 37))
  res.end()
}

const bedrockVendor: Handler = (req, res) => {
  const [a, b] = TEXT.bedrock
  if (req.path.endsWith('/converse-stream')) {
    writeFrames(res, [
      frame('messageStart', { role: 'assistant' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: a } }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: b } }),
      frame('contentBlockStop', { contentBlockIndex: 0 }),
      frame('messageStop', { stopReason: 'end_turn' }),
      frame('metadata', { usage: bedrockUsage, metrics: { latencyMs: 12 } }),
    ])
    return
  }
  const body = JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: a + b }] } }, stopReason: 'end_turn', usage: bedrockUsage, metrics: { latencyMs: 12 } })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
}

const openaiUsage = { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29, prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 4 } }

const openaiVendor: Handler = (req, res) => {
  const [a, b] = TEXT.openai
  const base = { id: 'chatcmpl-m1', object: 'chat.completion.chunk', created: 1_700_000_000, model: UPSTREAM.openai }
  if (req.json?.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const c of [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: a }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: b }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...base, choices: [], usage: openaiUsage },
    ]) res.write(`data: ${JSON.stringify(c)}\n\n`)
    res.end('data: [DONE]\n\n')
    return
  }
  const body = JSON.stringify({ id: 'chatcmpl-m1', object: 'chat.completion', created: 1_700_000_000, model: UPSTREAM.openai, choices: [{ index: 0, message: { role: 'assistant', content: a + b, refusal: null }, logprobs: null, finish_reason: 'stop' }], usage: openaiUsage })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
}

const HANDLERS: Record<Target, Handler> = { anthropic: anthropicVendor, gemini: geminiVendor, bedrock: bedrockVendor, openai: openaiVendor }

let vendors: Record<Target, StandIn>
let gw: TestGateway
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  const [an, ge, be, op] = await Promise.all(TARGETS.map((t) => startStandIn(HANDLERS[t])))
  vendors = { anthropic: an!, gemini: ge!, bedrock: be!, openai: op! }
  gw = await startTestGateway(`
providers:
  anthropic: { type: anthropic, base_url: "${vendors.anthropic.url}", keys: ["${ANT_KEY}"] }
  gemini: { type: gemini, base_url: "${vendors.gemini.url}", keys: ["${GEM_KEY}"] }
  bedrock: { type: bedrock, base_url: "${vendors.bedrock.url}", region: us-east-1, access_key_id: ${AWS_ID}, secret_access_key: matrixsecretexample0001 }
  openai: { type: openai, base_url: "${vendors.openai.url}/v1", keys: ["${OAI_KEY}"] }
models:
  m-anthropic: { targets: [{ provider: anthropic, model: ${UPSTREAM.anthropic} }] }
  m-gemini: { targets: [{ provider: gemini, model: ${UPSTREAM.gemini} }] }
  m-bedrock: { targets: [{ provider: bedrock, model: "${UPSTREAM.bedrock}" }] }
  m-openai: { targets: [{ provider: openai, model: ${UPSTREAM.openai} }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${CLIENT_KEY}" } } }
`)
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await Promise.all(Object.values(vendors ?? {}).map((v) => v.close()))
})

/** The request the vendor saw: its own path and credentials, the upstream model, the user's text. */
function expectVendorSaw(t: Target, seen: Received, stream: boolean): void {
  expect(JSON.stringify(seen.headers)).not.toContain(CLIENT_KEY)
  switch (t) {
    case 'anthropic':
      expect(seen.path).toBe('/v1/messages')
      expect(seen.headers['x-api-key']).toBe(ANT_KEY)
      expect(seen.json).toMatchObject({ model: UPSTREAM.anthropic, messages: [{ role: 'user', content: 'Say hi' }] })
      expect(Boolean(seen.json?.stream)).toBe(stream)
      break
    case 'gemini':
      expect(seen.path).toBe(stream ? `/v1beta/models/${UPSTREAM.gemini}:streamGenerateContent?alt=sse` : `/v1beta/models/${UPSTREAM.gemini}:generateContent`)
      expect(seen.headers['x-goog-api-key']).toBe(GEM_KEY)
      expect(seen.json).toMatchObject({ contents: [{ role: 'user', parts: [{ text: 'Say hi' }] }] })
      break
    case 'bedrock':
      expect(seen.path).toBe(`/model/${encodeURIComponent(UPSTREAM.bedrock)}/${stream ? 'converse-stream' : 'converse'}`)
      expect(String(seen.headers.authorization)).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${AWS_ID}/\\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=\\S+, Signature=[0-9a-f]{64}$`))
      expect(seen.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/)
      expect(seen.json).toMatchObject({ messages: [{ role: 'user', content: [{ text: 'Say hi' }] }] })
      break
    case 'openai':
      expect(seen.path).toBe('/v1/chat/completions')
      expect(seen.headers.authorization).toBe(`Bearer ${OAI_KEY}`)
      expect(seen.json).toMatchObject({ model: UPSTREAM.openai, messages: [{ role: 'user', content: 'Say hi' }] })
      break
  }
}

describe('openai SDK x every schema', () => {
  for (const t of TARGETS) {
    it(`${t}: non-streamed`, async () => {
      const r = await openai.chat.completions.create({ model: `m-${t}`, max_tokens: 64, messages: [{ role: 'user', content: 'Say hi' }] })
      expect(r.choices[0]?.message.content).toBe(TEXT[t].join(''))
      expect(r.choices[0]?.message.role).toBe('assistant')
      expect(r.choices[0]?.finish_reason).toBe('stop')
      expect(r.object).toBe('chat.completion')
      expect(r.usage).toEqual(OPENAI_USAGE[t])
      expectVendorSaw(t, vendors[t].received.at(-1)!, false)
    })

    it(`${t}: streamed with include_usage`, async () => {
      const stream = await openai.chat.completions.create({ model: `m-${t}`, max_tokens: 64, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hi' }] })
      const pieces: string[] = []
      const finishes: Array<string | null> = []
      let usage: unknown
      let first: OpenAI.ChatCompletionChunk | undefined
      for await (const c of stream) {
        first ??= c
        const choice = c.choices[0]
        if (choice) {
          pieces.push(choice.delta.content ?? '')
          finishes.push(choice.finish_reason)
        }
        if (c.usage) usage = c.usage
      }
      expect(first?.choices[0]?.delta.role).toBe('assistant')
      expect(pieces.join('')).toBe(TEXT[t].join(''))
      // The text arrives in the vendor's own pieces, not as one block at the end.
      expect(pieces.filter(Boolean)).toEqual(TEXT[t])
      expect(finishes.filter((f) => f !== null)).toEqual(['stop'])
      expect(usage).toEqual(OPENAI_USAGE[t])
      expectVendorSaw(t, vendors[t].received.at(-1)!, true)
    })
  }
})

describe('@anthropic-ai/sdk x every schema', () => {
  for (const t of TARGETS) {
    it(`${t}: non-streamed`, async () => {
      const m = await anthropic.messages.create({ model: `m-${t}`, max_tokens: 64, messages: [{ role: 'user', content: 'Say hi' }] })
      expect(m.type).toBe('message')
      expect(m.role).toBe('assistant')
      expect(m.content).toEqual([expect.objectContaining({ type: 'text', text: TEXT[t].join('') })])
      expect(m.stop_reason).toBe('end_turn')
      expect(m.usage).toMatchObject(ANTHROPIC_USAGE[t])
      expectVendorSaw(t, vendors[t].received.at(-1)!, false)
    })

    it(`${t}: streamed`, async () => {
      const s = anthropic.messages.stream({ model: `m-${t}`, max_tokens: 64, messages: [{ role: 'user', content: 'Say hi' }] })
      const deltas: string[] = []
      s.on('text', (d) => deltas.push(d))
      const m = await s.finalMessage()
      expect(deltas).toEqual(TEXT[t])
      expect(m.content).toEqual([expect.objectContaining({ type: 'text', text: TEXT[t].join('') })])
      expect(m.stop_reason).toBe('end_turn')
      expect(m.usage).toMatchObject(ANTHROPIC_USAGE[t])
      expectVendorSaw(t, vendors[t].received.at(-1)!, true)
    })
  }
})

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

describe('images in', () => {
  const ask = (model: string) => openai.chat.completions.create({
    model, max_tokens: 64,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }],
  })

  it('anthropic: a data URL becomes a base64 image block', async () => {
    await ask('m-anthropic')
    expect(vendors.anthropic.received.at(-1)!.json?.messages).toEqual([{ role: 'user', content: [
      { type: 'text', text: 'What is this?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    ] }])
  })

  it('anthropic: an https URL becomes a url image source', async () => {
    await openai.chat.completions.create({ model: 'm-anthropic', max_tokens: 64, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] })
    expect(vendors.anthropic.received.at(-1)!.json?.messages).toEqual([{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } }] }])
  })

  it('gemini: a data URL becomes inlineData', async () => {
    await ask('m-gemini')
    expect(vendors.gemini.received.at(-1)!.json?.contents).toEqual([{ role: 'user', parts: [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: PNG } }] }])
  })

  it('bedrock: a data URL becomes an image block with bytes', async () => {
    await ask('m-bedrock')
    expect(vendors.bedrock.received.at(-1)!.json?.messages).toEqual([{ role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG } } }] }])
  })

  it('the Anthropic SDK sends a base64 image to a Gemini target', async () => {
    await anthropic.messages.create({ model: 'm-gemini', max_tokens: 64, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'text', text: 'What is this?' }] }] })
    expect(vendors.gemini.received.at(-1)!.json?.contents).toEqual([{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: PNG } }, { text: 'What is this?' }] }])
  })
})

describe('a mid-stream vendor error surfaces as an SDK error after the text already sent', () => {
  async function drainOpenAI(model: string): Promise<{ got: string; caught: unknown }> {
    const stream = await openai.chat.completions.create({ model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Say hi' }] })
    let got = ''
    let caught: unknown
    try {
      for await (const c of stream) got += c.choices[0]?.delta.content ?? ''
    } catch (e) {
      caught = e
    }
    return { got, caught }
  }

  it('anthropic `event: error` (overloaded)', async () => {
    vendors.anthropic.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_e', type: 'message', role: 'assistant', model: UPSTREAM.anthropic, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } })}\n\n`)
      res.write(`event: content_block_start\ndata: ${JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })}\n\n`)
      res.write(`event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Partial' } })}\n\n`)
      res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`)
    })
    const { got, caught } = await drainOpenAI('m-anthropic')
    expect(got).toBe('Partial')
    expect(caught).toBeInstanceOf(OpenAI.APIError)
    expect((caught as Error).message).toContain('Overloaded')
  })

  it('gemini error object in the SSE stream', async () => {
    vendors.gemini.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Partial' }] }, index: 0 }] })}\n\n`)
      res.end(`data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })}\n\n`)
    })
    const { got, caught } = await drainOpenAI('m-gemini')
    expect(got).toBe('Partial')
    expect(caught).toBeInstanceOf(OpenAI.APIError)
    expect((caught as Error).message).toContain('The model is overloaded.')
  })

  it('bedrock exception frame (openai SDK)', async () => {
    vendors.bedrock.queue.push((_req, res) => writeFrames(res, [
      frame('messageStart', { role: 'assistant' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Partial' } }),
      exceptionFrame('modelStreamErrorException', 'Model stream failed mid-way'),
    ]))
    const { got, caught } = await drainOpenAI('m-bedrock')
    expect(got).toBe('Partial')
    expect(caught).toBeInstanceOf(OpenAI.APIError)
    expect((caught as Error).message).toContain('Model stream failed mid-way')
  })

  it('bedrock exception frame (Anthropic SDK on /v1/messages)', async () => {
    vendors.bedrock.queue.push((_req, res) => writeFrames(res, [
      frame('messageStart', { role: 'assistant' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Partial' } }),
      exceptionFrame('throttlingException', 'Too many tokens, please wait'),
    ]))
    const s = anthropic.messages.stream({ model: 'm-bedrock', max_tokens: 64, messages: [{ role: 'user', content: 'Say hi' }] })
    const deltas: string[] = []
    s.on('text', (d) => deltas.push(d))
    const caught = await s.finalMessage().catch((e: unknown) => e)
    expect(deltas).toEqual(['Partial'])
    expect(caught).toBeInstanceOf(Anthropic.APIError)
    expect((caught as Error).message).toContain('Too many tokens, please wait')
  })
})

describe('/v1/messages/count_tokens', () => {
  it('to an Anthropic target: forwarded natively with the upstream model and the vendor key; the SDK reads it', async () => {
    vendors.anthropic.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"input_tokens":14}')
    })
    const r = await anthropic.messages.countTokens({ model: 'm-anthropic', messages: [{ role: 'user', content: 'Say hi' }] })
    expect(r.input_tokens).toBe(14)
    const seen = vendors.anthropic.received.at(-1)!
    expect(seen.path).toBe('/v1/messages/count_tokens')
    expect(seen.headers['x-api-key']).toBe(ANT_KEY)
    expect(seen.json).toEqual({ model: UPSTREAM.anthropic, messages: [{ role: 'user', content: 'Say hi' }] })
  })
})
