import { describe, expect, it } from 'vitest'
import { anthropicKind } from '../../../src/providers/anthropic/index.ts'
import { attempt, chunksOf, eventFromLine, loadEvents, run } from './helpers.ts'
import { readFileSync } from 'node:fs'
import { fixtureUrl } from './helpers.ts'

const adapter = anthropicKind.adapter

describe('anthropicKind', () => {
  it('declares schema, operations and defaults', () => {
    expect(anthropicKind.defaultBaseUrl).toBe('https://api.anthropic.com')
    expect(anthropicKind.needsKey).toBe(true)
    expect(adapter.schema).toBe('anthropic')
    expect([...adapter.native]).toEqual(['messages', 'count_tokens'])
    expect([...adapter.supports].sort()).toEqual(['chat', 'count_tokens', 'messages'])
    expect(adapter.streamFraming).toBe('sse')
  })
})

describe('buildRequest', () => {
  it('translates chat, with key, version and json headers', () => {
    const req = adapter.buildRequest(attempt({
      body: { model: 'claude-haiku', messages: [{ role: 'user', content: 'Hi' }], stream: true },
      stream: true,
      clientHeaders: { 'anthropic-version': '2099-01-01', 'x-stainless-os': 'Linux' },
      query: 'beta=true',
    }))
    expect(req).toEqual({
      origin: 'https://api.anthropic.com',
      path: '/v1/messages',
      method: 'POST',
      headers: { 'anthropic-version': '2023-06-01', 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 4096, messages: [{ role: 'user', content: 'Hi' }], stream: true }),
    })
  })

  it('sends native messages bodies with only the model replaced, keeping query, version and betas', () => {
    const body = { model: 'claude-alias', max_tokens: 32000, thinking: { type: 'adaptive' }, output_config: { effort: 'high' }, messages: [{ role: 'user', content: 'Hi' }], stream: true }
    const req = adapter.buildRequest(attempt({
      operation: 'messages',
      body,
      rawBody: Buffer.from(JSON.stringify(body)),
      stream: true,
      query: '?beta=true',
      clientHeaders: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14', authorization: 'Bearer sk-virtual' },
      provider: { name: 'a', type: 'anthropic', baseUrl: 'https://proxy.example.com/anthropic/', headers: { 'X-Team': 'x' } },
    }))
    expect(req.origin).toBe('https://proxy.example.com')
    expect(req.path).toBe('/anthropic/v1/messages?beta=true')
    expect(req.headers).toEqual({
      'x-team': 'x',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
      'content-type': 'application/json',
      'x-api-key': 'sk-ant-test',
    })
    expect(req.body?.toString()).toBe(JSON.stringify({ ...body, model: 'claude-sonnet-4-5' }))
    expect(body.model).toBe('claude-alias')
  })

  it('sends the raw bytes when the model is unchanged', () => {
    const raw = Buffer.from('{"model":"claude-sonnet-4-5",  "max_tokens":10,"messages":[]}')
    const req = adapter.buildRequest(attempt({ operation: 'messages', body: JSON.parse(raw.toString()) as Record<string, never>, rawBody: raw }))
    expect(req.body).toBe(raw)
  })

  it('removes the thinking blocks carrying our sbg1 envelope (Gemini signatures) before a native request', () => {
    const carrier = { type: 'thinking', thinking: 'Gemini thought.', signature: 'sbg1.W10' }
    const claude = { type: 'thinking', thinking: 'Claude thought.', signature: 'EqQBCkgIARABGAIiQ' }
    const call = { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }
    const body = {
      model: 'claude-sonnet-4-5', max_tokens: 100,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [carrier, call] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
        { role: 'assistant', content: [carrier] },
        { role: 'user', content: 'And now?' },
        { role: 'assistant', content: [claude, { type: 'text', text: 'Done.' }] },
      ],
    }
    for (const operation of ['messages', 'count_tokens'] as const) {
      const req = adapter.buildRequest(attempt({ operation, body, rawBody: Buffer.from(JSON.stringify(body)) }))
      expect(JSON.parse(req.body!.toString())).toEqual({
        ...body,
        messages: [
          body.messages[0], { role: 'assistant', content: [call] }, body.messages[2],
          // An assistant turn left empty goes: Anthropic combines the user turns around it.
          body.messages[4], body.messages[5],
        ],
      })
    }
    expect(body.messages[1]!.content).toEqual([carrier, call])
  })

  it('keeps the bytes when only Anthropic signatures (or the text sbg1.) appear', () => {
    const raw = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [
      { role: 'user', content: 'what is sbg1.?' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'x', signature: 'EqQBCkgIARABGAIiQ' }, { type: 'text', text: 'sbg1. is nothing' }] },
    ] }))
    const req = adapter.buildRequest(attempt({ operation: 'messages', body: JSON.parse(raw.toString()) as Record<string, never>, rawBody: raw }))
    expect(req.body).toBe(raw)
  })

  it('routes count_tokens to its path', () => {
    const req = adapter.buildRequest(attempt({ operation: 'count_tokens', body: { model: 'x', messages: [] }, query: 'beta=true' }))
    expect(req.path).toBe('/v1/messages/count_tokens?beta=true')
    expect(req.body).toBe('{"model":"claude-sonnet-4-5","messages":[]}')
  })

  it('refuses operations it does not serve', () => {
    expect(() => adapter.buildRequest(attempt({ operation: 'embeddings', body: {} }))).toThrow(/embeddings/)
  })
})

describe('parseResponse', () => {
  const text = readFileSync(fixtureUrl('anthropic-text.json'))

  it('translates chat bodies', () => {
    const parsed = adapter.parseResponse(attempt({ body: {} }), text)
    expect(parsed.kind).toBe('object')
    expect(parsed.usage).toMatchObject({ inputTokens: 12, outputTokens: 29 })
    expect(parsed.responseModel).toBe('claude-sonnet-4-5-20250929')
    expect(parsed.finishReasons).toEqual(['end_turn'])
    if (parsed.kind === 'object') expect(parsed.body['object']).toBe('chat.completion')
  })

  it('passes native bodies through untouched, reading usage', () => {
    const parsed = adapter.parseResponse(attempt({ operation: 'messages', body: {} }), text)
    expect(parsed).toEqual({
      kind: 'raw', bytes: text,
      usage: { inputTokens: 12, outputTokens: 29, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false },
      responseModel: 'claude-sonnet-4-5-20250929', responseId: 'msg_01VdEjxAP5ahtHKrrRdNBteQ', finishReasons: ['end_turn'],
    })
    const counted = Buffer.from('{"input_tokens":2095}')
    expect(adapter.parseResponse(attempt({ operation: 'count_tokens', body: {} }), counted)).toEqual({ kind: 'raw', bytes: counted, usage: undefined })
  })
})

describe('native stream translator', () => {
  it('forwards every event byte for byte and extracts usage, model, id and stop reasons', () => {
    const events = loadEvents('anthropic-code-execution-20260120-prompt-cache.1.chunks.txt')
    const t = adapter.streamTranslator(attempt({ operation: 'messages', body: {}, stream: true }), { clientWantsUsage: true })
    const frames = run(t, events)
    expect(frames).toHaveLength(events.length)
    expect(Buffer.concat(frames.map(f => (f.kind === 'raw' ? f.bytes : Buffer.alloc(0))))).toEqual(Buffer.concat(events.map(e => e.raw)))
    expect(t.usage()).toEqual({ inputTokens: 9632, outputTokens: 198, cachedInputTokens: 6289, cacheWriteTokens: 3337, reasoningTokens: 0, estimated: false })
    expect(t.responseModel?.()).toBe('claude-sonnet-5')
    expect(t.responseId?.()).toBe('msg_011CdYfpjpVtBoXyXCQD1tQP')
    expect(t.finishReasons?.()).toEqual(['end_turn'])
  })

  it('reports an error event instead of forwarding it (the pipeline renders one), and forwards nothing more', () => {
    const t = adapter.streamTranslator(attempt({ operation: 'messages', body: {}, stream: true }), { clientWantsUsage: true })
    const frames = run(t, [
      eventFromLine('{"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":3,"output_tokens":1}}}'),
      eventFromLine('{"type":"error","error":{"type":"api_error","message":"Internal server error"}}'),
      eventFromLine('{"type":"message_stop"}'),
    ])
    expect(frames).toHaveLength(1)
    expect(t.error()).toMatchObject({ status: 500, kind: 'server', message: 'Internal server error' })
  })

  it('reports a native stream cut before message_stop', () => {
    const t = adapter.streamTranslator(attempt({ operation: 'messages', body: {}, stream: true }), { clientWantsUsage: true })
    const frames = run(t, loadEvents('anthropic-text.chunks.txt').slice(0, 4))
    expect(frames).toHaveLength(4)
    expect(t.error()).toMatchObject({ kind: 'server', code: 'incomplete_stream' })
    expect(t.usage()).toMatchObject({ inputTokens: 12 })
  })

  it('chat operations get the translating stream', () => {
    const t = adapter.streamTranslator(attempt({ body: {}, stream: true }), { clientWantsUsage: false })
    expect(chunksOf(run(t, loadEvents('anthropic-text.chunks.txt')))[0]?.object).toBe('chat.completion.chunk')
  })
})
