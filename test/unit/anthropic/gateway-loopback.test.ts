/**
 * The adapter inside the real gateway, against an Anthropic stand-in on 127.0.0.1: what the vendor
 * receives and what the client gets back, for translated chat and native /v1/messages.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerProviderKind } from '../../../src/providers/registry.ts'
import { anthropicKind } from '../../../src/providers/anthropic/index.ts'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts'
import { startStandIn, type Handler, type StandIn } from '../../helpers/stand-in.ts'
import type { ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import { fixtureUrl, reassemble } from './helpers.ts'

const recordedSse = (name: string): string =>
  readFileSync(fixtureUrl(name), 'utf8').split('\n').filter(l => l.trim() !== '')
    .map(l => `event: ${(JSON.parse(l) as { type: string }).type}\ndata: ${l}\n\n`).join('')

const sseFrom = (text: string): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.end(text)
}
const jsonFrom = (status: number, text: string, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(text)
}

let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  registerProviderKind('anthropic', anthropicKind)
  vendor = await startStandIn(jsonFrom(500, '{}'))
  gw = await startTestGateway(`
server: { auth: none }
logging: { level: silent }
providers:
  anthropic: { type: anthropic, base_url: "${vendor.url}", keys: ["sk-ant-loopback-key"] }
models:
  claude:
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }]
routing: { retries: { max_attempts: 2, backoff_ms: 0 } }
`)
})

afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

describe('Anthropic adapter through the gateway', () => {
  it('translates a chat completion both ways', async () => {
    vendor.queue.push(jsonFrom(200, readFileSync(fixtureUrl('anthropic-text.json'), 'utf8')))
    const res = await post('/v1/chat/completions', { model: 'claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'How are you?' }], max_tokens: 100 })
    expect(res.status).toBe(200)
    const body = await res.json() as { choices: Array<{ message: { content: string } }>; usage: unknown }
    expect(body.choices[0]?.message.content).toBe("Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?")
    expect(body.usage).toEqual({ prompt_tokens: 12, completion_tokens: 29, total_tokens: 41 })

    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/v1/messages')
    expect(seen.headers['x-api-key']).toBe('sk-ant-loopback-key')
    expect(seen.headers['anthropic-version']).toBe('2023-06-01')
    expect(seen.json).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'How are you?' }] })
  })

  it('streams a translated chat completion with usage', async () => {
    vendor.queue.push(sseFrom(recordedSse('anthropic-tool-no-args.chunks.txt')))
    const res = await post('/v1/chat/completions', {
      model: 'claude', stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Update the issues' }],
      tools: [{ type: 'function', function: { name: 'updateIssueList', parameters: { type: 'object', properties: {} } } }],
    })
    const text = await res.text()
    const payloads = text.split('\n\n').filter(e => e.startsWith('data: ')).map(e => e.slice(6))
    expect(payloads.at(-1)).toBe('[DONE]')
    const r = reassemble(payloads.slice(0, -1).map(p => JSON.parse(p) as ChatCompletionChunk))
    expect(r.content).toBe("I'll update the issue list for you.")
    expect(r.toolCalls).toEqual([{ id: 'toolu_01QE1WLsSVp5hy5Q3GmGTmjP', name: 'updateIssueList', arguments: '{}' }])
    expect(r.finish).toEqual(['tool_calls'])
    expect(r.usage).toEqual({ prompt_tokens: 565, completion_tokens: 48, total_tokens: 613 })
    expect(vendor.received.at(-1)?.json?.['stream']).toBe(true)
  })

  it('passes a native /v1/messages stream through byte for byte', async () => {
    const upstream = recordedSse('anthropic-clear-thinking.1.chunks.txt')
    vendor.queue.push(sseFrom(upstream))
    const clientBody = { model: 'claude', max_tokens: 2048, thinking: { type: 'adaptive' }, messages: [{ role: 'user', content: 'Divide 925 by 5' }], stream: true }
    const res = await post('/v1/messages?beta=true', clientBody, { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'interleaved-thinking-2025-05-14', 'x-api-key': 'client-virtual-key' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(upstream)
    const seen = vendor.received.at(-1)!
    expect(seen.body).toBe(JSON.stringify({ ...clientBody, model: 'claude-sonnet-4-5' }))
    expect(seen.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14')
    expect(seen.headers['x-api-key']).toBe('sk-ant-loopback-key')
  })

  it('retries an overloaded vendor and then succeeds', async () => {
    vendor.queue.push(jsonFrom(529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'))
    vendor.queue.push(jsonFrom(200, readFileSync(fixtureUrl('anthropic-text.json'), 'utf8')))
    const before = vendor.received.length
    const res = await post('/v1/chat/completions', { model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })
    expect(res.status).toBe(200)
    expect(vendor.received.length - before).toBe(2)
  })

  it('passes a context-length error through with the vendor message', async () => {
    vendor.queue.push(jsonFrom(400, '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"}}'))
    const res = await post('/v1/chat/completions', { model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })
    expect(res.status).toBe(400)
    const body = await res.json() as { error: { code: string; message: string } }
    expect(body.error).toMatchObject({ code: 'context_length_exceeded', message: 'prompt is too long: 208310 tokens > 200000 maximum' })
  })
})
