import { describe, expect, it } from 'vitest'
import { chatToAnthropic, DEFAULT_MAX_TOKENS } from '../../../src/providers/anthropic/chat-to-anthropic.ts'
import type { ChatRequest } from '../../../src/core/openai-chat.ts'
import { GatewayError } from '../../../src/core/errors.ts'

const req = (over: Partial<ChatRequest>): ChatRequest => ({ model: 'claude', messages: [{ role: 'user', content: 'Hello' }], ...over })

describe('chatToAnthropic: basics', () => {
  it('translates a plain conversation with a system prompt (Anthropic docs example)', () => {
    const out = chatToAnthropic(req({
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Hello, Claude' },
      ],
    }), 'claude-sonnet-4-5', false)
    expect(out).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: DEFAULT_MAX_TOKENS,
      system: 'You are a helpful assistant.',
      messages: [{ role: 'user', content: 'Hello, Claude' }],
    })
    expect(DEFAULT_MAX_TOKENS).toBe(4096)
  })

  it('joins system and developer messages as text blocks, keeping cache_control', () => {
    const out = chatToAnthropic(req({
      messages: [
        { role: 'system', content: 'Rule one.' },
        { role: 'developer', content: [{ type: 'text', text: 'Rule two.', cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: 'Hi' },
      ],
    }), 'm', true)
    expect(out.system).toEqual([
      { type: 'text', text: 'Rule one.' },
      { type: 'text', text: 'Rule two.', cache_control: { type: 'ephemeral' } },
    ])
    expect(out.stream).toBe(true)
  })

  it('merges consecutive same-role messages so turns alternate', () => {
    const out = chatToAnthropic(req({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: [{ type: 'text', text: 'two' }] },
        { role: 'assistant', content: 'three' },
        { role: 'assistant', content: '' },
        { role: 'assistant', content: 'four' },
      ],
    }), 'm', false)
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'three' }, { type: 'text', text: 'four' }] },
    ])
  })

  it('drops stop sequences Anthropic refuses (empty or whitespace only) and keeps the rest', () => {
    expect(chatToAnthropic(req({ stop: ['\n', ' ', '', 'END', '\nObservation:'] }), 'm', false).stop_sequences).toEqual(['END', '\nObservation:'])
    expect(chatToAnthropic(req({ stop: '\n\n' }), 'm', false).stop_sequences).toBeUndefined()
  })

  it('sends an OpenAI temperature above 1 as 1, the highest Anthropic accepts', () => {
    expect(chatToAnthropic(req({ temperature: 1.6 }), 'm', false).temperature).toBe(1)
    expect(chatToAnthropic(req({ temperature: 0.7 }), 'm', false).temperature).toBe(0.7)
  })

  it('maps limits, stop, sampling, response_format and user', () => {
    const out = chatToAnthropic(req({
      max_tokens: 100,
      max_completion_tokens: 200,
      stop: 'END',
      temperature: 0.2,
      top_p: 0.9,
      user: 'user-42',
      seed: 7,
      presence_penalty: 1,
      response_format: { type: 'json_schema', json_schema: { name: 'p', schema: { type: 'object', properties: { name: { type: 'string' } } } } },
    }), 'm', false)
    expect(out).toEqual({
      model: 'm',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Hello' }],
      stop_sequences: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { name: { type: 'string' } } } } },
      metadata: { user_id: 'user-42' },
    })
    expect(chatToAnthropic(req({ max_tokens: 50, stop: ['a', 'b'] }), 'm', false)).toMatchObject({ max_tokens: 50, stop_sequences: ['a', 'b'] })
  })

  it('refuses what Anthropic cannot do instead of dropping it silently', () => {
    expect(() => chatToAnthropic(req({ n: 2 }), 'm', false)).toThrow(GatewayError)
    expect(() => chatToAnthropic(req({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }), 'm', false))
      .toThrow(/input_audio/)
    expect(() => chatToAnthropic(req({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }), 'm', false))
      .toThrow(/http\(s\) URL/)
  })

  it('never mutates the request', () => {
    const r = req({
      messages: [
        { role: 'system', content: 'S' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }], reasoning_details: [{ type: 'thinking', thinking: '', signature: 'sig' }], reasoning_content: 'why' },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' }, strict: true } }],
      reasoning_effort: 'high',
    })
    const before = structuredClone(r)
    const a = chatToAnthropic(r, 'm', false)
    const b = chatToAnthropic(r, 'm', false)
    expect(r).toEqual(before)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
  })
})

describe('chatToAnthropic: images and files', () => {
  it('turns data URLs into base64 sources and https URLs into url sources', () => {
    const out = chatToAnthropic(req({
      messages: [{
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these images?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/ant.jpg', detail: 'high' } },
        ],
      }],
    }), 'm', false)
    expect(out.messages).toEqual([{
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these images?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/ant.jpg' } },
      ],
    }])
  })

  it('turns PDF file data into a document block', () => {
    const out = chatToAnthropic(req({
      messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } }] }],
    }), 'm', false)
    expect(out.messages[0]?.content).toEqual([{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }])
  })
})

describe('chatToAnthropic: tools', () => {
  const weather = {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Get the current weather in a given location',
      parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
      strict: true,
    },
  }

  it('maps function tools to name/description/input_schema, dropping strict', () => {
    const out = chatToAnthropic(req({ tools: [weather, { type: 'function', function: { name: 'now' } }] }), 'm', false)
    expect(out.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Get the current weather in a given location',
        input_schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
      },
      { name: 'now', input_schema: { type: 'object', properties: {} } },
    ])
    expect(out.tool_choice).toBeUndefined()
  })

  it.each([
    ['auto', undefined, { type: 'auto' }],
    ['required', undefined, { type: 'any' }],
    ['none', undefined, { type: 'none' }],
    [{ type: 'function', function: { name: 'get_weather' } }, undefined, { type: 'tool', name: 'get_weather' }],
    ['required', false, { type: 'any', disable_parallel_tool_use: true }],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
    ['none', false, { type: 'none' }],
    [undefined, true, undefined],
  ] as const)('tool_choice %j with parallel_tool_calls %j', (choice, parallel, expected) => {
    const r = req({ tools: [weather] })
    if (choice !== undefined) r.tool_choice = choice as ChatRequest['tool_choice']
    if (parallel !== undefined) r.parallel_tool_calls = parallel
    expect(chatToAnthropic(r, 'm', false).tool_choice).toEqual(expected)
  })

  it('sends no tool_choice when there are no tools', () => {
    expect(chatToAnthropic(req({ tool_choice: 'required' }), 'm', false).tool_choice).toBeUndefined()
  })

  it('turns parallel tool calls and their results into tool_use and leading tool_result blocks', () => {
    const out = chatToAnthropic(req({
      messages: [
        { role: 'user', content: 'Weather in SF and NYC?' },
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' } },
            { id: 'toolu_02', type: 'function', function: { name: 'get_weather', arguments: '{not json' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: '15 degrees' },
        { role: 'tool', tool_call_id: 'toolu_02', content: [{ type: 'text', text: '22 degrees' }] },
        { role: 'user', content: 'Thanks, which is warmer?' },
      ],
    }), 'm', false)
    expect(out.messages).toEqual([
      { role: 'user', content: 'Weather in SF and NYC?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'San Francisco, CA' } },
          { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01', content: '15 degrees' },
          { type: 'tool_result', tool_use_id: 'toolu_02', content: [{ type: 'text', text: '22 degrees' }] },
          { type: 'text', text: 'Thanks, which is warmer?' },
        ],
      },
    ])
  })

  it('moves tool results before user text that came first', () => {
    const out = chatToAnthropic(req({
      messages: [
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '' } }] },
        { role: 'user', content: 'note' },
        { role: 'tool', tool_call_id: 't1', content: 'done' },
      ],
    }), 'm', false)
    expect(out.messages[1]).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 't1', content: 'done' }, { type: 'text', text: 'note' }],
    })
    expect(out.messages[0]?.content).toEqual([{ type: 'tool_use', id: 't1', name: 'f', input: {} }])
  })
})

describe('chatToAnthropic: reasoning', () => {
  it.each([
    ['minimal', 1024, 4096],
    ['low', 1024, 4096],
    ['medium', 4096, 4096 + 4096],
    ['high', 16384, 16384 + 4096],
    ['xhigh', 16384, 16384 + 4096],
  ] as const)('reasoning_effort %s -> budget %i, max_tokens %i, sampling knobs dropped', (effort, budget, maxTokens) => {
    const out = chatToAnthropic(req({ reasoning_effort: effort, temperature: 0.5, top_p: 0.5 }), 'm', false)
    expect(out.thinking).toEqual({ type: 'enabled', budget_tokens: budget })
    expect(out.max_tokens).toBe(maxTokens)
    expect(out.temperature).toBeUndefined()
    expect(out.top_p).toBeUndefined()
  })

  it('leaves thinking off for reasoning_effort none and for levels it does not know', () => {
    expect(chatToAnthropic(req({ reasoning_effort: 'none' }), 'm', false).thinking).toBeUndefined()
    expect(chatToAnthropic(req({ reasoning_effort: 'extreme' }), 'm', false).thinking).toBeUndefined()
  })

  it('keeps a client max_tokens above the budget and raises one below it', () => {
    expect(chatToAnthropic(req({ reasoning_effort: 'low', max_tokens: 8000 }), 'm', false).max_tokens).toBe(8000)
    expect(chatToAnthropic(req({ reasoning_effort: 'high', max_tokens: 2000 }), 'm', false).max_tokens).toBe(16384 + 2000)
  })

  it('leaves thinking off when a tool is forced (Anthropic rejects the combination)', () => {
    const out = chatToAnthropic(req({
      reasoning_effort: 'high',
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: 'required',
    }), 'm', false)
    expect(out.thinking).toBeUndefined()
    expect(out.max_tokens).toBe(4096)
  })

  it('leaves thinking off in a tool loop whose last assistant turn has no signed thinking', () => {
    const loop = (details: ChatRequest['messages'][number]['reasoning_details']) => chatToAnthropic(req({
      reasoning_effort: 'medium',
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }], ...(details ? { reasoning_details: details } : {}) },
        { role: 'tool', tool_call_id: 't1', content: 'r' },
      ],
    }), 'm', false)
    expect(loop(undefined).thinking).toBeUndefined()
    expect(loop([{ type: 'thinking', thinking: 't', signature: 's' }]).thinking).toEqual({ type: 'enabled', budget_tokens: 4096 })
  })

  it('passes an explicit Anthropic thinking object through', () => {
    const out = chatToAnthropic(req({ thinking: { type: 'disabled' }, reasoning_effort: 'high', temperature: 0.3 }), 'm', false)
    expect(out.thinking).toEqual({ type: 'disabled' })
    expect(out.temperature).toBe(0.3)
  })

  it('re-emits signed thinking and redacted thinking first in the assistant turn, byte for byte', () => {
    const signature = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/+Z9+/kx/jkRUPSvAz2O0bSd4T+8X8zIu/Xu/vg+RLlQK0Akw=='
    const out = chatToAnthropic(req({
      messages: [
        { role: 'user', content: 'What is the weather?' },
        {
          role: 'assistant',
          content: 'Let me check.',
          reasoning_content: 'I should call the tool.',
          reasoning_details: [
            { type: 'thinking', thinking: 'I should call the tool.', signature },
            { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP' },
            { type: 'thought_signature', signature: 'gemini-only' },
          ],
          tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: 'sunny' },
      ],
    }), 'm', false)
    expect(out.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I should call the tool.', signature },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP' },
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } },
      ],
    })
    expect(JSON.stringify(out)).toContain(JSON.stringify(signature))
  })

  it('drops reasoning_content without signed details, and unsigned thinking details', () => {
    const out = chatToAnthropic(req({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', reasoning_content: 'hidden', reasoning_details: [{ type: 'thinking', thinking: 'unsigned' }] },
        { role: 'user', content: 'q2' },
      ],
    }), 'm', false)
    expect(out.messages[1]).toEqual({ role: 'assistant', content: 'a' })
  })

  it('rejoins streamed reasoning_content with a signature-only detail', () => {
    const out = chatToAnthropic(req({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', reasoning_content: 'full text', reasoning_details: [{ type: 'thinking', thinking: '', signature: 'S' }] },
      ],
    }), 'm', false)
    expect(out.messages[1]?.content).toEqual([{ type: 'thinking', thinking: 'full text', signature: 'S' }, { type: 'text', text: 'a' }])
  })
})
