import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../../src/core/json.ts'
import type { ChatMessage, ChatRequest } from '../../../src/core/openai-chat.ts'
import { chatToBedrock } from '../../../src/providers/bedrock/request.ts'
import { bedrockToChat } from '../../../src/providers/bedrock/response.ts'
import { bedrockAdapter } from '../../../src/providers/bedrock/index.ts'
import { signBedrockRequest } from '../../../src/providers/bedrock/sign.ts'
import type { AttemptInput } from '../../../src/providers/types.ts'

const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0'

/** The assistant message a client gets back for a recorded Converse response. */
const recordedAnswer = (name: string): ChatMessage => {
  const body = JSON.parse(readFileSync(new URL(`../../fixtures/bedrock/${name}`, import.meta.url), 'utf8')) as JsonObject
  const message = bedrockToChat(body, 'm', 1, 'id').completion.choices[0]?.message
  return { ...message, role: 'assistant' } as ChatMessage
}

describe('chatToBedrock', () => {
  it('maps system, messages, inference config and tools', () => {
    const req: ChatRequest = {
      model: 'x',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } }] },
      ],
      max_tokens: 512, temperature: 0.5, top_p: 0.9, stop: ['END'],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'required',
    }
    expect(chatToBedrock(req, MODEL)).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'Look' }, { image: { format: 'jpeg', source: { bytes: '/9j/4AAQ' } } }] }],
      inferenceConfig: { maxTokens: 512, temperature: 0.5, topP: 0.9, stopSequences: ['END'] },
      toolConfig: {
        tools: [{ toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }],
        toolChoice: { any: {} },
      },
    })
  })

  it('maps tool_choice auto / function / none', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'f' } }]
    const base = { model: 'x', messages: [{ role: 'user' as const, content: 'q' }], tools }
    expect(chatToBedrock({ ...base, tool_choice: 'auto' }, MODEL)['toolConfig']).toEqual({ tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }], toolChoice: { auto: {} } })
    expect((chatToBedrock({ ...base, tool_choice: { type: 'function', function: { name: 'f' } } }, MODEL)['toolConfig'] as Record<string, unknown>)['toolChoice']).toEqual({ tool: { name: 'f' } })
    expect(chatToBedrock({ ...base, tool_choice: 'none' }, MODEL)['toolConfig']).toBeUndefined()
  })

  it('rejects https images with an explanation, and n > 1', () => {
    expect(() => chatToBedrock({ model: 'x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, MODEL))
      .toThrow(expect.objectContaining({ status: 400, code: 'invalid_request', param: 'messages[0].content[0]', message: expect.stringMatching(/only as base64 data: URLs/) }))
    expect(() => chatToBedrock({ model: 'x', messages: [], n: 2 }, MODEL)).toThrow(/n > 1/)
  })

  it('round-trips tool use, merged tool results and signed reasoning', () => {
    const req: ChatRequest = {
      model: 'x',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant', content: 'Checking.', reasoning_content: 'two calls',
          reasoning_details: [{ type: 'thinking', thinking: 'two calls', signature: 'SIG==' }, { type: 'redacted_thinking', data: 'RED' }],
          tool_calls: [
            { id: 'tooluse_1', type: 'function', function: { name: 'w', arguments: '{"city":"Paris"}' } },
            { id: 'tooluse_2', type: 'function', function: { name: 'w', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'tooluse_1', content: '21C' },
        { role: 'tool', tool_call_id: 'tooluse_2', content: [{ type: 'text', text: '25C' }] },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [{ type: 'function', function: { name: 'w' } }],
      tool_choice: 'none',
    }
    const copy = structuredClone(req)
    const body = chatToBedrock(req, MODEL)
    expect(req).toEqual(copy)
    expect(body['messages']).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { reasoningContent: { reasoningText: { text: 'two calls', signature: 'SIG==' } } },
          { reasoningContent: { redactedContent: 'RED' } },
          { text: 'Checking.' },
          { toolUse: { toolUseId: 'tooluse_1', name: 'w', input: { city: 'Paris' } } },
          { toolUse: { toolUseId: 'tooluse_2', name: 'w', input: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'tooluse_1', content: [{ text: '21C' }] } },
          { toolResult: { toolUseId: 'tooluse_2', content: [{ text: '25C' }] } },
          { text: 'And tomorrow?' },
        ],
      },
    ])
    // Tool blocks in the history require toolConfig even when the client said none.
    expect(body['toolConfig']).toEqual({ tools: [{ toolSpec: { name: 'w', inputSchema: { json: { type: 'object', properties: {} } } } }] })
  })

  it('asks Claude to think, and Nova to reason, for reasoning_effort', () => {
    const medium = chatToBedrock({ model: 'x', messages: [], reasoning_effort: 'medium' }, MODEL)
    expect(medium['additionalModelRequestFields']).toEqual({ thinking: { type: 'enabled', budget_tokens: 8192 } })
    // Without a client limit, room for the answer beyond the budget (the model's default output cap).
    expect(medium['inferenceConfig']).toEqual({ maxTokens: 8192 + 4096 })
    // A client limit at or below the budget is kept for the answer, as on the Anthropic adapter;
    // shrinking the budget instead failed below Anthropic's 1024 minimum (max_tokens 1000 gave budget 1024).
    for (const [max, expected] of [[4000, 16384 + 4000], [1000, 16384 + 1000], [20000, 20000]] as const) {
      const body = chatToBedrock({ model: 'x', messages: [], reasoning_effort: 'high', max_tokens: max }, 'us.anthropic.claude-sonnet-4-20250514-v1:0', 4096)
      expect(body['additionalModelRequestFields']).toEqual({ thinking: { type: 'enabled', budget_tokens: 16384 } })
      expect(body['inferenceConfig']).toEqual({ maxTokens: expected })
    }
    expect(chatToBedrock({ model: 'x', messages: [], reasoning_effort: 'minimal' }, 'amazon.nova-2-lite-v1:0')['additionalModelRequestFields'])
      .toEqual({ reasoningConfig: { type: 'enabled', maxReasoningEffort: 'low' } })
    expect(chatToBedrock({ model: 'x', messages: [], reasoning_effort: 'high' }, 'meta.llama3-70b-instruct-v1:0')['additionalModelRequestFields']).toBeUndefined()
  })

  it('sends a placeholder for an empty tool result, which Converse would reject as a blank text block', () => {
    // A command that printed nothing, as OpenAI clients send it ("" or []) and as Claude Code's
    // tool_result content "" arrives through the Anthropic ingress. The result stays in the
    // history, so a blank block would fail every later turn of the conversation.
    const call = recordedAnswer('amazon-bedrock-tool-call.1.json')
    const results = (content: ChatMessage['content']) => {
      const body = chatToBedrock({ model: 'x', messages: [{ role: 'user', content: 'List the files.' }, call, { role: 'tool', tool_call_id: 'tool-use-id', content }] }, MODEL)
      return (body['messages'] as JsonObject[])[2]
    }
    for (const content of ['', [], '  \n', null] as ChatMessage['content'][]) {
      expect(results(content)).toEqual({ role: 'user', content: [{ toolResult: { toolUseId: 'tool-use-id', content: [{ text: '(no output)' }] } }] })
    }
    expect(results(' a.txt\n')).toEqual({ role: 'user', content: [{ toolResult: { toolUseId: 'tool-use-id', content: [{ text: ' a.txt\n' }] } }] })
  })

  it('leaves Claude thinking off in a tool loop whose last assistant turn has no signed reasoning', () => {
    // Recorded: a toolUse with no reasoning before it, as every OpenAI client sends the turn back
    // (none keeps reasoning_details). Bedrock answers 400 "a final assistant message must start
    // with a thinking block" when thinking is on.
    const call = recordedAnswer('amazon-bedrock-tool-call.1.json')
    const loop = (assistant: ChatMessage): ChatRequest => ({
      model: 'x', reasoning_effort: 'medium',
      messages: [{ role: 'user', content: 'List the files.' }, assistant, { role: 'tool', tool_call_id: 'tool-use-id', content: 'a.txt' }],
      tools: [{ type: 'function', function: { name: 'bash', parameters: { type: 'object', properties: { command: { type: 'string' } } } } }],
    })
    const unsigned = chatToBedrock(loop(call), MODEL)
    expect((unsigned['messages'] as JsonObject[])[1]).toEqual({ role: 'assistant', content: [{ toolUse: { toolUseId: 'tool-use-id', name: 'bash', input: { command: 'ls -l' } } }] })
    expect(unsigned['additionalModelRequestFields']).toBeUndefined()

    // The same turn carrying the signed reasoning Bedrock recorded: it leads the turn, thinking stays on.
    const { reasoning_details } = recordedAnswer('amazon-bedrock-reasoning.json')
    const signed = chatToBedrock(loop({ ...call, reasoning_details }), MODEL)
    expect(((signed['messages'] as JsonObject[])[1]?.['content'] as JsonObject[])[0]).toHaveProperty('reasoningContent.reasoningText.signature')
    expect(signed['additionalModelRequestFields']).toEqual({ thinking: { type: 'enabled', budget_tokens: 8192 } })

    // A finished loop (the last assistant turn answered in text) needs no thinking block.
    const answered = loop(call)
    answered.messages.push({ role: 'assistant', content: 'a.txt' }, { role: 'user', content: 'Thanks. And the sizes?' })
    expect(chatToBedrock(answered, MODEL)['additionalModelRequestFields']).toEqual({ thinking: { type: 'enabled', budget_tokens: 8192 } })
  })

  it('with Claude thinking on, drops temperature and top_p; leaves thinking off when a tool is forced', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'f' } }]
    const base: ChatRequest = { model: 'x', messages: [{ role: 'user', content: 'q' }], reasoning_effort: 'low', temperature: 0.2, top_p: 0.9, max_tokens: 4000, stop: 'END' }
    const thinking = chatToBedrock(base, MODEL)
    expect(thinking['additionalModelRequestFields']).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } })
    expect(thinking['inferenceConfig']).toEqual({ maxTokens: 4000, stopSequences: ['END'] })
    // Anthropic rejects thinking with a forced tool; the forced tool is what the client asked for, so thinking goes.
    for (const tool_choice of ['required', { type: 'function', function: { name: 'f' } }] as const) {
      const forced = chatToBedrock({ ...base, tools, tool_choice }, MODEL)
      expect(forced['additionalModelRequestFields']).toBeUndefined()
      expect(forced['inferenceConfig']).toEqual({ maxTokens: 4000, temperature: 0.2, topP: 0.9, stopSequences: ['END'] })
    }
    expect(chatToBedrock({ ...base, tools, tool_choice: 'auto' }, MODEL)['additionalModelRequestFields']).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } })
    // Nova's reasoning is not Claude's thinking: its sampling knobs stay.
    expect(chatToBedrock(base, 'amazon.nova-2-lite-v1:0')['inferenceConfig']).toEqual({ maxTokens: 4000, temperature: 0.2, topP: 0.9, stopSequences: ['END'] })
  })

  it('reads reasoning_effort none, and values it does not know, as no reasoning; xhigh as high', () => {
    // OpenAI's own levels include none and xhigh, which ChatRequest's type does not list yet.
    const fields = (effort: string, model: string) => chatToBedrock({ model: 'x', messages: [], reasoning_effort: effort } as ChatRequest, model)['additionalModelRequestFields']
    const claude = 'us.anthropic.claude-sonnet-4-20250514-v1:0'
    const nova = 'us.amazon.nova-2-lite-v1:0'
    expect(fields('none', claude)).toBeUndefined()
    expect(fields('maximum', claude)).toBeUndefined()
    expect(fields('xhigh', claude)).toEqual({ thinking: { type: 'enabled', budget_tokens: 16384 } })
    expect(fields('minimal', claude)).toEqual({ thinking: { type: 'enabled', budget_tokens: 1024 } })
    // Nova would reject maxReasoningEffort "none"; without reasoningConfig it does not reason.
    expect(fields('none', nova)).toBeUndefined()
    expect(fields('xhigh', nova)).toEqual({ reasoningConfig: { type: 'enabled', maxReasoningEffort: 'high' } })
  })
})

const input = (over: Partial<AttemptInput> = {}): AttemptInput => ({
  operation: 'chat', body: { model: 'x', messages: [{ role: 'user', content: 'hi' }] }, rawBody: undefined, stream: false, maxOutputTokens: 4096,
  upstreamModel: MODEL, apiKey: undefined, clientHeaders: {},
  provider: { name: 'bedrock', type: 'bedrock', baseUrl: '', region: 'us-east-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', headers: {} },
  ...over,
})

describe('bedrock buildRequest and sign', () => {
  it('derives the regional endpoint and URL-encodes the model id', () => {
    const req = bedrockAdapter.buildRequest(input())
    expect(req).toMatchObject({ origin: 'https://bedrock-runtime.us-east-1.amazonaws.com', path: '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse', method: 'POST' })
    expect(bedrockAdapter.buildRequest(input({ stream: true })).path).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream')
    expect(bedrockAdapter.buildRequest(input({ provider: { ...input().provider, baseUrl: 'http://127.0.0.1:4010' } })).origin).toBe('http://127.0.0.1:4010')
  })

  it('signs deterministically for a fixed date; the signature follows the body', async () => {
    const req = bedrockAdapter.buildRequest(input())
    const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'TOKEN' }
    const date = new Date('2026-01-02T03:04:05Z')
    const a = await signBedrockRequest(req, 'us-east-1', creds, date)
    const again = await signBedrockRequest(req, 'us-east-1', creds, date)
    const other = await signBedrockRequest({ ...req, body: '{"messages":[]}' }, 'us-east-1', creds, date)
    expect(a.headers['host']).toBe('bedrock-runtime.us-east-1.amazonaws.com')
    expect(a.headers['x-amz-date']).toBe('20260102T030405Z')
    expect(a.headers['x-amz-security-token']).toBe('TOKEN')
    expect(a.headers['content-type']).toBe('application/json')
    expect(a.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260102\/us-east-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    )
    expect(again.headers['authorization']).toBe(a.headers['authorization'])
    expect(other.headers['authorization']).not.toBe(a.headers['authorization'])
    expect(a.body).toBe(req.body)
    expect(req.headers['authorization']).toBeUndefined()
  })

  it('adapter.sign uses the provider credentials', async () => {
    const signed = await bedrockAdapter.sign?.(bedrockAdapter.buildRequest(input()), input())
    expect(signed?.headers['authorization']).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request/)
    expect(signed?.headers['x-amz-security-token']).toBeUndefined()
  })
})
