import { describe, expect, it } from 'vitest'
import { anthropicIngress } from '../../../src/ingress/anthropic/index.ts'
import type { ChatCompletion } from '../../../src/core/openai-chat.ts'
import { fixtureCompletion } from './load-fixture.ts'

const ctx = { requestedModel: 'claude-sonnet-4-6', clientWantsUsage: true }

function completion(message: ChatCompletion['choices'][number]['message'], finish: ChatCompletion['choices'][number]['finish_reason'] = 'stop'): ChatCompletion {
  return {
    id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4.1',
    choices: [{ index: 0, message, finish_reason: finish }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  }
}

describe('OpenAI chat.completion -> Anthropic message', () => {
  it('maps a tool-calling completion, with the cached-token inverse normalization', () => {
    expect(anthropicIngress.fromChat(fixtureCompletion('openai-tool-completion.json'), ctx)).toEqual({
      id: 'msg_chatcmpl-D8Z5f52zToolCall',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [
        { type: 'text', text: "I'll look up the weather in Paris." },
        { type: 'tool_use', id: 'call_Paris01', name: 'get_weather', input: { city: 'Paris' } },
        // Truncated arguments cannot be repaired; Anthropic requires an object.
        { type: 'tool_use', id: 'call_Broken02', name: 'get_weather', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      // prompt_tokens 2006 includes 1920 cached: Anthropic's input_tokens is the uncached 86.
      usage: { input_tokens: 86, cache_creation_input_tokens: 0, cache_read_input_tokens: 1920, output_tokens: 300 },
    })
  })

  it('subtracts cache writes too', () => {
    const c = completion({ role: 'assistant', content: 'ok' })
    c.usage = { prompt_tokens: 5000, completion_tokens: 42, total_tokens: 5042, prompt_tokens_details: { cached_tokens: 3000, cache_write_tokens: 1500 } }
    expect(anthropicIngress.fromChat(c, ctx).usage).toEqual({
      input_tokens: 500, cache_creation_input_tokens: 1500, cache_read_input_tokens: 3000, output_tokens: 42,
    })
  })

  it('maps DeepSeek reasoning_content to a thinking block before the text', () => {
    const body = anthropicIngress.fromChat(fixtureCompletion('deepseek-reasoning.json'), ctx)
    const content = body.content as Array<Record<string, unknown>>
    expect(content.map((b) => b.type)).toEqual(['thinking', 'text'])
    expect(content[0]?.signature).toBe('')
    expect(String(content[0]?.thinking).startsWith('We are asked: "How many \'r\'s are in the word \'strawberry\'?"')).toBe(true)
    expect(content[1]).toEqual({ type: 'text', text: 'The word "strawberry" contains three instances of the letter "r": one after the "t" and two before the "y".' })
    expect(body.stop_reason).toBe('end_turn')
    expect(body.usage).toEqual({ input_tokens: 18, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 345 })
  })

  it('restores signed and redacted thinking from reasoning_details', () => {
    const body = anthropicIngress.fromChat(completion({
      role: 'assistant',
      content: 'Done.',
      reasoning_content: 'Let me think.',
      reasoning_details: [
        { type: 'thinking', thinking: 'Let me think.', signature: 'sig-1' },
        { type: 'redacted_thinking', data: 'opaque' },
      ],
    }), ctx)
    expect(body.content).toEqual([
      { type: 'thinking', thinking: 'Let me think.', signature: 'sig-1' },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'text', text: 'Done.' },
    ])
  })

  it('joins reasoning text with a signature-only detail', () => {
    const body = anthropicIngress.fromChat(completion({
      role: 'assistant', content: 'x', reasoning_content: 'Thought', reasoning_details: [{ type: 'thinking', thinking: '', signature: 'sig' }],
    }), ctx)
    expect(body.content).toEqual([{ type: 'thinking', thinking: 'Thought', signature: 'sig' }, { type: 'text', text: 'x' }])
  })

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ] as const)('finish_reason %s -> stop_reason %s', (finish, expected) => {
    expect(anthropicIngress.fromChat(completion({ role: 'assistant', content: 'x' }, finish), ctx).stop_reason).toBe(expected)
  })

  it('reports tool_use when a vendor finishes a tool turn with stop', () => {
    const body = anthropicIngress.fromChat(completion({
      role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '' } }],
    }, 'stop'), ctx)
    expect(body.stop_reason).toBe('tool_use')
    expect(body.content).toEqual([{ type: 'tool_use', id: 'c1', name: 'f', input: {} }])
  })

  it('maps an OpenAI refusal to a refusal', () => {
    const body = anthropicIngress.fromChat(completion({ role: 'assistant', content: null, refusal: "I can't help with that." }), ctx)
    expect(body.content).toEqual([{ type: 'text', text: "I can't help with that." }])
    expect(body.stop_reason).toBe('refusal')
  })

  it('reports zero usage when the vendor sent none', () => {
    const c = completion({ role: 'assistant', content: '' })
    delete c.usage
    const body = anthropicIngress.fromChat(c, ctx)
    expect(body.content).toEqual([])
    expect(body.usage).toEqual({ input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 })
  })
})
