import { describe, expect, it } from 'vitest'
import { get_encoding } from 'tiktoken'
import { estimateUsage } from '../../../src/accounting/estimate-usage.ts'
import type { CallInfo, CallOutcome } from '../../../src/core/call.ts'

const callWith = (content: string): CallInfo => ({
  requestId: 'r1', operation: 'chat', ingress: 'openai', publicModel: 'm', runId: undefined, tags: [], stream: true,
  principal: { team: 't', keyId: 'k', keyName: 'k', keyModels: ['*'], teamModels: ['*'] } as unknown as CallInfo['principal'],
  body: { model: 'm', messages: [{ role: 'user', content }] }, rawBody: undefined, headers: {},
  estimatedInputTokens: 1, maxOutputTokens: 100, startedAt: Date.now(),
})
const aborted = (): CallOutcome => ({
  status: 499, errorCode: 'client_closed_request', usage: undefined, provider: 'up', upstreamModel: 'm', attempts: [], cache: 'bypass',
  costUsd: null, durationMs: 5, clientAborted: true, streamedEvents: 7,
} as unknown as CallOutcome)

describe('estimated usage (tiktoken o200k_base)', () => {
  it('counts the prompt as tiktoken does, plus the per-message framing', async () => {
    const text = 'Say something about foxes.'
    const enc = get_encoding('o200k_base')
    const expected = 3 + 3 + enc.encode(text).length
    enc.free()
    const u = await estimateUsage(callWith(text), aborted())
    expect(u).toMatchObject({ inputTokens: expected, outputTokens: 5, estimated: true })
  })

  it("counts text that spells a special token as ordinary text (encode() throws on it)", async () => {
    const text = 'Explain what <|endoftext|> means in a GPT prompt.'
    const enc = get_encoding('o200k_base')
    const expected = 3 + 3 + enc.encode_ordinary(text).length
    expect(() => enc.encode(text)).toThrow()
    enc.free()
    const u = await estimateUsage(callWith(text), aborted())
    expect(u.inputTokens).toBe(expected)
  })
})
