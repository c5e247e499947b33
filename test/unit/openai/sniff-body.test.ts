/** Usage, model, id and finish reasons read from OpenAI-type bodies without a full parse. */
import { describe, expect, it } from 'vitest'
import { sniffBody } from '../../../src/providers/openai/usage-sniff.ts'

describe('sniffBody', () => {
  it('reads a chat completion, even when the answer itself talks about "usage"', () => {
    const body = JSON.stringify({
      id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Set {"usage": {"prompt_tokens": 999}} and "model":"fake"' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } },
    })
    expect(sniffBody('chat', body)).toEqual({
      usage: { inputTokens: 12, outputTokens: 5, cachedInputTokens: 4, cacheWriteTokens: 0, reasoningTokens: 2, estimated: false },
      model: 'gpt-4o-mini-2024-07-18', id: 'chatcmpl-1', finishReasons: ['stop'],
    })
  })

  it('reads a Responses API body (usage followed by other fields)', () => {
    const body = JSON.stringify({ id: 'resp_1', object: 'response', model: 'gpt-5', output: [], usage: { input_tokens: 7, output_tokens: 3, input_tokens_details: { cached_tokens: 1 }, output_tokens_details: { reasoning_tokens: 2 } }, user: null, metadata: {} })
    expect(sniffBody('responses', body)?.usage).toEqual({ inputTokens: 7, outputTokens: 3, cachedInputTokens: 1, cacheWriteTokens: 0, reasoningTokens: 2, estimated: false })
  })

  it('tolerates pretty-printed JSON', () => {
    const body = JSON.stringify({ id: 'x', model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }, null, 2)
    expect(sniffBody('chat', body.replace('"usage": {', '"usage": {'))?.usage?.inputTokens).toBe(1)
  })

  it('gives up (so the caller parses) when there is no usage object', () => {
    expect(sniffBody('chat', '{"id":"x","choices":[]}')).toBeUndefined()
    expect(sniffBody('chat', '{"id":"x","usage":null}')).toBeUndefined()
  })
})
