import { describe, expect, it } from 'vitest'
import { createChatStreamTranslator } from '../../../src/providers/anthropic/stream-to-chat.ts'
import { chatToAnthropic } from '../../../src/providers/anthropic/chat-to-anthropic.ts'
import { chunksOf, eventFromLine, eventsFromText, loadEvents, reassemble, run } from './helpers.ts'

const CREATED = 1750000000
const translate = (name: string, clientWantsUsage = true) => {
  const t = createChatStreamTranslator({ clientWantsUsage }, CREATED)
  const frames = run(t, loadEvents(name))
  return { t, chunks: chunksOf(frames) }
}

describe('Anthropic stream -> OpenAI chunks', () => {
  it('translates a recorded text stream, ignoring pings', () => {
    const { t, chunks } = translate('anthropic-text.chunks.txt')
    expect(chunks[0]).toEqual({
      id: 'msg_01QC4g3HwBThD4BaNtBckFDJ', object: 'chat.completion.chunk', created: CREATED, model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    })
    // role, 6 text deltas, finish, usage: the ping produced nothing.
    expect(chunks).toHaveLength(9)
    const r = reassemble(chunks)
    expect(r.roles).toEqual(['assistant'])
    expect(r.content).toBe("Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?")
    expect(r.finish).toEqual(['stop'])
    expect(chunks.at(-1)).toEqual({
      id: 'msg_01QC4g3HwBThD4BaNtBckFDJ', object: 'chat.completion.chunk', created: CREATED, model: 'claude-sonnet-4-5-20250929',
      choices: [], usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 },
    })
    expect(t.usage()).toEqual({ inputTokens: 12, outputTokens: 30, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false })
    expect(t.responseId?.()).toBe('msg_01QC4g3HwBThD4BaNtBckFDJ')
    expect(t.responseModel?.()).toBe('claude-sonnet-4-5-20250929')
    expect(t.finishReasons?.()).toEqual(['stop'])
    expect(t.error()).toBeUndefined()
    expect(chunks.every(c => c.created === CREATED)).toBe(true)
  })

  it('omits the usage chunk when the client did not ask, but still reports usage', () => {
    const { t, chunks } = translate('anthropic-text.chunks.txt', false)
    expect(chunks.some(c => c.usage)).toBe(false)
    expect(t.usage()?.outputTokens).toBe(30)
  })

  it('translates a recorded tool call with no arguments into a parseable call', () => {
    const { chunks } = translate('anthropic-tool-no-args.chunks.txt')
    const toolChunks = chunks.filter(c => c.choices[0]?.delta.tool_calls)
    expect(toolChunks.map(c => c.choices[0]?.delta.tool_calls)).toEqual([
      [{ index: 0, id: 'toolu_01QE1WLsSVp5hy5Q3GmGTmjP', type: 'function', function: { name: 'updateIssueList', arguments: '' } }],
      [{ index: 0, function: { arguments: '{}' } }],
    ])
    const r = reassemble(chunks)
    expect(r.content).toBe("I'll update the issue list for you.")
    expect(r.toolCalls).toEqual([{ id: 'toolu_01QE1WLsSVp5hy5Q3GmGTmjP', name: 'updateIssueList', arguments: '{}' }])
    expect(r.finish).toEqual(['tool_calls'])
    expect(r.usage).toEqual({ prompt_tokens: 565, completion_tokens: 48, total_tokens: 613 })
  })

  it('indexes several tool_use blocks 0, 1 in order and streams their arguments', () => {
    const lines = [
      '{"type":"message_start","message":{"id":"msg_p","model":"claude-x","usage":{"input_tokens":10,"output_tokens":1}}}',
      '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Both."}}',
      '{"type":"content_block_stop","index":0}',
      '{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"get_weather","input":{}}}',
      '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\":"}}',
      '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"SF\\"}"}}',
      '{"type":"content_block_stop","index":1}',
      '{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"get_time","input":{}}}',
      '{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"tz\\":\\"NY\\"}"}}',
      '{"type":"content_block_stop","index":2}',
      '{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":40}}',
      '{"type":"message_stop"}',
    ]
    const t = createChatStreamTranslator({ clientWantsUsage: false }, CREATED)
    const r = reassemble(chunksOf(run(t, lines.map(eventFromLine))))
    expect(r.toolCalls).toEqual([
      { id: 'toolu_a', name: 'get_weather', arguments: '{"location": "SF"}' },
      { id: 'toolu_b', name: 'get_time', arguments: '{"tz":"NY"}' },
    ])
    expect(r.content).toBe('Both.')
    expect(r.finish).toEqual(['tool_calls'])
  })

  it('streams recorded thinking as reasoning_content and the signature as a detail, which round-trips', () => {
    const { chunks } = translate('anthropic-clear-thinking.1.chunks.txt')
    const r = reassemble(chunks)
    expect(r.reasoning).toBe('The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185')
    const signature = 'EvQBCkYICxgCKkAxhD4NUKFzudtZ6NzbZdEiBACIScTzqjPViM596iWLZIk4EFKYYBj3B6Ptl3b0dcQv/VeJBNbejNWIWRBn+KPNEgz6HWtKx7p+QRgKsEoaDGjsiqfht7gTRFYHiyIwD1VSmNqHxv3wy8KEMP+LYb/TC4UH3H97tuoaADARFFcA0phdfxnzKQxFnc9lwY+dKlzUsaKSUAFeu1bDL5ikZJ1vL0Fkz6JjoFke0L/wOJRIUDUlDUOFJ1tZ3ea7g6LGE/5hwuvWgLwewdcm64d+43l7F57XrOmqNd6flI2K/oPr/4yzNgvi/EhT6Ca17BgB'
    expect(r.details).toEqual([{ type: 'thinking', thinking: '', signature }])
    expect(r.content).toBe('925 ÷ 5 = 185')
    expect(r.usage).toEqual({ prompt_tokens: 69, completion_tokens: 53, total_tokens: 122 })

    // The client sends back what it rebuilt; Anthropic gets the full thinking block with the same signature.
    const next = chatToAnthropic({
      model: 'claude',
      messages: [
        { role: 'user', content: 'Divide by 5' },
        { role: 'assistant', content: r.content, reasoning_content: r.reasoning, reasoning_details: r.details },
        { role: 'user', content: 'Thanks' },
      ],
    }, 'claude-sonnet-4-5', false)
    expect(next.messages[1]?.content).toEqual([
      { type: 'thinking', thinking: r.reasoning, signature },
      { type: 'text', text: '925 ÷ 5 = 185' },
    ])
  })

  it('merges usage from message_delta input_tokens (recorded)', () => {
    const { t, chunks } = translate('anthropic-message-delta-input-tokens.chunks.txt')
    expect(reassemble(chunks).content).toBe('pong')
    expect(t.usage()).toEqual({ inputTokens: 61, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false })
  })

  it('takes cache reads and writes from the final message_delta (recorded, with server tools skipped)', () => {
    const { t, chunks } = translate('anthropic-code-execution-20260120-prompt-cache.1.chunks.txt')
    const r = reassemble(chunks)
    expect(r.toolCalls).toEqual([])
    expect(r.content).toBe('The sum of the squares of the numbers 1 through 12 is **650**.')
    expect(t.usage()).toEqual({ inputTokens: 6 + 6289 + 3337, outputTokens: 198, cachedInputTokens: 6289, cacheWriteTokens: 3337, reasoningTokens: 0, estimated: false })
    expect(r.usage).toEqual({ prompt_tokens: 9632, completion_tokens: 198, total_tokens: 9830, prompt_tokens_details: { cached_tokens: 6289, cache_write_tokens: 3337 } })
  })

  it('ignores a duplicate message_start for the same message (recorded)', () => {
    const { t, chunks } = translate('duplicate-message-start.chunks.txt')
    const r = reassemble(chunks)
    expect(r.roles).toEqual(['assistant'])
    expect(r.content).toBe('Hello, World!')
    expect(t.usage()).toMatchObject({ inputTokens: 17, outputTokens: 227 })
    expect(t.error()).toBeUndefined()
  })

  it('fails a spliced stream (a different message_start while one is open) without emitting the second message', () => {
    const { t, chunks } = translate('spliced-message-start.chunks.txt')
    const r = reassemble(chunks)
    expect(t.error()).toMatchObject({ status: 502, kind: 'server', code: 'invalid_stream' })
    expect(r.toolCalls).toEqual([{ id: 'toolu_first', name: 'test-tool', arguments: '{"value":"Spark' }])
    expect(r.finish).toEqual([])
    expect(chunks.some(c => c.usage)).toBe(false)
  })

  it('maps a recorded refusal to content_filter with the explanation', () => {
    const { chunks } = translate('anthropic-refusal.chunks.txt')
    const r = reassemble(chunks)
    expect(r.finish).toEqual(['content_filter'])
    expect(r.refusal).toBe("This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.")
  })

  it('a refusal without an explanation: a placeholder only when the model wrote no text', () => {
    const refusal = (text: string) => {
      const lines = ['{"type":"message_start","message":{"id":"msg_r","model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}']
      if (text) lines.push('{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}', `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${text}"}}`)
      lines.push('{"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null},"usage":{"output_tokens":2}}')
      return reassemble(chunksOf(run(createChatStreamTranslator({ clientWantsUsage: false }, CREATED), eventsFromText(lines.join('\n')))))
    }
    expect(refusal('I cannot')).toMatchObject({ content: 'I cannot', refusal: undefined, finish: ['content_filter'] })
    expect(refusal('')).toMatchObject({ content: '', refusal: 'The model declined to respond.', finish: ['content_filter'] })
  })

  it('stops at a mid-stream error event and reports it', () => {
    const events = eventsFromText([
      '{"type":"message_start","message":{"id":"msg_e","model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}',
      '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}',
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" never sent"}}',
    ].join('\n'))
    const t = createChatStreamTranslator({ clientWantsUsage: true }, CREATED)
    const chunks = chunksOf(run(t, events))
    expect(reassemble(chunks).content).toBe('Partial')
    expect(chunks).toHaveLength(2)
    expect(t.error()).toEqual({ status: 503, code: 'overloaded_error', type: 'overloaded_error', message: 'Overloaded', kind: 'overloaded' })
    expect(t.usage()).toMatchObject({ inputTokens: 5 })
  })

  it('reports a stream cut before message_stop', () => {
    const events = loadEvents('anthropic-text.chunks.txt').slice(0, 5)
    const t = createChatStreamTranslator({ clientWantsUsage: true }, CREATED)
    const chunks = chunksOf(run(t, events))
    expect(chunks.some(c => c.usage)).toBe(false)
    expect(t.error()).toMatchObject({ code: 'incomplete_stream', kind: 'server' })
  })

  it('emits redacted thinking as a reasoning detail', () => {
    const events = eventsFromText([
      '{"type":"message_start","message":{"id":"msg_r","model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}',
      '{"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":"EmwKAhgB"}}',
      '{"type":"content_block_stop","index":0}',
      '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}',
      '{"type":"message_stop"}',
    ].join('\n'))
    const r = reassemble(chunksOf(run(createChatStreamTranslator({ clientWantsUsage: false }, CREATED), events)))
    expect(r.details).toEqual([{ type: 'redacted_thinking', data: 'EmwKAhgB' }])
  })
})
