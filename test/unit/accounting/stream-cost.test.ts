import { describe, expect, it } from 'vitest'
import { withStreamCost } from '../../../src/accounting/stream-cost.ts'
import type { ChatCompletionChunk } from '../../../src/core/openai-chat.ts'

describe('cost in the usage chunk', () => {
  it('splices into the vendor raw bytes of the usage event only', () => {
    const raw = Buffer.from('data: {"id":"c","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}\n\n')
    expect(String(withStreamCost({ kind: 'raw', bytes: raw }, () => 0.0123))).toBe('data: {"id":"c","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15},"switchboard":{"cost_usd":0.01230000}}\n\n')
    expect(withStreamCost({ kind: 'raw', bytes: Buffer.from('data: {"choices":[{"delta":{}}],"usage":null}\n\n') }, () => 1)).toBeUndefined()
  })

  it('adds the field to a translated chunk that carries usage, and leaves unknown costs out', () => {
    const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } } as unknown as ChatCompletionChunk
    expect(withStreamCost({ kind: 'chunk', chunk }, () => 0.5)).toBe('data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"switchboard":{"cost_usd":0.50000000}}\n\n')
    expect(withStreamCost({ kind: 'chunk', chunk }, () => null)).toBe(`data: ${JSON.stringify(chunk)}\n\n`)
    expect(withStreamCost({ kind: 'chunk', chunk: { ...chunk, usage: undefined } as ChatCompletionChunk }, () => 0.5)).toBeUndefined()
  })
})
