import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { anthropicToChat } from '../../../src/providers/anthropic/anthropic-to-chat.ts'
import { chatToAnthropic } from '../../../src/providers/anthropic/chat-to-anthropic.ts'
import { GatewayError } from '../../../src/core/errors.ts'
import { fixtureUrl } from './helpers.ts'

const load = (name: string): unknown => JSON.parse(readFileSync(fixtureUrl(name), 'utf8'))

describe('anthropicToChat', () => {
  it('translates a recorded text response', () => {
    const { completion, usage } = anthropicToChat(load('anthropic-text.json'), 1700000000)
    expect(completion).toEqual({
      id: 'msg_01VdEjxAP5ahtHKrrRdNBteQ',
      object: 'chat.completion',
      created: 1700000000,
      model: 'claude-sonnet-4-5-20250929',
      choices: [{
        index: 0,
        message: { role: 'assistant', content: "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?" },
        finish_reason: 'stop',
        logprobs: null,
      }],
      usage: { prompt_tokens: 12, completion_tokens: 29, total_tokens: 41 },
    })
    expect(usage).toEqual({ inputTokens: 12, outputTokens: 29, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false })
  })

  it('translates a recorded tool call without arguments', () => {
    const { completion } = anthropicToChat(load('anthropic-tool-no-args.json'), 1)
    const choice = completion.choices[0]
    expect(choice?.finish_reason).toBe('tool_calls')
    expect(choice?.message.tool_calls).toEqual([{ id: 'toolu_01LRmxn9vGM1d2DZSDBowdZ1', type: 'function', function: { name: 'updateIssueList', arguments: '{}' } }])
    expect(choice?.message.content).toMatch(/^<thinking>\nThe updateIssueList tool/)
  })

  it('translates parallel tool calls in order', () => {
    const { completion } = anthropicToChat(load('parallel-tools.json'), 1)
    expect(completion.choices[0]?.message).toEqual({
      role: 'assistant',
      content: "I'll check both cities.",
      tool_calls: [
        { id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' } },
        { id: 'toolu_02', type: 'function', function: { name: 'get_time', arguments: '{"timezone":"America/New_York"}' } },
      ],
    })
  })

  it('translates thinking, redacted thinking and cached usage', () => {
    const { completion, usage } = anthropicToChat(load('thinking-tool-use.json'), 1)
    const message = completion.choices[0]?.message
    expect(message?.reasoning_content).toBe('The user wants the weather in Paris. I should call get_weather.')
    expect(message?.reasoning_details).toEqual([
      { type: 'thinking', thinking: 'The user wants the weather in Paris. I should call get_weather.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/+Z9+/kx/jkRUPSvAz2O0bSd4T+8X8zIu/Xu/vg+RLlQK0Akw==' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB8URj2pLmN3kF8/dW5hR7xz' },
    ])
    expect(usage).toEqual({ inputTokens: 4250, outputTokens: 180, cachedInputTokens: 3000, cacheWriteTokens: 1200, reasoningTokens: 0, estimated: false })
    expect(completion.usage).toEqual({
      prompt_tokens: 4250,
      completion_tokens: 180,
      total_tokens: 4430,
      prompt_tokens_details: { cached_tokens: 3000, cache_write_tokens: 1200 },
    })
  })

  it('round-trips the thinking blocks to the next request byte for byte', () => {
    const response = load('thinking-tool-use.json') as { content: unknown[] }
    const { completion } = anthropicToChat(response, 1)
    const assistant = completion.choices[0]!.message
    const next = chatToAnthropic({
      model: 'claude',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        assistant,
        { role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: '18 degrees, sunny' },
      ],
    }, 'claude-sonnet-4-5', false)
    const sent = next.messages[1]?.content
    expect(Array.isArray(sent)).toBe(true)
    // The assistant turn is exactly the vendor's content, in the vendor's order.
    expect(JSON.stringify(sent)).toBe(JSON.stringify(response.content))
  })

  it('maps a refusal with its explanation', () => {
    const { completion, usage } = anthropicToChat(load('anthropic-refusal.json'), 1)
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: null, refusal: "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy." },
      finish_reason: 'content_filter',
      logprobs: null,
    })
    expect(usage?.outputTokens).toBe(5)
  })

  it('a refusal without an explanation: a placeholder only when the model wrote no text', () => {
    const refused = (content: unknown[]) => anthropicToChat({ id: 'msg_r', type: 'message', role: 'assistant', model: 'claude-x', content, stop_reason: 'refusal', usage: { input_tokens: 5, output_tokens: 2 } }, 1).completion.choices[0]?.message
    expect(refused([{ type: 'text', text: 'I cannot' }])).toEqual({ role: 'assistant', content: 'I cannot' })
    expect(refused([])).toEqual({ role: 'assistant', content: null, refusal: 'The model declined to respond.' })
  })

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    ['model_context_window_exceeded', 'length'],
  ])('stop_reason %s -> finish_reason %s', (stopReason, finish) => {
    const { completion } = anthropicToChat({ id: 'm', model: 'x', content: [{ type: 'text', text: 'hi' }], stop_reason: stopReason, usage: { input_tokens: 1, output_tokens: 1 } }, 1)
    expect(completion.choices[0]?.finish_reason).toBe(finish)
  })

  it('reads thinking tokens from output_tokens_details and skips server-tool blocks', () => {
    const { completion, usage } = anthropicToChat({
      id: 'm', model: 'x', stop_reason: 'end_turn',
      content: [
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } },
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
        { type: 'text', text: 'Found ', citations: [{ type: 'web_search_result_location', url: 'https://x' }] },
        { type: 'text', text: 'it.' },
      ],
      usage: { input_tokens: 10, output_tokens: 30, output_tokens_details: { thinking_tokens: 12 } },
    }, 1)
    expect(completion.choices[0]?.message).toEqual({ role: 'assistant', content: 'Found it.' })
    expect(usage?.reasoningTokens).toBe(12)
    expect(completion.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 12 })
  })

  it('rejects a body that is not a message', () => {
    expect(() => anthropicToChat({ type: 'error' }, 1)).toThrow(GatewayError)
  })
})
