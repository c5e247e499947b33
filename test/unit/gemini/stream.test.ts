import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import { createGeminiStreamTranslator } from '../../../src/providers/gemini/stream.ts'
import type { StreamTranslator } from '../../../src/providers/types.ts'

const fixtureLines = (name: string): string[] =>
  readFileSync(new URL(`../../fixtures/gemini/${name}`, import.meta.url), 'utf8').split('\n').filter((l) => l.trim() !== '')

function run(lines: string[], clientWantsUsage = true): { chunks: ChatCompletionChunk[]; t: StreamTranslator } {
  const t = createGeminiStreamTranslator({ model: 'req-model', created: 42, opts: { clientWantsUsage } })
  const frames = lines.flatMap((data) => t.push({ event: undefined, data, raw: Buffer.from(data) }))
  frames.push(...t.end())
  return { chunks: frames.map((f) => (f.kind === 'chunk' ? f.chunk : expect.unreachable('raw frame'))), t }
}

const deltas = (chunks: ChatCompletionChunk[]) => chunks.map((c) => (c.choices[0] ? { ...c.choices[0].delta, finish: c.choices[0].finish_reason } : { usage: c.usage }))

describe('gemini stream translator', () => {
  it('streams recorded text with a trailing thought signature and the usage chunk', () => {
    const { chunks, t } = run(fixtureLines('google-reasoning.chunks.txt'))
    const sig = JSON.parse(fixtureLines('google-reasoning.chunks.txt')[2] ?? '{}').candidates[0].content.parts[0].thoughtSignature as string
    expect(deltas(chunks)).toEqual([
      { role: 'assistant', content: '', finish: null },
      { content: 'There are **3** "r"s in', finish: null },
      { content: ' strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.', finish: null },
      { reasoning_details: [{ type: 'thought_signature', signature: sig }], finish: null },
      { finish: 'stop' },
      { usage: { prompt_tokens: 9, completion_tokens: 285, total_tokens: 294, completion_tokens_details: { reasoning_tokens: 256 } } },
    ])
    expect(chunks[0]).toMatchObject({ id: 'chatcmpl-dX6LadKVC7SZ28oPr9yJoQs', object: 'chat.completion.chunk', created: 42, model: 'gemini-3-pro-preview' })
    expect(t.usage()).toEqual({ inputTokens: 9, outputTokens: 285, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 256, estimated: false })
    expect(t.finishReasons?.()).toEqual(['stop'])
    expect(t.responseId?.()).toBe('dX6LadKVC7SZ28oPr9yJoQs')
  })

  it('a blocked prompt (the only event: promptFeedback.blockReason, no candidates) is a content-filter error', () => {
    const { chunks, t } = run([JSON.stringify({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } })], false)
    expect(chunks).toEqual([])
    expect(t.error()).toMatchObject({ status: 400, code: 'content_filter', kind: 'content_filter' })
  })

  it('omits the usage chunk when the client did not ask, but still reports usage', () => {
    const { chunks, t } = run(fixtureLines('google-reasoning.chunks.txt'), false)
    expect(chunks.some((c) => c.usage)).toBe(false)
    expect(t.usage()?.inputTokens).toBe(9)
  })

  it('synthesizes a whole tool call with its signature and reports tool_calls', () => {
    const { chunks } = run(fixtureLines('google-tool-call.chunks.txt'))
    const d = deltas(chunks)
    expect(d[1]).toEqual({
      tool_calls: [{ index: 0, id: 'call_b36LacjwM668nsEP2tbsgQQ_0', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } }],
      reasoning_details: [{ type: 'thought_signature', signature: expect.stringMatching(/^EqUCCqICAb4/), tool_call_id: 'call_b36LacjwM668nsEP2tbsgQQ_0' }],
      finish: null,
    })
    expect(d[2]).toEqual({ finish: 'tool_calls' })
  })

  it('assembles streamed partialArgs into whole calls (thought text, no-args and parallel calls)', () => {
    const { chunks } = run(fixtureLines('google-stream-no-args-tool-call.chunks.txt'))
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    expect(calls.map((c) => [c.index, c.function?.name, c.function?.arguments])).toEqual([
      [0, 'read_theme', '{}'],
      [1, 'read_screen', '{"id":"A"}'],
      [2, 'read_screen', '{"id":"B"}'],
      [3, 'read_screen', '{"id":"C"}'],
    ])
    expect(chunks[1]?.choices[0]?.delta.reasoning_content).toMatch(/^\*\*Processing User Requests\*\*/)
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls')
  })

  it('closes a streamed call whose last fragment is the final partialArgs (arrays and numbers)', () => {
    const { chunks } = run(fixtureLines('google-stream-tool-call-array-arguments-missing-terminal-function-call.chunks.txt'))
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    expect(calls).toHaveLength(1)
    expect(JSON.parse(calls[0]?.function?.arguments ?? '')).toEqual({
      operations: [
        { action: 'add', description: 'Fresh red apple', itemid: 'apple_001', price: 0.5 },
        { action: 'add', description: 'Ripe yellow banana', itemid: 'banana_001', price: 0.3 },
      ],
    })
  })

  it('keeps candidates apart and records an error event', () => {
    const { chunks, t } = run([
      JSON.stringify({ candidates: [{ index: 0, content: { parts: [{ text: 'a' }] } }, { index: 1, content: { parts: [{ text: 'b' }] }, finishReason: 'SAFETY' }] }),
      JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }),
    ])
    expect(chunks.map((c) => [c.choices[0]?.index, c.choices[0]?.delta.content, c.choices[0]?.finish_reason])).toEqual([
      [0, '', null], [0, 'a', null], [1, '', null], [1, 'b', null], [1, undefined, 'content_filter'],
    ])
    expect(t.error()).toEqual({ status: 503, code: 'UNAVAILABLE', type: 'UNAVAILABLE', kind: 'overloaded', message: 'The model is overloaded.' })
  })
})

const recordings = new URL('../../../../shared/vendor-recordings/google/', import.meta.url)

describe.runIf(existsSync(recordings))('every recorded Gemini stream', () => {
  const files = existsSync(recordings) ? readdirSync(recordings).filter((f) => f.endsWith('.chunks.txt')) : []
  it.each(files)('%s translates without throwing and yields usage', (file) => {
    const lines = readFileSync(new URL(file, recordings), 'utf8').split('\n').filter((l) => l.trim() !== '')
    const { chunks, t } = run(lines)
    expect(t.usage()?.inputTokens).toBeGreaterThan(0)
    expect(chunks.at(-1)?.usage?.prompt_tokens).toBe(t.usage()?.inputTokens)
    expect(t.finishReasons?.()).toHaveLength(1)
    expect(t.error()).toBeUndefined()
  })
})
