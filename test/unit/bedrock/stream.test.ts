import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import { createBedrockStreamTranslator } from '../../../src/providers/bedrock/stream.ts'
import type { StreamTranslator } from '../../../src/providers/types.ts'
import { createAwsEventStreamDecoder } from '../../../src/upstream/aws-eventstream.ts'
import { exceptionFrame, framesFromRecording } from './frames.ts'

const fixtureLines = (name: string): string[] =>
  readFileSync(new URL(`../../fixtures/bedrock/${name}`, import.meta.url), 'utf8').split('\n').filter((l) => l.trim() !== '')

/** Encodes the events as binary frames, re-chunks the bytes at `cut`-sized boundaries, decodes and translates. */
function run(frames: Buffer[], cut = 0, clientWantsUsage = true): { chunks: ChatCompletionChunk[]; t: StreamTranslator } {
  const bytes = Buffer.concat(frames)
  const pieces = cut > 0 ? Array.from({ length: Math.ceil(bytes.length / cut) }, (_, i) => bytes.subarray(i * cut, (i + 1) * cut)) : [bytes]
  const decoder = createAwsEventStreamDecoder()
  const t = createBedrockStreamTranslator({ model: 'm', created: 5, id: 'chatcmpl-x', opts: { clientWantsUsage } })
  const out = pieces.flatMap((p) => decoder.push(p)).flatMap((e) => t.push(e))
  out.push(...t.end())
  return { chunks: out.map((f) => (f.kind === 'chunk' ? f.chunk : expect.unreachable('raw frame'))), t }
}

const deltas = (chunks: ChatCompletionChunk[]) => chunks.map((c) => (c.choices[0] ? { ...c.choices[0].delta, finish: c.choices[0].finish_reason } : { usage: c.usage }))

describe('bedrock stream translator', () => {
  it('streams recorded reasoning then text, frames split at odd boundaries', () => {
    const lines = fixtureLines('amazon-bedrock-reasoning.chunks.txt')
    const whole = run(framesFromRecording(lines))
    const split = run(framesFromRecording(lines), 37)
    expect(deltas(split.chunks)).toEqual(deltas(whole.chunks))
    const d = deltas(whole.chunks)
    expect(d[0]).toEqual({ role: 'assistant', content: '', finish: null })
    expect(d[1]).toEqual({ reasoning_content: 'Let me count the r', finish: null })
    const details = d.find((x) => 'reasoning_details' in x)
    expect(details).toEqual({
      reasoning_details: [{ type: 'thinking', thinking: 'Let me count the r\'s in "strawberry":\n\ns-t-r-a-w-b-e-r-r-y\n\nr appears at positions 3, 8, and 9.\n\nSo there are 3 r\'s.', signature: expect.stringMatching(/^Ep0CCkgICxAB.*aGAE=$/) }],
      finish: null,
    })
    const text = whole.chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')
    expect(text).toBe('There are **3** r\'s in "strawberry":\n\n1. st**r**awbe**r****r**y')
    expect(d.at(-2)).toEqual({ finish: 'stop' })
    expect(d.at(-1)).toEqual({ usage: { prompt_tokens: 51, completion_tokens: 94, total_tokens: 145 } })
    expect(whole.chunks[0]).toMatchObject({ id: 'chatcmpl-x', created: 5, model: 'm', object: 'chat.completion.chunk' })
  })

  it('streams text and several tool calls with their own indexes', () => {
    const { chunks, t } = run(framesFromRecording(fixtureLines('amazon-bedrock-json-with-tools.1.chunks.txt')), 11)
    expect(deltas(chunks)).toEqual([
      { role: 'assistant', content: '', finish: null },
      { content: 'Multiple tools.', finish: null },
      { tool_calls: [{ index: 0, id: 'tool-1', type: 'function', function: { name: 'tool-a', arguments: '' } }], finish: null },
      { tool_calls: [{ index: 0, function: { arguments: '{"a":"1"}' } }], finish: null },
      { tool_calls: [{ index: 1, id: 'tool-2', type: 'function', function: { name: 'tool-b', arguments: '' } }], finish: null },
      { tool_calls: [{ index: 1, function: { arguments: '{"b":"2"}' } }], finish: null },
      { content: 'Final JSON.', finish: null },
      { tool_calls: [{ index: 2, id: 'json-tool-id', type: 'function', function: { name: 'json', arguments: '' } }], finish: null },
      { tool_calls: [{ index: 2, function: { arguments: '{"final":"result"}' } }], finish: null },
      { finish: 'tool_calls' },
    ])
    expect(t.usage()).toBeUndefined()
    expect(t.finishReasons?.()).toEqual(['tool_calls'])
  })

  it('closes a tool call without arguments with "{}", and reads usage before messageStop', () => {
    // Recorded: the toolUse block's only input delta is "". The joined arguments must parse as
    // JSON (OpenAI sends "{}" for a call with no arguments; clients JSON.parse them).
    const { chunks, t } = run(framesFromRecording(fixtureLines('amazon-bedrock-tool-no-args.chunks.txt')), 0, false)
    expect(deltas(chunks).slice(2)).toEqual([
      { tool_calls: [{ index: 0, id: 'tool-use-id', type: 'function', function: { name: 'updateIssueList', arguments: '' } }], finish: null },
      { tool_calls: [{ index: 0, function: { arguments: '{}' } }], finish: null },
      { finish: 'tool_calls' },
    ])
    const joined = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((d) => d.function?.arguments ?? '').join('')
    expect(JSON.parse(joined)).toEqual({})
    expect(t.usage()).toEqual({ inputTokens: 100, outputTokens: 25, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false })
  })

  it('normalizes streamed cache usage', () => {
    const { t } = run(framesFromRecording([JSON.stringify({ metadata: { usage: { inputTokens: 3, outputTokens: 9, cacheReadInputTokens: 1000, cacheWriteInputTokens: 0, totalTokens: 1012 } } })]))
    expect(t.usage()).toEqual({ inputTokens: 1003, outputTokens: 9, cachedInputTokens: 1000, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false })
  })

  it('reports an in-stream exception through error()', () => {
    const frames = [...framesFromRecording(['{"messageStart":{"role":"assistant"}}']), exceptionFrame('throttlingException', 'Too many tokens, please wait before trying again.')]
    const { t } = run(frames)
    expect(t.error()).toEqual({ status: 429, code: 'ThrottlingException', type: 'ThrottlingException', kind: 'rate_limited', message: 'Too many tokens, please wait before trying again.' })
    const other = run([exceptionFrame('modelStreamErrorException', 'boom')]).t.error()
    expect(other?.kind).toBe('server')
  })
})

const recordings = new URL('../../../../shared/vendor-recordings/amazon-bedrock/', import.meta.url)

describe.runIf(existsSync(recordings))('every recorded Bedrock stream', () => {
  const files = existsSync(recordings) ? readdirSync(recordings).filter((f) => f.endsWith('.chunks.txt')) : []
  it.each(files)('%s translates without throwing and finds usage when sent', (file) => {
    const lines = readFileSync(new URL(file, recordings), 'utf8').split('\n').filter((l) => l.trim() !== '')
    const { t } = run(framesFromRecording(lines), 23)
    const hasMetadata = lines.some((l) => l.startsWith('{"metadata"'))
    if (hasMetadata) expect(t.usage()?.inputTokens).toBeGreaterThan(0)
    else expect(t.usage()).toBeUndefined()
    expect(t.finishReasons?.()).toHaveLength(lines.some((l) => l.startsWith('{"messageStop"')) ? 1 : 0)
    expect(t.error()).toBeUndefined()
  })
})
