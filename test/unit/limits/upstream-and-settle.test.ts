import { describe, expect, it } from 'vitest'
import type { CallOutcome } from '../../../src/core/call.ts'
import { settledTokens } from '../../../src/limits/guard.ts'
import { withUpstreamLimits } from '../../../src/limits/upstream-limits.ts'
import type { Target } from '../../../src/routing/deployments.ts'
import type { TargetHealth } from '../../../src/routing/health.ts'

const outcome = (o: Partial<CallOutcome>): CallOutcome => ({ status: 200, attempts: [], cache: 'miss', costUsd: null, durationMs: 1, clientAborted: false, ...o })
const usage = { inputTokens: 30, outputTokens: 12, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }
const attempt = (error?: string) => ({ provider: 'p', upstreamModel: 'm', publicModel: 'x', attempt: 1, fallback: false, status: error ? undefined : 200, error, durationMs: 1 })

describe('settlement of a token reservation', () => {
  it('charges real usage when there is some', () => {
    expect(settledTokens(outcome({ usage, attempts: [attempt()] }), 500)).toBe(42)
  })
  it('keeps the reservation when a vendor was tried but reported nothing (failed, timed out, cut short)', () => {
    expect(settledTokens(outcome({ status: 504, attempts: [attempt('first_byte_timeout')] }), 500, 20)).toBe(500)
    expect(settledTokens(outcome({ status: 200, streamedEvents: 9, attempts: [attempt()] }), 500, 20)).toBe(500)
  })
  it('a client abort (the vendor is aborted at once) settles to the prompt estimate plus what was streamed', () => {
    expect(settledTokens(outcome({ status: 499, clientAborted: true, attempts: [attempt('aborted')] }), 500, 20)).toBe(20)
    expect(settledTokens(outcome({ status: 200, clientAborted: true, streamedEvents: 9, attempts: [attempt('aborted')] }), 500, 20)).toBe(27)
    expect(settledTokens(outcome({ status: 200, clientAborted: true, streamedEvents: 900, attempts: [attempt('aborted')] }), 500, 20)).toBe(500)
  })
  it('refunds fully when no vendor was tried (refused later, provider disabled) and for cache hits', () => {
    expect(settledTokens(outcome({ status: 429 }), 500)).toBe(0)
    expect(settledTokens(outcome({ status: 503, attempts: [attempt('provider_disabled'), attempt('no_key_available')] }), 500)).toBe(0)
    expect(settledTokens(outcome({ cache: 'hit', usage }), 500)).toBe(0)
  })
})

describe('upstream limits', () => {
  const target = (id: string, provider: string, entry: { rpm?: number; tpm?: number }): Target =>
    ({ id, publicModel: 'm', provider: { name: provider }, upstreamModel: `${provider}-model`, weight: 1, entry: { provider, model: `${provider}-model`, weight: 1, ...entry } }) as unknown as Target
  const a = target('m#0', 'a', { rpm: 2 })
  const b = target('m#1', 'b', { tpm: 100 })
  const c = target('m#2', 'c', {})
  const started: string[] = []
  const inner: TargetHealth = {
    order: (_m: string, list: readonly Target[]) => [...list],
    started: (t: Target) => { started.push(t.id); return true },
    finished: () => {},
  } as unknown as TargetHealth
  let now = 120_000
  const up = withUpstreamLimits(inner, new Map([['m', [a, b, c]]]), undefined, 'sb:', () => now)

  it('leaves out targets at their vendor rpm/tpm for the rest of the minute, keeps all when all are', async () => {
    expect(up.health.order('m', [a, b, c])).toEqual([a, b, c])
    up.health.started(a)
    up.health.started(a)
    expect(started).toEqual(['m#0', 'm#0'])
    expect(up.usage('a', 'a-model')).toEqual({ requests: 2, tokens: 0 })
    expect(up.health.order('m', [a, b, c])).toEqual([b, c])
    const r = await up.guard!.reserve({} as never)
    r!.settle(outcome({ provider: 'b', upstreamModel: 'b-model', usage: { ...usage, inputTokens: 88 } }))
    expect(up.health.order('m', [a, b, c])).toEqual([c])
    expect(up.health.order('m', [a, b])).toEqual([a, b])
    now += 60_000
    expect(up.health.order('m', [a, b, c])).toEqual([a, b, c])
  })
})
