import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../../src/core/json.ts'
import { bedrockToChat } from '../../../src/providers/bedrock/response.ts'
import { parseBedrockError } from '../../../src/providers/bedrock/errors.ts'

const fixture = (name: string): JsonObject => JSON.parse(readFileSync(new URL(`../../fixtures/bedrock/${name}`, import.meta.url), 'utf8')) as JsonObject

describe('bedrockToChat', () => {
  it('translates recorded text', () => {
    const { completion, usage } = bedrockToChat(fixture('amazon-bedrock-text.json'), 'm', 7, 'chatcmpl-1')
    expect(completion).toEqual({
      id: 'chatcmpl-1', object: 'chat.completion', created: 7, model: 'm',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Let me count the "r"s in "strawberry":\n\ns-t-**r**-a-w-b-e-**r**-**r**-y\n\nThere are **3** "r"s in "strawberry."' } }],
      usage: { prompt_tokens: 22, completion_tokens: 57, total_tokens: 79 },
    })
    expect(usage).toEqual({ inputTokens: 22, outputTokens: 57, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false })
  })

  it('translates recorded reasoning into reasoning_content and a signed reasoning_details entry', () => {
    const body = fixture('amazon-bedrock-reasoning.json')
    const { completion } = bedrockToChat(body, 'm', 7, 'id')
    const thinking = 'Let me count the r\'s in "strawberry":\n\ns-t-r-a-w-b-e-r-r-y\n\nThere are 3 r\'s.'
    expect(completion.choices[0]?.message).toEqual({
      role: 'assistant',
      content: 'There are **3** r\'s in "strawberry":\n\n1. st**r**awbe**r****r**y',
      reasoning_content: thinking,
      reasoning_details: [{ type: 'thinking', thinking, signature: expect.stringMatching(/^EvYBCkgICxAB.*GAE=$/) }],
    })
  })

  it('translates tool use and adds cache reads and writes back into the prompt tokens', () => {
    const { completion, usage } = bedrockToChat({
      output: { message: { role: 'assistant', content: [{ text: 'Sure.' }, { toolUse: { toolUseId: 'tooluse_a', name: 'bash', input: { command: 'ls -l' } } }, { toolUse: { toolUseId: 'tooluse_b', name: 'noop', input: {} } }] } },
      stopReason: 'tool_use',
      usage: { inputTokens: 4, outputTokens: 20, cacheReadInputTokens: 1234, cacheWriteInputTokens: 100, totalTokens: 1358 },
    }, 'm', 1, 'id')
    expect(completion.choices[0]).toEqual({
      index: 0, finish_reason: 'tool_calls',
      message: {
        role: 'assistant', content: 'Sure.',
        tool_calls: [
          { id: 'tooluse_a', type: 'function', function: { name: 'bash', arguments: '{"command":"ls -l"}' } },
          { id: 'tooluse_b', type: 'function', function: { name: 'noop', arguments: '{}' } },
        ],
      },
    })
    expect(usage).toEqual({ inputTokens: 1338, outputTokens: 20, cachedInputTokens: 1234, cacheWriteTokens: 100, reasoningTokens: 0, estimated: false })
    expect(completion.usage).toEqual({ prompt_tokens: 1338, completion_tokens: 20, total_tokens: 1358, prompt_tokens_details: { cached_tokens: 1234, cache_write_tokens: 100 } })
  })

  it.each([
    ['end_turn', 'stop'], ['stop_sequence', 'stop'], ['tool_use', 'tool_calls'], ['max_tokens', 'length'],
    ['content_filtered', 'content_filter'], ['guardrail_intervened', 'content_filter'],
  ])('stopReason %s -> %s', (stopReason, expected) => {
    const { completion } = bedrockToChat({ output: { message: { content: [{ text: 'x' }] } }, stopReason }, 'm', 1, 'id')
    expect(completion.choices[0]?.finish_reason).toBe(expected)
  })
})

describe('parseBedrockError', () => {
  const err = (status: number, type: string | undefined, message: string, extra: Record<string, string> = {}) =>
    parseBedrockError(status, { ...(type ? { 'x-amzn-errortype': type } : {}), ...extra }, Buffer.from(JSON.stringify({ message })))

  it('classifies each error class', () => {
    expect(err(429, 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/', 'Too many requests, please wait before trying again.', { 'retry-after': '3' })).toEqual({
      status: 429, code: 'ThrottlingException', type: 'ThrottlingException', kind: 'rate_limited', retryAfterMs: 3000,
      message: 'Too many requests, please wait before trying again.',
    })
    expect(err(503, 'ServiceUnavailableException', 'Service unavailable').kind).toBe('overloaded')
    expect(err(429, 'ModelNotReadyException', 'not ready').kind).toBe('overloaded')
    expect(err(500, 'InternalServerException', 'oops').kind).toBe('server')
    expect(err(400, 'ValidationException', 'Input is too long for requested model.').kind).toBe('context_length')
    expect(err(400, 'ValidationException', 'prompt is too long: 210000 tokens > 200000 maximum').kind).toBe('context_length')
    expect(err(400, 'ValidationException', 'messages: text content blocks must be non-empty').kind).toBe('bad_request')
    expect(err(403, 'AccessDeniedException', 'You don\'t have access to the model').kind).toBe('auth')
    expect(err(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.').kind).toBe('auth')
    expect(err(404, 'ResourceNotFoundException', 'no model').kind).toBe('not_found')
    expect(err(502, undefined, 'bad gateway').kind).toBe('server')
  })

  it('falls back to the body __type and raw text', () => {
    expect(parseBedrockError(400, {}, Buffer.from('{"__type":"com.amazon#ValidationException","Message":"bad"}'))).toEqual({
      status: 400, code: 'ValidationException', type: 'ValidationException', kind: 'bad_request', message: 'bad',
    })
    expect(parseBedrockError(503, {}, Buffer.from('upstream down'))).toEqual({ status: 503, code: '503', kind: 'overloaded', message: 'upstream down' })
  })
})
