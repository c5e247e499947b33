import { describe, expect, it } from 'vitest'
import { anthropicIngress } from '../../../src/ingress/anthropic/index.ts'
import { GatewayError } from '../../../src/core/errors.ts'
import type { ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import { usageFromOpenAI } from '../../../src/core/usage.ts'
import { fixtureChunks } from './load-fixture.ts'

const ctx = { requestedModel: 'claude-sonnet-4-6', clientWantsUsage: true }

interface Event { event: string; data: Record<string, unknown> }

/** Splits encoded SSE text back into events, asserting the exact `event:`/`data:` framing. */
function parseSse(text: string): Event[] {
  expect(text.endsWith('\n\n')).toBe(true)
  return text.slice(0, -2).split('\n\n').map((frame) => {
    const [eventLine, dataLine, ...rest] = frame.split('\n')
    expect(rest).toEqual([])
    expect(eventLine?.startsWith('event: ')).toBe(true)
    expect(dataLine?.startsWith('data: ')).toBe(true)
    const data = JSON.parse(dataLine!.slice(6)) as Record<string, unknown>
    const event = eventLine!.slice(7)
    expect(data.type).toBe(event)
    return { event, data }
  })
}

function encodeAll(chunks: ChatCompletionChunk[], finalUsage = usageFromOpenAI(chunks.at(-1)?.usage)): string {
  const encoder = anthropicIngress.streamEncoder(ctx)
  return chunks.map((c) => encoder.push(c)).join('') + encoder.end(finalUsage)
}

function chunk(delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk {
  return { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }
}

describe('OpenAI chunks -> Anthropic SSE', () => {
  it('encodes text then two parallel tool calls as the exact Anthropic event sequence', () => {
    const events = parseSse(encodeAll(fixtureChunks('openai-parallel-tools.chunks.txt')))
    expect(events.map((e) => e.data)).toEqual([
      {
        type: 'message_start',
        message: {
          id: 'msg_chatcmpl-Cq7xParallel', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [],
          stop_reason: null, stop_sequence: null,
          usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' both cities.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_Paris01', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"ci' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ty": "Pa' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ris"}' } },
      { type: 'content_block_stop', index: 1 },
      // The second call started while the first call's block was open: it is sent whole once that
      // block closes (a vendor may interleave the calls' fragments; Anthropic's blocks are sequential).
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_Tokyo02', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": "Tokyo", "unit": "c"}' } },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        // 1250 prompt tokens of which 1024 cached.
        usage: { input_tokens: 226, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024, output_tokens: 64 },
      },
      { type: 'message_stop' },
    ])
    const json = (index: number): unknown => JSON.parse(events
      .filter((e) => e.data.index === index && e.event === 'content_block_delta')
      .map((e) => (e.data.delta as { partial_json: string }).partial_json).join(''))
    expect(json(1)).toEqual({ city: 'Paris' })
    expect(json(2)).toEqual({ city: 'Tokyo', unit: 'c' })
  })

  it('a vendor interleaving parallel calls: every block is sequential and complete when it stops', () => {
    const encoder = anthropicIngress.streamEncoder(ctx)
    const chunk = (toolCalls: unknown[], finish: string | null = null) => ({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: toolCalls }, finish_reason: finish }] }) as never
    const out = [
      chunk([{ index: 0, id: 'call_a', type: 'function', function: { name: 'Read', arguments: '' } }]),
      chunk([{ index: 1, id: 'call_b', type: 'function', function: { name: 'Grep', arguments: '{"pat' } }]),
      chunk([{ index: 0, function: { arguments: '{"file_path":' } }]),
      chunk([{ index: 1, function: { arguments: 'tern":"x"}' } }]),
      chunk([{ index: 0, function: { arguments: '"/a.ts"}' } }], 'tool_calls'),
    ].map((c) => encoder.push(c)).join('') + encoder.end(undefined)
    const events = parseSse(out).map((e) => e.data)
    const blocks = new Map<number, { name: string; json: string; stopped: boolean }>()
    for (const e of events) {
      const index = e.index as number
      if (e.type === 'content_block_start') {
        expect([...blocks.values()].every((b) => b.stopped)).toBe(true)
        blocks.set(index, { name: (e.content_block as { name: string }).name, json: '', stopped: false })
      } else if (e.type === 'content_block_delta') {
        expect(blocks.get(index)!.stopped).toBe(false)
        blocks.get(index)!.json += (e.delta as { partial_json: string }).partial_json
      } else if (e.type === 'content_block_stop') {
        blocks.get(index)!.stopped = true
      }
    }
    expect([...blocks.entries()].map(([i, b]) => [i, b.name, JSON.parse(b.json), b.stopped])).toEqual([
      [0, 'Read', { file_path: '/a.ts' }, true],
      [1, 'Grep', { pattern: 'x' }, true],
    ])
    expect(events.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'tool_use' } })
  })

  it('holds message_delta until end() even though finish_reason came first', () => {
    const encoder = anthropicIngress.streamEncoder(ctx)
    const chunks = fixtureChunks('openai-parallel-tools.chunks.txt')
    const beforeEnd = chunks.map((c) => encoder.push(c)).join('')
    expect(beforeEnd).not.toContain('message_delta')
    expect(beforeEnd).not.toContain('message_stop')
    expect(beforeEnd.endsWith('event: content_block_stop\ndata: {"type":"content_block_stop","index":2}\n\n')).toBe(true)
  })

  it('prefers the final accounting passed to end() over the usage chunk', () => {
    const chunks = fixtureChunks('openai-parallel-tools.chunks.txt')
    const events = parseSse(encodeAll(chunks, {
      inputTokens: 2000, outputTokens: 70, cachedInputTokens: 0, cacheWriteTokens: 500, reasoningTokens: 0, estimated: true,
    }))
    expect(events.at(-2)?.data.usage).toEqual({ input_tokens: 1500, cache_creation_input_tokens: 500, cache_read_input_tokens: 0, output_tokens: 70 })
  })

  it('falls back to the usage chunk when end() gets none (DeepSeek: finish and usage in one chunk)', () => {
    const chunks = fixtureChunks('deepseek-reasoning.chunks.txt')
    const events = parseSse(encodeAll(chunks, undefined))
    expect(events.map((e) => e.event).filter((e, i, all) => e !== all[i - 1])).toEqual([
      'message_start', 'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop',
    ])
    expect(events[1]?.data.content_block).toEqual({ type: 'thinking', thinking: '', signature: '' })
    const thinking = events.filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'thinking_delta')
      .map((e) => (e.data.delta as { thinking: string }).thinking).join('')
    const expectedThinking = chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')
    expect(thinking).toBe(expectedThinking)
    expect(thinking.length).toBeGreaterThan(100)
    expect(events.at(-2)?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 18, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 219 },
    })
  })

  it('emits signatures, starts a new thinking block after a signed one, and encodes redacted thinking', () => {
    const encoder = anthropicIngress.streamEncoder(ctx)
    const text = [
      chunk({ role: 'assistant', reasoning_content: 'First.' }),
      chunk({ reasoning_details: [{ type: 'thinking', thinking: '', signature: 'sig-A' }] }),
      chunk({ reasoning_details: [{ type: 'thinking', thinking: 'Second.', signature: 'sig-B' }, { type: 'redacted_thinking', data: 'opaque' }] }),
      chunk({ content: 'Answer' }, 'stop'),
    ].map((c) => encoder.push(c)).join('') + encoder.end(undefined)
    expect(parseSse(text).slice(1).map((e) => e.data)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'First.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig-A' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'Second.' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'signature_delta', signature: 'sig-B' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'redacted_thinking', data: 'opaque' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 3, delta: { type: 'text_delta', text: 'Answer' } },
      { type: 'content_block_stop', index: 3 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 } },
      { type: 'message_stop' },
    ])
  })

  it('a signed detail repeating the streamed text sends only the rest; one with other text is a block of its own', () => {
    const encoder = anthropicIngress.streamEncoder(ctx)
    const text = [
      chunk({ role: 'assistant', reasoning_content: 'Let me ' }),
      chunk({ reasoning_content: 'count.' }),
      // Bedrock at the block's stop: the whole text again, now with its signature (and here one more word).
      chunk({ reasoning_details: [{ type: 'thinking', thinking: 'Let me count. Done', signature: 'sig-A' }] }),
      chunk({ reasoning_content: 'Other.' }),
      chunk({ reasoning_details: [{ type: 'thinking', thinking: 'Unrelated.', signature: 'sig-B' }] }),
    ].map((c) => encoder.push(c)).join('') + encoder.end(undefined)
    expect(parseSse(text).slice(1, -2).map((e) => e.data)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'count.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: ' Done' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig-A' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'Other.' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'thinking_delta', thinking: 'Unrelated.' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'signature_delta', signature: 'sig-B' } },
      { type: 'content_block_stop', index: 2 },
    ])
  })

  it('maps length to max_tokens and still opens a message for an empty stream', () => {
    const encoder = anthropicIngress.streamEncoder(ctx)
    const events = parseSse(encoder.push(chunk({}, 'length')) + encoder.end(undefined))
    expect(events.map((e) => e.event)).toEqual(['message_start', 'message_delta', 'message_stop'])
    expect((events[1]?.data.delta as { stop_reason: string }).stop_reason).toBe('max_tokens')

    const empty = anthropicIngress.streamEncoder(ctx)
    const only = parseSse(empty.end(undefined))
    expect(only.map((e) => e.event)).toEqual(['message_start', 'message_delta', 'message_stop'])
    expect(String((only[0]?.data.message as { id: string }).id)).toMatch(/^msg_[0-9a-f]{32}$/)
  })

  it('renders errors in Anthropic\'s envelope and sends nothing after them', () => {
    const encoder = anthropicIngress.streamEncoder(ctx)
    encoder.push(chunk({ content: 'partial' }))
    const overloaded = new GatewayError({ status: 529, code: 'upstream_error', message: 'Overloaded' })
    expect(encoder.error(overloaded)).toBe('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n')
    expect(encoder.push(chunk({ content: 'more' }))).toBe('')
    expect(encoder.end(undefined)).toBe('')
  })
})
