/**
 * Bedrock Claude's streamed thinking (the real amazon-bedrock-reasoning recording) through both
 * translated client streams. The Bedrock translator streams the thinking text as reasoning deltas,
 * then sends the whole text again with the signature when the block stops; each client must get the
 * text once, then the signature.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { anthropicIngress } from '../../../src/ingress/anthropic/index.ts'
import { createResponsesStreamEncoder } from '../../../src/ingress/responses/stream-encoder.ts'
import { decodeReasoning } from '../../../src/ingress/responses/reasoning.ts'
import { createBedrockStreamTranslator } from '../../../src/providers/bedrock/stream.ts'
import type { ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import type { JsonObject } from '../../../src/core/json.ts'

const file = new URL('../../fixtures/recordings/amazon-bedrock/amazon-bedrock-reasoning.chunks.txt', import.meta.url)
const ctx = { requestedModel: 'claude-sonnet-4-6', clientWantsUsage: true }

/** The recording's events (one decoded event-stream message per line, `{"<event>": payload}`) as Chat chunks. */
function bedrockChunks(): ChatCompletionChunk[] {
  const t = createBedrockStreamTranslator({ model: 'anthropic.claude-sonnet-4', created: 1, id: 'chatcmpl-b', opts: { clientWantsUsage: true } })
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
  const frames = [...lines.flatMap((data) => t.push({ event: undefined, data, raw: Buffer.from(data) })), ...t.end()]
  return frames.flatMap((f) => (f.kind === 'chunk' ? [f.chunk] : []))
}

/** What the recording's thinking block says, and its signature. */
function recordedThinking(): { text: string; signature: string } {
  let text = ''
  let signature = ''
  for (const line of readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')) {
    const rc = (JSON.parse(line) as { contentBlockDelta?: { delta: { reasoningContent?: { text?: string; signature?: string } } } }).contentBlockDelta?.delta.reasoningContent
    text += rc?.text ?? ''
    signature = rc?.signature ?? signature
  }
  return { text, signature }
}

describe('Bedrock thinking streamed to translated clients', () => {
  const expected = recordedThinking()

  it('Anthropic SSE: one thinking block with the text once, then its signature', () => {
    const encoder = anthropicIngress.streamEncoder(ctx)
    const sse = bedrockChunks().map((c) => encoder.push(c)).join('') + encoder.end(undefined)
    const events = sse.split('\n\n').filter(Boolean).map((f) => JSON.parse(f.split('\n')[1]!.slice(6)) as { type: string; index?: number; delta?: Record<string, string>; content_block?: { type: string } })
    const thinkingIndex = events.find((e) => e.content_block?.type === 'thinking')!.index
    const deltas = events.filter((e) => e.type === 'content_block_delta' && e.index === thinkingIndex).map((e) => e.delta!)
    expect(deltas.filter((d) => d.type === 'thinking_delta').map((d) => d.thinking).join('')).toBe(expected.text)
    expect(deltas.at(-1)).toEqual({ type: 'signature_delta', signature: expected.signature })
    expect(events.filter((e) => e.content_block?.type === 'thinking')).toHaveLength(1)
  })

  it('Responses: the summary holds the text once and encrypted_content the signed block', () => {
    const encoder = createResponsesStreamEncoder({ ...ctx, request: { model: 'pub', input: 'How many rs in strawberry?' } })
    for (const c of bedrockChunks()) encoder.push(c)
    encoder.end(undefined)
    const reasoning = (encoder.result!()!.output as JsonObject[]).find((i) => i.type === 'reasoning')!
    expect(reasoning.summary).toEqual([{ type: 'summary_text', text: expected.text }])
    expect(decodeReasoning(reasoning.encrypted_content as string)).toEqual([{ type: 'thinking', thinking: expected.text, signature: expected.signature }])
  })
})
