/**
 * The strongest check of the encoders: the official @anthropic-ai/sdk reads what they produce.
 * A loopback server answers POST /v1/messages with our translation of recorded OpenAI output.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { anthropicIngress } from '../../../src/ingress/anthropic/index.ts'
import type { ChatCompletion, ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import type { JsonObject } from '../../../src/core/json.ts'
import { usageFromOpenAI } from '../../../src/core/usage.ts'
import { GatewayError } from '../../../src/core/errors.ts'
import { fixtureChunks, fixtureCompletion } from './load-fixture.ts'

type Reply =
  | { kind: 'stream'; chunks: ChatCompletionChunk[]; failWith?: GatewayError }
  | { kind: 'json'; completion: ChatCompletion }

let reply: Reply = { kind: 'json', completion: fixtureCompletion('openai-tool-completion.json') }
let lastRequest: JsonObject | undefined
let server: Server
let client: Anthropic

async function readJson(req: IncomingMessage): Promise<JsonObject> {
  const parts: Buffer[] = []
  for await (const part of req) parts.push(part as Buffer)
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as JsonObject
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req)
  lastRequest = body
  // The gateway's path, in miniature: translate the request (it must validate), then answer.
  anthropicIngress.toChat(body)
  const ctx = { requestedModel: String(body.model), clientWantsUsage: true }
  if (reply.kind === 'json') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(anthropicIngress.fromChat(reply.completion, ctx)))
    return
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  const encoder = anthropicIngress.streamEncoder(ctx)
  for (const chunk of reply.chunks) res.write(encoder.push(chunk))
  res.end(reply.failWith ? encoder.error(reply.failWith) : encoder.end(usageFromOpenAI(reply.chunks.at(-1)?.usage)))
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500).end(String(err))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  client = new Anthropic({ baseURL: `http://127.0.0.1:${port}`, apiKey: 'x', maxRetries: 0 })
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const params = {
  model: 'claude-sonnet-4-6',
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content: 'Weather in Paris and Tokyo?' }],
  tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }],
}

describe('the official Anthropic SDK reads our encoding', () => {
  it('accumulates a streamed answer with text and two parallel tool calls', async () => {
    reply = { kind: 'stream', chunks: fixtureChunks('openai-parallel-tools.chunks.txt') }
    const message = await client.messages.stream(params).finalMessage()
    expect(lastRequest?.stream).toBe(true)
    expect(message.id).toBe('msg_chatcmpl-Cq7xParallel')
    expect(message.model).toBe('claude-sonnet-4-6')
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking both cities.' },
      { type: 'tool_use', id: 'call_Paris01', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_Tokyo02', name: 'get_weather', input: { city: 'Tokyo', unit: 'c' } },
    ])
    expect(message.stop_reason).toBe('tool_use')
    expect(message.stop_sequence).toBeNull()
    expect(message.usage).toEqual({ input_tokens: 226, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024, output_tokens: 64 })
  })

  it('accumulates a streamed reasoning answer into thinking and text blocks', async () => {
    const chunks = fixtureChunks('deepseek-reasoning.chunks.txt')
    reply = { kind: 'stream', chunks }
    const message = await client.messages.stream({ ...params, thinking: { type: 'enabled', budget_tokens: 2048 } }).finalMessage()
    const thinking = chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')
    expect(message.content).toEqual([{ type: 'thinking', thinking, signature: '' }, { type: 'text', text }])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage).toEqual({ input_tokens: 18, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 219 })
  })

  it('reads a non-streamed message through messages.create', async () => {
    reply = { kind: 'json', completion: fixtureCompletion('openai-tool-completion.json') }
    const message = await client.messages.create(params)
    expect(lastRequest?.stream).toBeUndefined()
    expect(message).toEqual({
      id: 'msg_chatcmpl-D8Z5f52zToolCall',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [
        { type: 'text', text: "I'll look up the weather in Paris." },
        { type: 'tool_use', id: 'call_Paris01', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_Broken02', name: 'get_weather', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 86, cache_creation_input_tokens: 0, cache_read_input_tokens: 1920, output_tokens: 300 },
    })
  })

  it('raises the SDK\'s error from an error event mid-stream', async () => {
    reply = {
      kind: 'stream',
      chunks: fixtureChunks('openai-parallel-tools.chunks.txt').slice(0, 3),
      failWith: new GatewayError({ status: 529, code: 'upstream_error', message: 'Overloaded' }),
    }
    const failure: unknown = await client.messages.stream(params).finalMessage().then(() => undefined, (err: unknown) => err)
    expect(failure).toBeInstanceOf(Anthropic.APIError)
    expect((failure as InstanceType<typeof Anthropic.APIError>).error).toEqual({
      type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' },
    })
  })
})
