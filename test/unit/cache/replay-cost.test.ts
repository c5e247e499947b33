import { describe, expect, it } from 'vitest'
import { withZeroStreamCost } from '../../../src/cache/replay-cost.ts'
import type { CallInfo } from '../../../src/core/call.ts'
import type { CachedResponse } from '../../../src/core/ports.ts'
import type { JsonObject } from '../../../src/core/json.ts'

const call = (body: JsonObject, over: Partial<CallInfo> = {}): CallInfo => ({
  requestId: 'r', operation: 'chat', ingress: 'openai', publicModel: 'm', principal: { keyId: 'k', keyName: 'k', team: 't' },
  runId: undefined, tags: [], stream: true, body, rawBody: undefined, headers: {}, estimatedInputTokens: 0, maxOutputTokens: 0, startedAt: 0, ...over,
})
const usage = { stream: true, stream_options: { include_usage: true } }
const stream = (frames: string[], costUsd: number | null = 12.5): CachedResponse =>
  ({ kind: 'stream', frames: frames.map((f) => Buffer.from(f)), usage: undefined, provider: 'p', upstreamModel: 'u', costUsd })
const text = (r: CachedResponse) => (r.kind === 'stream' ? r.frames.map((f) => f.toString()) : [])

describe('withZeroStreamCost', () => {
  const annotated = ['data: {"choices":[{"delta":{"content":"hi"}}]}\n\n', 'data: {"choices":[],"usage":{"total_tokens":3},"switchboard":{"cost_usd":12.50000000}}\n\n', 'data: [DONE]\n\n']

  it('sets the usage chunk\'s cost to 0 and leaves every other frame (and the stored cost) alone', () => {
    const r = stream(annotated)
    const z = withZeroStreamCost(call(usage), r)
    expect(text(z)).toEqual([annotated[0], 'data: {"choices":[],"usage":{"total_tokens":3},"switchboard":{"cost_usd":0.00000000}}\n\n', annotated[2]])
    expect(z.costUsd).toBe(12.5)
    // The first response's frames are not written to.
    expect(text(r)).toEqual(annotated)
  })

  it('only our annotation, the last member of its chunk, is changed', () => {
    const chained = 'data: {"usage":{},"switchboard":{"cost_usd":1.00000000},"switchboard":{"cost_usd":2.00000000}}\n\n'
    expect(text(withZeroStreamCost(call(usage), stream([chained])))).toEqual(['data: {"usage":{},"switchboard":{"cost_usd":1.00000000},"switchboard":{"cost_usd":0.00000000}}\n\n'])
  })

  it('returns the response itself when nothing was annotated', () => {
    const cases: Array<[CallInfo, CachedResponse]> = [
      [call(usage), stream(annotated, null)],
      [call({ stream: true }), stream(annotated)],
      [call(usage, { ingress: 'anthropic', operation: 'messages' }), stream(annotated)],
      [call(usage), stream(['data: {"choices":[]}\n\n'])],
    ]
    for (const [c, r] of cases) expect(withZeroStreamCost(c, r)).toBe(r)
    const body: CachedResponse = { kind: 'body', status: 200, contentType: 'application/json', body: Buffer.from('{}'), usage: undefined, provider: 'p', upstreamModel: 'u', costUsd: 1 }
    expect(withZeroStreamCost(call({}), body)).toBe(body)
  })
})
