import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { get_encoding } from 'tiktoken'
import { countTokens, estimateUsage, SAMPLE_BYTES, SEGMENT_CHARS } from '../../../src/accounting/estimate-usage.ts'
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

  it('hands the encoder no piece over SEGMENT_CHARS and no more than SAMPLE_BYTES, whatever the size', () => {
    const seen: string[] = []
    const counting = { encode_ordinary: (t: string) => { seen.push(t); return { length: Math.ceil(t.length / 4) } } }
    for (const texts of [['a'.repeat(2_000_000)], ['漢字'.repeat(500_000)], ['x'.repeat(10), '😀'.repeat(300_000), ' '.repeat(100)], Array.from({ length: 5000 }, (_, i) => `message ${i} `.repeat(30))]) {
      seen.length = 0
      countTokens(counting, texts)
      expect(Math.max(...seen.map((t) => t.length))).toBeLessThanOrEqual(SEGMENT_CHARS)
      expect(seen.reduce((n, t) => n + Buffer.byteLength(t), 0)).toBeLessThanOrEqual(SAMPLE_BYTES)
      // Calls are bounded too: each takes at least half a segment, or all that was left of a text or window.
      expect(seen.length).toBeLessThanOrEqual(SAMPLE_BYTES / (SEGMENT_CHARS / 2) + 2 * 16 + texts.length)
    }
  })

  it('extrapolates a sampled prompt to within a few percent of the exact count', () => {
    const enc = get_encoding('o200k_base')
    // Fixed text (the vendor recordings the tests keep), so the figure does not move as the code does.
    const dir = new URL('../../fixtures/', import.meta.url)
    let code = ''
    for (const f of (readdirSync(dir, { recursive: true }) as string[]).sort()) if (f.endsWith('.json') || f.endsWith('.txt')) code += readFileSync(new URL(f, dir), 'utf8')
    const cases = [[code.repeat(4)], [code, randomBytes(60_000).toString('base64'), 'hello world '.repeat(5000)], Array.from({ length: 300 }, (_, i) => code.slice(i * 100, i * 100 + 700))]
    for (const texts of cases) {
      const exact = texts.reduce((n, t) => n + enc.encode_ordinary(t).length, 0)
      // Measured: ~2% typical, up to ~6% where the content changes kind between windows.
      expect(Math.abs(countTokens(enc, texts) / exact - 1)).toBeLessThan(0.08)
    }
    enc.free()
  })
})
