import { describe, expect, it } from 'vitest'
import type { ChatRequest } from '../../../src/core/openai-chat.ts'
import { chatToGemini } from '../../../src/providers/gemini/request.ts'
import { sanitizeGeminiSchema } from '../../../src/providers/gemini/schema.ts'
import { geminiAdapter, geminiEndpoint } from '../../../src/providers/gemini/index.ts'
import type { AttemptInput } from '../../../src/providers/types.ts'
import { GatewayError } from '../../../src/core/errors.ts'

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    strict: true,
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: {
        city: { type: 'string', format: 'uri', description: 'City' },
        unit: { type: ['string', 'null'], enum: ['c', 'f'] },
        when: { type: 'string', format: 'date-time' },
      },
      required: ['city'],
    },
  },
}

describe('chatToGemini', () => {
  it('maps roles, system instruction and generation config', () => {
    const req: ChatRequest = {
      model: 'g',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Use metric.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      ],
      max_completion_tokens: 100,
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      stop: 'END',
      n: 2,
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.3,
    }
    expect(chatToGemini(req)).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Use metric.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Hello!' }] },
        { role: 'user', parts: [{ text: 'Weather?' }] },
      ],
      generationConfig: {
        maxOutputTokens: 100, temperature: 0.2, topP: 0.9, stopSequences: ['END'], candidateCount: 2, seed: 7,
        presencePenalty: 0.1, frequencyPenalty: 0.3,
      },
    })
  })

  it('translates images: data URLs inline, https URLs as fileData with a guessed MIME type', () => {
    const body = chatToGemini({
      model: 'g',
      messages: [{
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?x=1' } },
        ],
      }],
    })
    expect(body['contents']).toEqual([{
      role: 'user',
      parts: [
        { text: 'What is this?' },
        { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
        { fileData: { fileUri: 'https://example.com/cat.webp?x=1', mimeType: 'image/webp' } },
      ],
    }])
  })

  it('translates tools with stripped schemas and tool_choice', () => {
    const body = chatToGemini({
      model: 'g', messages: [{ role: 'user', content: 'x' }], tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    })
    expect(body['tools']).toEqual([{
      functionDeclarations: [{
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: {
          type: 'object',
          properties: {
            city: { type: 'string', description: 'City' },
            unit: { type: 'string', nullable: true, enum: ['c', 'f'] },
            when: { type: 'string', format: 'date-time' },
          },
          required: ['city'],
        },
      }],
    }])
    expect(body['toolConfig']).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } })
    expect(chatToGemini({ model: 'g', messages: [], tool_choice: 'none' })['toolConfig']).toEqual({ functionCallingConfig: { mode: 'NONE' } })
    expect(chatToGemini({ model: 'g', messages: [], tool_choice: 'required' })['toolConfig']).toEqual({ functionCallingConfig: { mode: 'ANY' } })
    expect(chatToGemini({ model: 'g', messages: [], tool_choice: 'auto' })['toolConfig']).toEqual({ functionCallingConfig: { mode: 'AUTO' } })
  })

  it('does not mutate the request', () => {
    const req: ChatRequest = { model: 'g', messages: [{ role: 'user', content: 'x' }], tools: [weatherTool] }
    const copy = structuredClone(req)
    chatToGemini(req)
    expect(req).toEqual(copy)
  })

  it('turns parallel tool calls and their results into functionCall / merged functionResponse parts', () => {
    const body = chatToGemini({
      model: 'g',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant', content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_b', content: 'noon' },
        { role: 'user', content: 'Thanks' },
      ],
    })
    expect(body['contents']).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }] },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { content: { temp: 21 } } } },
          { functionResponse: { name: 'get_time', response: { content: 'noon' } } },
        ],
      },
      { role: 'user', parts: [{ text: 'Thanks' }] },
    ])
  })

  it('rejects a tool result that matches no call, and non-object arguments', () => {
    expect(() => chatToGemini({ model: 'g', messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] })).toThrow(GatewayError)
    expect(() => chatToGemini({
      model: 'g',
      messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }],
    })).toThrow(/JSON object/)
  })

  it('puts thought signatures back on the parts they came from, byte for byte', () => {
    const sigCall = 'EskgCsYgAb4+9vtF7/499YQS2bjZs3xcQI+iAl+ILn29nK1j0Kg6su7QsUUUk3nrAAfnS2w5WiVvlcCqu9fAebJ2cvfaEyBahEt5'
    const sigText = 'EtoFCtcFAb4+9vtfe4MXRxQjw48U1WKrR/7lYsgFkVi/bepqsSPjY0VU7HEzkeCBIfy1fu5t9aUZ4IZ65aWagqbBrV45fc97olcg'
    const body = chatToGemini({
      model: 'g',
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'There are 3.', reasoning_details: [{ type: 'thought_signature', signature: sigText }] },
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant', content: null, reasoning_content: 'thinking...',
          tool_calls: [{ id: 'call_x_0', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } }],
          reasoning_details: [{ type: 'thought_signature', signature: sigCall, tool_call_id: 'call_x_0' }],
        },
      ],
    })
    const contents = body['contents'] as Array<{ parts: unknown[] }>
    expect(contents[1]?.parts).toEqual([{ text: 'There are 3.', thoughtSignature: sigText }])
    expect(contents[3]?.parts).toEqual([{ functionCall: { name: 'weather', args: { location: 'San Francisco' } }, thoughtSignature: sigCall }])
  })

  it("gives the first functionCall of each step in the current turn Google's dummy signature when it has none", () => {
    const call = (id: string, name: string) => ({ id, type: 'function' as const, function: { name, arguments: '{}' } })
    const body = chatToGemini({
      model: 'gemini-3-pro-preview',
      messages: [
        // An earlier turn: not validated by Gemini, left as it is.
        { role: 'user', content: 'List files' },
        { role: 'assistant', content: null, tool_calls: [call('c1', 'ls')] },
        { role: 'tool', tool_call_id: 'c1', content: 'a.txt' },
        { role: 'assistant', content: 'One file.' },
        // The current turn starts at the last user message with text.
        { role: 'user', content: 'Read it, then check the time' },
        // Step 1: two parallel calls from another vendor, no signature at all.
        { role: 'assistant', content: 'Reading.', tool_calls: [call('c2', 'read'), call('c3', 'stat')] },
        { role: 'tool', tool_call_id: 'c2', content: 'hello' },
        { role: 'tool', tool_call_id: 'c3', content: '5 bytes' },
        // Step 2: Gemini's own call, with its signature.
        { role: 'assistant', content: null, tool_calls: [call('c4', 'time')], reasoning_details: [{ type: 'thought_signature', signature: 'REAL==', tool_call_id: 'c4' }] },
        { role: 'tool', tool_call_id: 'c4', content: 'noon' },
      ],
    })
    const model = (body['contents'] as Array<{ role: string; parts: unknown[] }>).filter((c) => c.role === 'model')
    expect(model.map((c) => c.parts)).toEqual([
      [{ functionCall: { name: 'ls', args: {} } }],
      [{ text: 'One file.' }],
      [{ text: 'Reading.' }, { functionCall: { name: 'read', args: {} }, thoughtSignature: 'skip_thought_signature_validator' }, { functionCall: { name: 'stat', args: {} } }],
      [{ functionCall: { name: 'time', args: {} }, thoughtSignature: 'REAL==' }],
    ])
  })

  it('maps response_format and reasoning_effort', () => {
    const body = chatToGemini({
      model: 'g', messages: [], reasoning_effort: 'low',
      response_format: { type: 'json_schema', json_schema: { name: 'x', strict: true, schema: { type: 'object', additionalProperties: false, properties: { a: { type: 'integer' } } } } },
    })
    expect(body['generationConfig']).toEqual({
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { a: { type: 'integer' } } },
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
    })
    expect(chatToGemini({ model: 'g', messages: [], response_format: { type: 'json_object' } })['generationConfig']).toEqual({ responseMimeType: 'application/json' })
  })
})

describe('chatToGemini: empty text', () => {
  it('leaves out empty system and user text and a user turn left with no parts (Gemini refuses both)', () => {
    const body = chatToGemini({ model: 'g', messages: [
      { role: 'system', content: '' },
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: '' },
      { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'Hi' }] },
      { role: 'user', content: [] },
    ] })
    expect(body['systemInstruction']).toEqual({ parts: [{ text: 'Be brief.' }] })
    expect(body['contents']).toEqual([{ role: 'user', parts: [{ text: 'Hi' }] }])
    expect(chatToGemini({ model: 'g', messages: [{ role: 'system', content: '' }, { role: 'user', content: 'x' }] })['systemInstruction']).toBeUndefined()
  })

  it('maps reasoning_effort xhigh to the high budget and sends no thinkingConfig for none', () => {
    expect(chatToGemini({ model: 'g', messages: [], reasoning_effort: 'xhigh' })['generationConfig']).toEqual({ thinkingConfig: { thinkingBudget: 24576, includeThoughts: true } })
    expect(chatToGemini({ model: 'g', messages: [], reasoning_effort: 'none' })['generationConfig']).toBeUndefined()
  })
})

describe('sanitizeGeminiSchema', () => {
  it('merges allOf into the node (a $ref wrapped to carry a description keeps its structure)', () => {
    expect(sanitizeGeminiSchema({
      type: 'object',
      definitions: { Addr: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      properties: {
        home: { allOf: [{ $ref: '#/definitions/Addr' }], description: 'Where they live' },
        both: { allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { properties: { b: { type: 'integer' } }, required: ['b', 'a'] },
        ] },
      },
    })).toEqual({
      type: 'object',
      properties: {
        home: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], description: 'Where they live' },
        both: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } }, required: ['a', 'b'] },
      },
    })
  })

  it('inlines local $refs, rewrites oneOf/const and drops unknown keywords recursively', () => {
    expect(sanitizeGeminiSchema({
      type: 'object',
      $defs: { Item: { type: 'object', properties: { id: { type: 'integer', format: 'int64' } }, additionalProperties: false } },
      properties: {
        items: { type: 'array', items: { $ref: '#/$defs/Item' } },
        kind: { const: 'a' },
        either: { oneOf: [{ type: 'string' }, { type: 'number' }] },
        maybe: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        n: { type: 'number', enum: [1, 2] },
      },
    })).toEqual({
      type: 'object',
      properties: {
        items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer', format: 'int64' } } } },
        kind: { enum: ['a'] },
        either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
        maybe: { type: 'string', nullable: true },
        n: { type: 'number' },
      },
    })
  })
})

const input = (over: Partial<AttemptInput>): AttemptInput => ({
  operation: 'chat', body: { model: 'x', messages: [{ role: 'user', content: 'hi' }] }, rawBody: undefined, stream: false, maxOutputTokens: 4096,
  upstreamModel: 'gemini-2.5-flash', apiKey: 'KEY', clientHeaders: {},
  provider: { name: 'gemini', type: 'gemini', baseUrl: '', headers: {} }, ...over,
})

describe('gemini buildRequest', () => {
  it('builds generateContent and streamGenerateContent requests with the key header', () => {
    const req = geminiAdapter.buildRequest(input({}))
    expect(req.origin).toBe('https://generativelanguage.googleapis.com')
    expect(req.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'x-goog-api-key': 'KEY' })
    expect(JSON.parse(String(req.body))).toEqual({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] })
    expect(geminiAdapter.buildRequest(input({ stream: true })).path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse')
  })

  it('respects a base URL that already names the API version', () => {
    expect(geminiEndpoint('http://127.0.0.1:9000/proxy/v1beta/', 'models/g', 'generateContent', false))
      .toEqual({ origin: 'http://127.0.0.1:9000', path: '/proxy/v1beta/models/g:generateContent' })
  })

  it('builds batchEmbedContents for embeddings', () => {
    const req = geminiAdapter.buildRequest(input({ operation: 'embeddings', upstreamModel: 'text-embedding-004', body: { model: 'e', input: ['a', 'bb'], dimensions: 256 } }))
    expect(req.path).toBe('/v1beta/models/text-embedding-004:batchEmbedContents')
    expect(JSON.parse(String(req.body))).toEqual({
      requests: [
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] }, outputDimensionality: 256 },
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'bb' }] }, outputDimensionality: 256 },
      ],
    })
  })
})
