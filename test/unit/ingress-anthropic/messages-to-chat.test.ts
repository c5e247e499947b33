import { describe, expect, it } from 'vitest'
import { anthropicIngress, countTokensRequestToChat } from '../../../src/ingress/anthropic/index.ts'
import { GatewayError } from '../../../src/core/errors.ts'
import type { JsonObject } from '../../../src/core/json.ts'
import { fixtureJson } from './load-fixture.ts'

const toChat = anthropicIngress.toChat

function base(extra: JsonObject = {}): JsonObject {
  return { model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, Claude' }], ...extra }
}

function rejection(body: JsonObject): GatewayError {
  try {
    toChat(body)
  } catch (err) {
    if (err instanceof GatewayError) return err
    throw err
  }
  throw new Error('expected a GatewayError')
}

describe('Anthropic Messages -> OpenAI Chat: the documented basic request', () => {
  it('maps model, max_tokens and a string user message', () => {
    expect(toChat(base())).toEqual({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'Hello, Claude' }],
      max_completion_tokens: 1024,
    })
  })

  it('maps sampling, stop sequences, metadata and streaming', () => {
    const chat = toChat(base({
      temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ['\n\nHuman:'], metadata: { user_id: 'user-42' }, stream: true,
    }))
    expect(chat).toEqual({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'Hello, Claude' }],
      max_completion_tokens: 1024,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['\n\nHuman:'],
      user: 'user-42',
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('never mutates the client body', () => {
    const body = fixtureJson('claude-code-request.json')
    const copy = structuredClone(body)
    toChat(body)
    expect(body).toEqual(copy)
  })
})

describe('the Claude Code request shape', () => {
  const chat = toChat(fixtureJson('claude-code-request.json'))

  it('joins the system blocks into one system message and drops cache_control', () => {
    expect(chat.messages[0]).toEqual({
      role: 'system',
      content: 'x-anthropic-billing-header: cc_version=2.1.330; cc_entrypoint=sdk-cli\n\n'
        + "You are Claude Code, Anthropic's official CLI for Claude.\n\nUse the tools available to you to assist the user.",
    })
  })

  it('translates the whole conversation in order', () => {
    expect(chat.messages.slice(1)).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: "<system-reminder>\nToday's date is 2026-11-03.\n</system-reminder>" },
          { type: 'text', text: 'List the open issues in the tracker' },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me find the tracker tools.',
        tool_calls: [{
          id: 'toolu_01ToolSearch', type: 'function',
          function: { name: 'ToolSearch', arguments: '{"query":"select:mcp__tracker__list_issues"}' },
        }],
        reasoning_content: 'The issue tracker tools are deferred; search for them.',
        reasoning_details: [{ type: 'thinking', thinking: 'The issue tracker tools are deferred; search for them.', signature: 'EqQBCkYIBxgCKkC0sig==' }],
      },
      { role: 'tool', tool_call_id: 'toolu_01ToolSearch', content: 'Tool available: mcp__tracker__list_issues' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_02List', type: 'function', function: { name: 'mcp__tracker__list_issues', arguments: '{"state":"open"}' } }],
        reasoning_details: [{ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT' }],
      },
      { role: 'tool', tool_call_id: 'toolu_02List', content: '#12 Login fails\n#15 Slow search' },
    ])
  })

  it('sends deferred tools as plain functions, strips $schema and drops server tools', () => {
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'Bash',
          parameters: {
            type: 'object',
            properties: { command: { type: 'string', description: 'The command to execute' } },
            required: ['command'],
            additionalProperties: false,
          },
          description: 'Executes a given bash command.',
        },
      },
      {
        type: 'function',
        function: {
          name: 'ToolSearch',
          parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
          description: 'Fetches full schema definitions for deferred tools.',
        },
      },
      {
        type: 'function',
        function: {
          name: 'mcp__tracker__list_issues',
          parameters: { type: 'object', properties: { state: { type: 'string', enum: ['open', 'closed'] } } },
          description: 'List issues in the tracker',
        },
      },
    ])
    expect(chat.tool_choice).toBe('auto')
  })

  it('maps adaptive thinking with output_config.effort, passes metadata.user_id verbatim, drops context_management', () => {
    expect(chat.reasoning_effort).toBe('high')
    expect(chat.user).toBe(
      '{"device_id":"3f9a0c1e7b2d4a6f8e0c1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f3a","account_uuid":"","session_id":"6a1f4e2b-9c3d-4e8f-a7b6-5d4c3b2a1f0e"}',
    )
    expect(chat.max_completion_tokens).toBe(32000)
    expect(chat.stream).toBe(true)
    expect(chat.stream_options).toEqual({ include_usage: true })
    expect(Object.keys(chat).sort()).toEqual([
      'max_completion_tokens', 'messages', 'model', 'reasoning_effort', 'stream', 'stream_options', 'tool_choice', 'tools', 'user',
    ])
  })
})

describe('content blocks', () => {
  it('maps base64 and url images to image_url parts', () => {
    const chat = toChat(base({
      messages: [{
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
          { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/ant.jpg' } },
          { type: 'text', text: 'Compare these images.' },
        ],
      }],
    }))
    expect(chat.messages).toEqual([{
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
        { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/ant.jpg' } },
        { type: 'text', text: 'Compare these images.' },
      ],
    }])
  })

  it('maps a base64 PDF to a file part and text documents to text', () => {
    const chat = toChat(base({
      messages: [{
        role: 'user',
        content: [
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQ=' }, cache_control: { type: 'ephemeral' } },
          { type: 'document', title: 'Notes', source: { type: 'text', media_type: 'text/plain', data: 'The grass is green.' } },
          { type: 'document', source: { type: 'content', content: [{ type: 'text', text: 'The sky is blue.' }] } },
        ],
      }],
    }))
    expect(chat.messages[0]?.content).toEqual([
      { type: 'file', file: { filename: 'document.pdf', file_data: 'data:application/pdf;base64,JVBERi0xLjQ=' } },
      { type: 'text', text: 'Notes\n\nThe grass is green.' },
      { type: 'text', text: 'The sky is blue.' },
    ])
  })

  it('puts tool results first, marks errors, and moves tool images into a following user message', () => {
    const chat = toChat(base({
      messages: [
        { role: 'assistant', content: [
          { type: 'tool_use', id: 'toolu_A', name: 'screenshot', input: {} },
          { type: 'tool_use', id: 'toolu_B', name: 'read_file', input: { path: '/nope' } },
        ] },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: 'toolu_A', content: [
            { type: 'text', text: 'Captured.' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ] },
          { type: 'tool_result', tool_use_id: 'toolu_B', content: 'ENOENT: no such file', is_error: true },
          { type: 'text', text: 'What do you see?' },
        ] },
      ],
    }))
    expect(chat.messages).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'toolu_A', type: 'function', function: { name: 'screenshot', arguments: '{}' } },
          { id: 'toolu_B', type: 'function', function: { name: 'read_file', arguments: '{"path":"/nope"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_A', content: 'Captured.' },
      { role: 'tool', tool_call_id: 'toolu_B', content: 'Error: ENOENT: no such file' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Attachments returned by tool call toolu_A:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'text', text: 'What do you see?' },
        ],
      },
    ])
  })

  it('keeps a tool result with no content as an empty tool message', () => {
    const chat = toChat(base({
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_X' }] }],
    }))
    expect(chat.messages).toEqual([{ role: 'tool', tool_call_id: 'toolu_X', content: '' }])
  })

  it('joins assistant text blocks split by citations and drops server-tool blocks', () => {
    const chat = toChat(base({
      messages: [
        { role: 'user', content: 'Search it' },
        { role: 'assistant', content: [
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'ant colonies' } },
          { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
          { type: 'text', text: 'Ants live in ' },
          { type: 'text', text: 'colonies', citations: [{ type: 'web_search_result_location', url: 'https://x', title: 'x', cited_text: 'c', encrypted_index: 'e' }] },
          { type: 'text', text: '.' },
        ] },
      ],
    }))
    expect(chat.messages[1]).toEqual({ role: 'assistant', content: 'Ants live in colonies.' })
  })
})

describe('tools, tool_choice and output settings', () => {
  const tools = [{ name: 'get_weather', description: 'Get the weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }]

  it.each([
    [{ type: 'auto' }, 'auto'],
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [{ type: 'tool', name: 'get_weather' }, { type: 'function', function: { name: 'get_weather' } }],
  ])('tool_choice %j -> %j', (choice, expected) => {
    expect(toChat(base({ tools, tool_choice: choice })).tool_choice).toEqual(expected)
  })

  it('maps disable_parallel_tool_use to parallel_tool_calls false', () => {
    const chat = toChat(base({ tools, tool_choice: { type: 'any', disable_parallel_tool_use: true } }))
    expect(chat.tool_choice).toBe('required')
    expect(chat.parallel_tool_calls).toBe(false)
  })

  it('omits tools and tool_choice when only server tools were sent', () => {
    const chat = toChat(base({
      tools: [{ type: 'bash_20250124', name: 'bash' }, { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
        { type: 'code_execution_20250825', name: 'code_execution' }, { type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' }],
      tool_choice: { type: 'auto' },
    }))
    expect(chat.tools).toBeUndefined()
    expect(chat.tool_choice).toBeUndefined()
  })

  it('does not force a tool that was dropped as a server tool', () => {
    const chat = toChat(base({ tools: [...tools, { type: 'web_search_20250305', name: 'web_search' }], tool_choice: { type: 'tool', name: 'web_search' } }))
    expect(chat.tools?.map((t) => t.function.name)).toEqual(['get_weather'])
    expect(chat.tool_choice).toBeUndefined()
  })

  it.each([
    [{ type: 'enabled', budget_tokens: 1024 }, undefined, 'low'],
    [{ type: 'enabled', budget_tokens: 2048 }, undefined, 'low'],
    [{ type: 'enabled', budget_tokens: 8192 }, undefined, 'medium'],
    [{ type: 'enabled', budget_tokens: 8193 }, undefined, 'high'],
    [{ type: 'adaptive' }, undefined, 'medium'],
    [{ type: 'adaptive' }, { effort: 'low' }, 'low'],
    [{ type: 'adaptive' }, { effort: 'max' }, 'high'],
    [undefined, { effort: 'medium' }, 'medium'],
    [{ type: 'disabled' }, { effort: 'high' }, undefined],
    [{ type: 'disabled' }, undefined, undefined],
  ])('thinking %j with output_config %j -> reasoning_effort %s', (thinking, outputConfig, expected) => {
    const extra: JsonObject = {}
    if (thinking) extra.thinking = thinking
    if (outputConfig) extra.output_config = outputConfig
    expect(toChat(base(extra)).reasoning_effort).toBe(expected)
  })

  it('maps output_config.format to a strict json_schema response_format without $schema', () => {
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { title: { type: 'string' } }, required: ['title'], additionalProperties: false }
    const chat = toChat(base({ thinking: { type: 'disabled' }, output_config: { format: { type: 'json_schema', schema } } }))
    expect(chat.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'], additionalProperties: false }, strict: true },
    })
    expect(chat.reasoning_effort).toBeUndefined()
  })

  it('drops container, mcp_servers, service_tier, context_management and top-level cache_control', () => {
    const chat = toChat(base({
      container: 'container_011CUy', mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'ex' }],
      service_tier: 'auto', context_management: { edits: [] }, cache_control: { type: 'ephemeral' }, inference_geo: 'us',
    }))
    expect(chat).toEqual({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hello, Claude' }], max_completion_tokens: 1024 })
  })
})

describe('validation names the field', () => {
  it.each([
    [{ max_tokens: 1024, messages: [] }, 'model'],
    [{ model: 'm', max_tokens: 1024, messages: 'hi' }, 'messages'],
    [{ model: 'm', messages: [] }, 'max_tokens'],
    [{ model: 'm', max_tokens: 0, messages: [] }, 'max_tokens'],
    [{ model: 'm', max_tokens: 12.5, messages: [] }, 'max_tokens'],
    [{ model: 'm', max_tokens: 10, messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    [{ model: 'm', max_tokens: 10, messages: [{ role: 'user' }] }, 'messages[0].content'],
    [{ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' },
      { role: 'user', content: [{ type: 'bogus' }] }] }, 'messages[2].content[0].type'],
    [{ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [{ text: 'no type' }] }] }, 'messages[0].content[0].type'],
    [{ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'thinking', thinking: 'x' }] }] }, 'messages[0].content[0].type'],
    [{ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] },
      'messages[0].content[0].source.type'],
    [{ model: 'm', max_tokens: 10, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: [] }] }] },
      'messages[0].content[0].input'],
    [{ model: 'm', max_tokens: 10, messages: [], system: [{ type: 'image' }] }, 'system[0].type'],
    [{ model: 'm', max_tokens: 10, messages: [], tools: [{ name: 'x' }] }, 'tools[0].input_schema'],
    [{ model: 'm', max_tokens: 10, messages: [], tool_choice: { type: 'sometimes' } }, 'tool_choice.type'],
    [{ model: 'm', max_tokens: 10, messages: [], thinking: { type: 'enabled' } }, 'thinking.budget_tokens'],
    [{ model: 'm', max_tokens: 10, messages: [], output_config: { effort: 'extreme' } }, 'output_config.effort'],
    [{ model: 'm', max_tokens: 10, messages: [], stream: 'yes' }, 'stream'],
    [{ model: 'm', max_tokens: 10, messages: [], metadata: { user_id: 7 } }, 'metadata.user_id'],
  ])('%j is rejected at %s', (body, field) => {
    const err = rejection(body as JsonObject)
    expect(err.status).toBe(400)
    expect(err.code).toBe('invalid_request')
    expect(err.param).toBe(field)
    expect(err.message.startsWith(`${field}:`)).toBe(true)
  })
})

describe('count_tokens bodies', () => {
  it('translate without max_tokens and never stream', () => {
    const chat = countTokensRequestToChat({
      model: 'claude-sonnet-4-6',
      system: 'You are a scientist',
      messages: [{ role: 'user', content: 'Hello, Claude' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
    })
    expect(chat).toEqual({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'system', content: 'You are a scientist' }, { role: 'user', content: 'Hello, Claude' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    })
  })

  it('still validate the rest of the body', () => {
    expect(() => countTokensRequestToChat({ model: 'm', messages: [{ role: 'user', content: 5 }] })).toThrow('messages[0].content: must be an array')
  })
})
