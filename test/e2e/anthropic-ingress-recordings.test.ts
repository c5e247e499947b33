/**
 * The official @anthropic-ai/sdk (what Claude Code is built on) through the real gateway, against
 * stand-in vendors that replay real recordings (copied from the shared vendor recordings into test/fixtures/recordings):
 * - Gemini 3 tool calls: the thought signatures survive the round trip through the client, so the
 *   next turn's functionCall carries its signature (Gemini 3 answers 400 without it), and the same
 *   history sent on to an Anthropic target reaches it without the gateway's carrier blocks.
 *   A tool loop begun elsewhere gets Google's dummy signature on its unsigned call.
 * - Bedrock Claude's streamed thinking: the client gets the text once, then the signature, and the
 *   next turn hands Bedrock that exact text with its signature.
 * - OpenAI-compatible dialects (Mistral's content parts, Groq's `reasoning`): the answer and its
 *   reasoning reach Anthropic clients and, through the openai SDK, Responses clients.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { json, sse, startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { awsEventStreamCodec } from '../../src/upstream/aws-eventstream.ts'

const recordings = new URL('../fixtures/recordings/', import.meta.url)
const CLIENT_KEY = 'sk-sb-ingress-recordings-client-0001'
const lines = (file: string): string[] => readFileSync(new URL(file, recordings), 'utf8').split('\n').filter((l) => l.trim() !== '')
const recorded = (file: string): unknown => JSON.parse(readFileSync(new URL(file, recordings), 'utf8'))

/** A Gemini stand-in replaying a recording: the stream as Google frames it (CRLF, no [DONE]), or the body. */
const geminiReplay = (file: string): Handler => file.endsWith('.chunks.txt')
  ? sse(lines(file), { done: false })
  : json(200, recorded(file))

const anthropicText: Handler = json(200, {
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-up', content: [{ type: 'text', text: 'ok' }],
  stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 },
})

const str = (value: string) => ({ type: 'string' as const, value })
/** A Bedrock stand-in replaying a recording: each line is one event-stream message, `{"<event type>": payload}`. */
const bedrockReplay = (file: string): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' })
  for (const line of lines(file)) {
    const [type, payload] = Object.entries(JSON.parse(line) as Record<string, unknown>)[0]!
    res.write(awsEventStreamCodec.encode({
      headers: { ':message-type': str('event'), ':event-type': str(type), ':content-type': str('application/json') },
      body: Buffer.from(JSON.stringify(payload)),
    }))
  }
  res.end()
}

/** An OpenAI-compatible stand-in replaying a recording: chunks as SSE (with [DONE]) when asked to stream, else the body. */
const compatReplay = (file: string): Handler => (req, res) => (req.json?.stream
  ? sse(lines(`${file}.chunks.txt`))(req, res)
  : json(200, recorded(`${file}.json`))(req, res))

const weather: Anthropic.Tool = { name: 'weather', description: 'The weather in a city', input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } }

let gemini: StandIn
let anthropicVendor: StandIn
let bedrock: StandIn
let compat: StandIn
let gw: TestGateway
let client: Anthropic

beforeAll(async () => {
  gemini = await startStandIn(geminiReplay('google/google-text.json'))
  anthropicVendor = await startStandIn(anthropicText)
  bedrock = await startStandIn(bedrockReplay('amazon-bedrock/amazon-bedrock-reasoning.chunks.txt'))
  compat = await startStandIn(compatReplay('mistral/mistral-reasoning'))
  gw = await startTestGateway(`
logging: { level: silent }
providers:
  gemini: { type: gemini, base_url: "${gemini.url}", keys: ["gm-vendor-key-0001"] }
  anthropic: { type: anthropic, base_url: "${anthropicVendor.url}", keys: ["sk-ant-vendor-0001"] }
  compat: { type: openai-compatible, base_url: "${compat.url}/v1", responses: translate }
  bedrock: { type: bedrock, base_url: "${bedrock.url}", region: us-east-1, access_key_id: AKIDINGRESSEXAMPLE01, secret_access_key: ingresssecretexample0001 }
models:
  m-gemini: { targets: [{ provider: gemini, model: gemini-3-pro-preview }] }
  m-claude: { targets: [{ provider: anthropic, model: claude-up }] }
  m-compat: { targets: [{ provider: compat, model: magistral-medium-2507 }] }
  m-bedrock: { targets: [{ provider: bedrock, model: "us.anthropic.claude-sonnet-4-20250514-v1:0" }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${CLIENT_KEY}" } } }
`)
  client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await gemini?.close()
  await anthropicVendor?.close()
  await bedrock?.close()
  await compat?.close()
})

/** The recorded signature of the recording's functionCall part. */
function recordedSignature(file: string): string {
  const bodies = file.endsWith('.chunks.txt') ? lines(file).map((l) => JSON.parse(l) as unknown) : [recorded(file)]
  const parts = bodies.flatMap((b) => (b as { candidates: Array<{ content: { parts: Array<{ functionCall?: unknown; thoughtSignature?: string }> } }> }).candidates[0]!.content.parts)
  return parts.find((p) => p.functionCall && p.thoughtSignature)!.thoughtSignature!
}

describe('Claude Code on Gemini 3: thought signatures through the Anthropic SDK', () => {
  for (const stream of [false, true]) {
    const file = stream ? 'google/google-tool-call-gemini3.chunks.txt' : 'google/google-tool-call-gemini3.json'
    it(`${stream ? 'streamed' : 'non-streamed'} (${file}): the next turn's functionCall carries the recorded signature`, async () => {
      const question: Anthropic.MessageParam = { role: 'user', content: 'What is the weather in San Francisco?' }
      gemini.queue.push(geminiReplay(file))
      const params = { model: 'm-gemini', max_tokens: 1024, tools: [weather], messages: [question] }
      const first = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params)
      expect(first.stop_reason).toBe('tool_use')
      expect(first.content.map((b) => b.type)).toEqual(['thinking', 'tool_use'])
      const call = first.content.find((b) => b.type === 'tool_use')!
      expect(call).toMatchObject({ name: 'weather', input: { location: 'San Francisco' } })

      // What Claude Code does next: the assistant content as it came, then the tool's result.
      const history: Anthropic.MessageParam[] = [
        question,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 18°C' }] },
      ]
      gemini.queue.push(geminiReplay(stream ? 'google/google-text.chunks.txt' : 'google/google-text.json'))
      const nextParams = { model: 'm-gemini', max_tokens: 1024, tools: [weather], messages: history }
      const second = stream ? await client.messages.stream(nextParams).finalMessage() : await client.messages.create(nextParams)
      expect(second.content.find((b) => b.type === 'text')).toMatchObject({ text: expect.stringContaining('strawberry') })
      const contents = gemini.received.at(-1)!.json!.contents as Array<{ role: string; parts: Array<Record<string, unknown>> }>
      expect(contents[1]).toEqual({
        role: 'model',
        parts: [{ functionCall: { name: 'weather', args: { location: 'San Francisco' } }, thoughtSignature: recordedSignature(file) }],
      })

      // The same conversation continued on a Claude model: Anthropic would refuse our signature.
      await client.messages.create({ ...nextParams, model: 'm-claude' })
      const sent = anthropicVendor.received.at(-1)!
      expect(sent.body).not.toContain('sbg1.')
      expect((sent.json!.messages as Anthropic.MessageParam[])[1]).toEqual({ role: 'assistant', content: [call] })
    })
  }

  it("a tool loop begun on another model continues on Gemini with Google's dummy signature on the unsigned call", async () => {
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'What is the weather in Paris?' },
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_01', name: 'weather', input: { location: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: 'Rain' }] },
    ]
    await client.messages.create({ model: 'm-gemini', max_tokens: 256, tools: [weather], messages })
    const contents = gemini.received.at(-1)!.json!.contents as Array<{ role: string; parts: unknown[] }>
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [{ text: 'Checking.' }, { functionCall: { name: 'weather', args: { location: 'Paris' } }, thoughtSignature: 'skip_thought_signature_validator' }],
    })
  })
})

describe('Claude Code on Bedrock Claude: streamed thinking (amazon-bedrock-reasoning.chunks.txt)', () => {
  it('arrives once with its signature, and goes back to Bedrock as it was signed', async () => {
    let text = ''
    let signature = ''
    for (const line of lines('amazon-bedrock/amazon-bedrock-reasoning.chunks.txt')) {
      const rc = (JSON.parse(line) as { contentBlockDelta?: { delta: { reasoningContent?: { text?: string; signature?: string } } } }).contentBlockDelta?.delta.reasoningContent
      text += rc?.text ?? ''
      signature = rc?.signature ?? signature
    }
    const question: Anthropic.MessageParam = { role: 'user', content: 'How many r are in strawberry?' }
    const params = { model: 'm-bedrock', max_tokens: 4096, thinking: { type: 'enabled' as const, budget_tokens: 2048 }, messages: [question] }
    const first = await client.messages.stream(params).finalMessage()
    expect(first.content.map((b) => b.type)).toEqual(['thinking', 'text'])
    expect(first.content[0]).toEqual({ type: 'thinking', thinking: text, signature })

    await client.messages.stream({ ...params, messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: 'Sure?' }] }).finalMessage()
    const messages = bedrock.received.at(-1)!.json!.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>
    expect(messages[1]!.content[0]).toEqual({ reasoningContent: { reasoningText: { text, signature } } })
  })
})

describe('OpenAI-compatible dialects reach translated clients', () => {
  const mistralThinking = 'The user is asking for 2+2. This is basic arithmetic. 2+2=4.'

  it('Mistral (content as parts), streamed and not, to the Anthropic SDK: thinking, then the answer', async () => {
    const params = { model: 'm-compat', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'What is 2+2?' }] }
    for (const message of [await client.messages.stream(params).finalMessage(), await client.messages.create(params)]) {
      expect(message.content).toEqual([
        { type: 'thinking', thinking: mistralThinking, signature: '' },
        { type: 'text', text: '2 + 2 = 4' },
      ])
      expect(message.stop_reason).toBe('end_turn')
    }
  })

  it('Mistral streamed to the openai SDK on /v1/responses: a reasoning summary, then the answer', async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 })
    const final = await openai.responses.stream({ model: 'm-compat', input: 'What is 2+2?', store: false }).finalResponse()
    expect(final.output_text).toBe('2 + 2 = 4')
    expect(final.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: mistralThinking }] })
  })

  it("Groq's `reasoning` deltas become the thinking block", async () => {
    compat.queue.push(compatReplay('groq/groq-reasoning'))
    const message = await client.messages.stream({ model: 'm-compat', max_tokens: 1024, messages: [{ role: 'user', content: 'How many r in strawberry?' }] }).finalMessage()
    const reasoning = lines('groq/groq-reasoning.chunks.txt').map((l) => (JSON.parse(l) as { choices: Array<{ delta: { reasoning?: string } }> }).choices[0]?.delta.reasoning ?? '').join('')
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text'])
    expect(message.content[0]).toMatchObject({ thinking: reasoning })
  })
})
