/** OpenAI-compatible dialects (real Mistral and Groq recordings) brought to the canonical Chat shape. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { canonicalChunk, canonicalCompletion } from '../../../src/providers/openai/chat-dialects.ts'
import type { ChatCompletion, ChatCompletionChunk } from '../../../src/core/openai-chat.ts'

const recordings = new URL('../../fixtures/recordings/', import.meta.url)
const chunksOf = (file: string): ChatCompletionChunk[] =>
  readFileSync(new URL(file, recordings), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ChatCompletionChunk)
const completionOf = (file: string): ChatCompletion => JSON.parse(readFileSync(new URL(file, recordings), 'utf8')) as ChatCompletion
const deltas = (chunks: ChatCompletionChunk[]) => chunks.map((c) => canonicalChunk(c).choices[0]?.delta ?? {})
const joined = (values: unknown[]): string => values.filter((v) => typeof v === 'string').join('')

describe('OpenAI-compatible dialects', () => {
  it('Mistral (magistral) streams content as parts: thinking parts become reasoning_content, text parts the content', () => {
    const out = deltas(chunksOf('mistral/mistral-reasoning.chunks.txt'))
    expect(out.slice(0, 3)).toEqual([
      { role: 'assistant', content: '', reasoning_content: 'The user is asking' },
      { content: '', reasoning_content: ' for 2+2. This is basic arithmetic. 2+2=4.' },
      { content: '2 + 2 = 4' },
    ])
    expect(out[3]).toEqual({ content: '' })
  })

  it('Mistral non-streamed: the same split on the message', () => {
    const message = canonicalCompletion(completionOf('mistral/mistral-reasoning.json')).choices[0]!.message
    expect(message).toEqual({ role: 'assistant', content: '2 + 2 = 4', reasoning_content: 'The user is asking for 2+2. This is basic arithmetic. 2+2=4.' })
  })

  it('Groq names the reasoning text `reasoning`: it becomes reasoning_content, streamed or not', () => {
    const chunks = chunksOf('groq/groq-reasoning.chunks.txt')
    const out = deltas(chunks)
    expect(joined(out.map((d) => d.reasoning_content))).toBe(joined(chunks.map((c) => (c.choices[0]?.delta as { reasoning?: string } | undefined)?.reasoning)))
    expect(out.some((d) => 'reasoning' in d)).toBe(false)
    const body = completionOf('groq/groq-reasoning.json')
    const message = canonicalCompletion(body).choices[0]!.message
    expect(message.reasoning_content).toBe(body.choices[0]!.message.reasoning)
    expect(message.content).toBe(body.choices[0]!.message.content)
  })

  it.each([
    'openai/chat/openai-text.chunks.txt', 'deepseek/chat/deepseek-reasoning.chunks.txt', 'mistral/mistral-text.chunks.txt',
    'groq/groq-tool-call.chunks.txt', 'xai/xai-tool-call.chunks.txt',
  ])('%s is already canonical: every chunk comes back as the same object', (file) => {
    for (const c of chunksOf(file)) expect(canonicalChunk(c)).toBe(c)
  })

  it('a completion already canonical is the same object, and the input is never changed', () => {
    const deepseek = completionOf('deepseek/chat/deepseek-reasoning.json')
    expect(canonicalCompletion(deepseek)).toBe(deepseek)
    const mistral = completionOf('mistral/mistral-reasoning.json')
    const copy = structuredClone(mistral)
    canonicalCompletion(mistral)
    expect(mistral).toEqual(copy)
  })
})
