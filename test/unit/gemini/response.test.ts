import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../../src/core/json.ts'
import { geminiToChat, promptBlocked } from '../../../src/providers/gemini/response.ts'
import { parseGeminiError } from '../../../src/providers/gemini/errors.ts'
import { geminiAdapter } from '../../../src/providers/gemini/index.ts'
import { VendorRefusal, type AttemptInput } from '../../../src/providers/types.ts'

const fixture = (name: string): JsonObject => JSON.parse(readFileSync(new URL(`../../fixtures/gemini/${name}`, import.meta.url), 'utf8')) as JsonObject

describe('geminiToChat', () => {
  it('translates a recorded tool call with its thought signature and usage', () => {
    const { completion, usage } = geminiToChat(fixture('google-tool-call.json'), 'gemini-3-pro-preview', 1700000000)
    const id = 'call_m36LaZGyCLz1xs0PtNSB-QU_0'
    expect(completion).toEqual({
      id: 'chatcmpl-m36LaZGyCLz1xs0PtNSB-QU',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gemini-3-pro-preview',
      choices: [{
        index: 0,
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [{ id, type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } }],
          reasoning_details: [{
            type: 'thought_signature',
            signature: 'EskgCsYgAb4+9vtF7/499YQS2bjZs3xcQI+iAl+ILn29nK1j0Kg6su7QsUUUk3nrAAfnS2w5WiVvlcCqu9fAebJ2cvfaEyBahEt5',
            tool_call_id: id,
          }],
        },
      }],
      usage: { prompt_tokens: 29, completion_tokens: 908, total_tokens: 937, completion_tokens_details: { reasoning_tokens: 893 } },
    })
    expect(usage).toEqual({ inputTokens: 29, outputTokens: 908, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 893, estimated: false })
  })

  it('separates thought text, counts cached tokens and maps finish reasons', () => {
    const body: JsonObject = {
      candidates: [{
        content: { role: 'model', parts: [{ text: 'Let me think.', thought: true }, { text: 'Answer' }, { text: '', thoughtSignature: 'SIG' }] },
        finishReason: 'MAX_TOKENS',
      }],
      usageMetadata: { promptTokenCount: 100, cachedContentTokenCount: 60, candidatesTokenCount: 5, thoughtsTokenCount: 10 },
    }
    const { completion, usage } = geminiToChat(body, 'gemini-2.5-flash', 1)
    expect(completion.id).toBe('chatcmpl-gemini')
    expect(completion.model).toBe('gemini-2.5-flash')
    expect(completion.choices).toEqual([{
      index: 0, finish_reason: 'length',
      message: { role: 'assistant', content: 'Answer', reasoning_content: 'Let me think.', reasoning_details: [{ type: 'thought_signature', signature: 'SIG' }] },
    }])
    expect(usage).toEqual({ inputTokens: 100, outputTokens: 15, cachedInputTokens: 60, cacheWriteTokens: 0, reasoningTokens: 10, estimated: false })
    expect(completion.usage).toEqual({
      prompt_tokens: 100, completion_tokens: 15, total_tokens: 115,
      prompt_tokens_details: { cached_tokens: 60 }, completion_tokens_details: { reasoning_tokens: 10 },
    })
  })

  it.each([
    ['STOP', 'stop'], ['MAX_TOKENS', 'length'], ['SAFETY', 'content_filter'], ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'], ['PROHIBITED_CONTENT', 'content_filter'], ['SPII', 'content_filter'], ['OTHER', 'stop'],
  ])('finishReason %s -> %s', (reason, expected) => {
    const { completion } = geminiToChat({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: reason }] }, 'g', 1)
    expect(completion.choices[0]?.finish_reason).toBe(expected)
  })

  it('gives several candidates as several choices with distinct tool call ids', () => {
    const { completion } = geminiToChat({
      responseId: 'r',
      candidates: [
        { index: 0, content: { parts: [{ functionCall: { name: 'a', args: {} } }, { functionCall: { name: 'b', args: { x: 1 } } }] }, finishReason: 'STOP' },
        { index: 1, content: { parts: [{ functionCall: { name: 'a', args: {} } }] }, finishReason: 'STOP' },
      ],
    }, 'g', 1)
    expect(completion.choices.map((c) => c.message.tool_calls?.map((t) => t.id))).toEqual([['call_r_0', 'call_r_1'], ['call_r_1_0']])
  })

  it('a blocked prompt is a content-filter refusal (400 content_filter), not an empty answer', () => {
    const chatInput: AttemptInput = {
      operation: 'chat', body: { model: 'g', messages: [] }, rawBody: undefined, stream: false, maxOutputTokens: 100, upstreamModel: 'g', apiKey: 'k',
      clientHeaders: {}, provider: { name: 'g', type: 'gemini', baseUrl: '', headers: {} },
    }
    const body = { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 12559, totalTokenCount: 12559 }, modelVersion: 'gemini-2.5-flash' }
    let thrown: unknown
    try { geminiAdapter.parseResponse(chatInput, Buffer.from(JSON.stringify(body))) } catch (err) { thrown = err }
    expect(thrown).toBeInstanceOf(VendorRefusal)
    expect((thrown as VendorRefusal).error).toEqual({
      status: 400, code: 'content_filter', type: 'invalid_request_error', param: null, kind: 'content_filter',
      message: 'Gemini blocked the prompt (blockReason PROHIBITED_CONTENT). Rephrase the prompt.',
    })
    expect(promptBlocked({ promptFeedback: { blockReason: 'SAFETY', blockReasonMessage: 'unsafe' } })?.message).toBe('Gemini blocked the prompt (blockReason SAFETY): unsafe. Rephrase the prompt.')
    // Feedback alongside candidates is not a block; no candidates without a block reason is an empty answer.
    expect(promptBlocked({ promptFeedback: { safetyRatings: [] }, candidates: [] })).toBeUndefined()
    expect(geminiToChat({ usageMetadata: { promptTokenCount: 4 } }, 'g', 1).completion.choices).toEqual([{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'stop' }])
  })
})

describe('parseGeminiError', () => {
  const err = (status: number, body: unknown, headers: Record<string, string> = {}) => parseGeminiError(status, headers, Buffer.from(JSON.stringify(body)))

  it('reads RetryInfo from the recorded 429', () => {
    expect(parseGeminiError(429, {}, readFileSync(new URL('../../fixtures/gemini/google-429-retry-info.json', import.meta.url)))).toEqual({
      status: 429, code: 'RESOURCE_EXHAUSTED', type: 'RESOURCE_EXHAUSTED', kind: 'rate_limited', retryAfterMs: 34400,
      message: 'You exceeded your current quota, please check your plan.',
    })
    expect(err(429, { error: { code: 429, message: 'q', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '13s' }] } }).retryAfterMs).toBe(13000)
  })

  it('classifies each error class', () => {
    expect(err(503, { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }).kind).toBe('overloaded')
    expect(err(500, { error: { code: 500, message: 'Internal error', status: 'INTERNAL' } }).kind).toBe('server')
    expect(err(400, { error: { code: 400, message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', status: 'INVALID_ARGUMENT' } }).kind).toBe('context_length')
    expect(err(400, { error: { code: 400, message: 'Invalid JSON payload', status: 'INVALID_ARGUMENT' } }).kind).toBe('bad_request')
    expect(err(400, { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] } }).kind).toBe('auth')
    expect(err(403, { error: { code: 403, message: 'denied', status: 'PERMISSION_DENIED' } }).kind).toBe('auth')
    expect(err(401, { error: { code: 401, message: 'no', status: 'UNAUTHENTICATED' } }).kind).toBe('auth')
    expect(err(404, { error: { code: 404, message: 'models/x is not found', status: 'NOT_FOUND' } }).kind).toBe('not_found')
    expect(err(429, [{ error: { code: 429, message: 'q', status: 'RESOURCE_EXHAUSTED' } }], { 'retry-after': '2' })).toEqual({
      status: 429, code: 'RESOURCE_EXHAUSTED', type: 'RESOURCE_EXHAUSTED', kind: 'rate_limited', message: 'q', retryAfterMs: 2000,
    })
    expect(parseGeminiError(502, {}, Buffer.from('<html>bad gateway</html>'))).toEqual({ status: 502, code: '502', kind: 'server', message: '<html>bad gateway</html>' })
  })
})

describe('gemini embeddings', () => {
  const input = (body: JsonObject): AttemptInput => ({
    operation: 'embeddings', body, rawBody: undefined, stream: false, maxOutputTokens: 4096, upstreamModel: 'text-embedding-004', apiKey: 'k',
    clientHeaders: {}, provider: { name: 'g', type: 'gemini', baseUrl: '', headers: {} },
  })
  const response = Buffer.from(JSON.stringify({ embeddings: [{ values: [0.5, -1] }, { values: [0.25] }] }))

  it('returns OpenAI embeddings with an estimated token count', () => {
    const parsed = geminiAdapter.parseResponse(input({ model: 'e', input: ['hello', 'abc'] }), response)
    expect(parsed).toEqual({
      kind: 'object',
      responseModel: 'text-embedding-004',
      body: {
        object: 'list', model: 'text-embedding-004', usage: { prompt_tokens: 2, total_tokens: 2 },
        data: [{ object: 'embedding', index: 0, embedding: [0.5, -1] }, { object: 'embedding', index: 1, embedding: [0.25] }],
      },
      usage: { inputTokens: 2, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true },
    })
  })

  it('encodes base64 when asked (as OpenAI SDKs do by default)', () => {
    const parsed = geminiAdapter.parseResponse(input({ model: 'e', input: 'hello', encoding_format: 'base64' }), response)
    const data = (parsed.kind === 'object' ? parsed.body['data'] : []) as Array<{ embedding: string }>
    const buf = Buffer.from(data[0]?.embedding ?? '', 'base64')
    expect([buf.readFloatLE(0), buf.readFloatLE(4)]).toEqual([0.5, -1])
  })

  it('rejects token-array input', () => {
    expect(() => geminiAdapter.buildRequest(input({ model: 'e', input: [[1, 2]] }))).toThrow(/array of strings/)
  })
})
