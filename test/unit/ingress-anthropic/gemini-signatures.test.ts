/**
 * Gemini thought signatures through the Anthropic ingress and back, fed with real Gemini 3
 * recordings: the answer an Anthropic client gets (non-streamed and streamed) carries them in a
 * `sbg1.` thinking block; the client sends that content back with its tool results; the Gemini
 * request of the next turn has each signature on the part it came from. Without the carrier,
 * Gemini 3 answers that turn with 400 ("Function call is missing a thought_signature").
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { anthropicIngress } from '../../../src/ingress/anthropic/index.ts'
import { geminiToChat } from '../../../src/providers/gemini/response.ts'
import { createGeminiStreamTranslator } from '../../../src/providers/gemini/stream.ts'
import { chatToGemini } from '../../../src/providers/gemini/request.ts'
import { chatToAnthropic } from '../../../src/providers/anthropic/chat-to-anthropic.ts'
import { messagesToBedrock } from '../../../src/providers/bedrock/request.ts'
import type { ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import type { JsonObject } from '../../../src/core/json.ts'

const recordings = new URL('../../fixtures/recordings/google/', import.meta.url)
const ctx = { requestedModel: 'claude-sonnet-4-6', clientWantsUsage: true }
type Block = Record<string, unknown>

function geminiStream(file: string): ChatCompletionChunk[] {
  const t = createGeminiStreamTranslator({ model: 'gemini-3-pro-preview', created: 1, opts: { clientWantsUsage: true } })
  const lines = readFileSync(new URL(file, recordings), 'utf8').split('\n').filter((l) => l.trim() !== '')
  const frames = [...lines.flatMap((data) => t.push({ event: undefined, data, raw: Buffer.from(data) })), ...t.end()]
  return frames.flatMap((f) => (f.kind === 'chunk' ? [f.chunk] : []))
}

/** The content blocks an Anthropic client assembles from the SSE events, as the SDK's finalMessage() does. */
function assemble(sse: string): Block[] {
  const blocks: Block[] = []
  for (const frame of sse.split('\n\n').filter(Boolean)) {
    const e = JSON.parse(frame.split('\n')[1]!.slice(6)) as { type: string; index: number; content_block: Block; delta: Record<string, string> }
    if (e.type === 'content_block_start') blocks[e.index] = { ...e.content_block }
    if (e.type !== 'content_block_delta') continue
    const b = blocks[e.index]!
    if (e.delta.type === 'thinking_delta') b.thinking = String(b.thinking) + e.delta.thinking
    if (e.delta.type === 'signature_delta') b.signature = e.delta.signature
    if (e.delta.type === 'text_delta') b.text = String(b.text) + e.delta.text
    if (e.delta.type === 'input_json_delta') b.json = String(b.json ?? '') + e.delta.partial_json
  }
  return blocks.map(({ json, ...b }) => (b.type === 'tool_use' ? { ...b, input: JSON.parse(String(json ?? '{}')) } : b))
}

function encodeStream(chunks: ChatCompletionChunk[]): string {
  const encoder = anthropicIngress.streamEncoder(ctx)
  return chunks.map((c) => encoder.push(c)).join('') + encoder.end(undefined)
}

/** Claude Code's next request: the assistant content as received, then a result for every tool_use. */
function nextTurn(content: Block[]): JsonObject {
  const results = content.filter((b) => b.type === 'tool_use').map((b) => ({ type: 'tool_result', tool_use_id: b.id, content: 'sunny' }))
  return {
    model: 'claude-sonnet-4-6', max_tokens: 1024,
    messages: [
      { role: 'user', content: 'What is the weather?' },
      { role: 'assistant', content: content as never },
      ...(results.length > 0 ? [{ role: 'user', content: results }] : [{ role: 'user', content: 'thanks' }]),
    ],
  } as JsonObject
}

/** Every thoughtSignature of the model turn Gemini receives next, by what its part holds. */
function modelSignatures(body: JsonObject): Array<[string, string]> {
  const contents = body.contents as Array<{ role: string; parts: Array<Record<string, unknown>> }>
  return contents.filter((c) => c.role === 'model').flatMap((c) => c.parts)
    .filter((p) => typeof p.thoughtSignature === 'string')
    .map((p) => [p.functionCall ? `call:${(p.functionCall as { name: string }).name}` : 'text', p.thoughtSignature as string])
}

describe('Gemini thought signatures through an Anthropic client', () => {
  it('non-streamed (google-tool-call-gemini3.json): a sbg1 thinking block first, and the signature back on the functionCall', () => {
    const body = JSON.parse(readFileSync(new URL('google-tool-call-gemini3.json', recordings), 'utf8')) as JsonObject
    const { completion } = geminiToChat(body, 'gemini-3-pro-preview', 1)
    const signature = (completion.choices[0]!.message.reasoning_details![0] as { signature: string }).signature
    const answer = anthropicIngress.fromChat(completion, ctx)
    const content = answer.content as Block[]
    expect(content.map((b) => b.type)).toEqual(['thinking', 'tool_use'])
    expect(content[0]).toEqual({ type: 'thinking', thinking: '', signature: expect.stringMatching(/^sbg1\.[A-Za-z0-9_-]+$/) })

    const gemini = chatToGemini(anthropicIngress.toChat(nextTurn(content)))
    expect(modelSignatures(gemini)).toEqual([['call:weather', signature]])
  })

  it.each([
    ['google-tool-call-gemini3.chunks.txt', [['call:weather', 'first']]],
    // Parallel calls: Gemini signs only the first, and only the first gets it back.
    ['google-stream-tool-call-arguments.chunks.txt', [['call:getWeather', 'first']]],
    // A text answer: the signature sits on the text part.
    ['google-reasoning-gemini3.chunks.txt', [['text', 'first']]],
  ])('streamed (%s): the SSE carries the signature and the next turn puts it back where it was', (file, expected) => {
    const chunks = geminiStream(file)
    const signature = chunks.flatMap((c) => c.choices[0]?.delta.reasoning_details ?? []).map((d) => (d as { signature: string }).signature)[0]!
    const content = assemble(encodeStream(chunks))
    const carriers = content.filter((b) => b.type === 'thinking')
    expect(carriers).toEqual([{ type: 'thinking', thinking: '', signature: expect.stringMatching(/^sbg1\./) }])

    const gemini = chatToGemini(anthropicIngress.toChat(nextTurn(content)))
    expect(modelSignatures(gemini)).toEqual(expected.map(([part]) => [part, signature]))
  })

  it("Gemini's thought text and its signature are one thinking block, streamed or not", () => {
    const base = { id: 'c1', object: 'chat.completion.chunk' as const, created: 1, model: 'g' }
    const details = [{ type: 'thought_signature' as const, signature: 'SIG==', tool_call_id: 'call_1' }]
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'weather', arguments: '{"city":"Paris"}' } }
    const streamed = assemble(encodeStream([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'Planning.' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { reasoning_details: details, tool_calls: [{ index: 0, ...call }] }, finish_reason: 'stop' }] },
    ]))
    const whole = anthropicIngress.fromChat({
      ...base, object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: null, reasoning_content: 'Planning.', reasoning_details: details, tool_calls: [call] }, finish_reason: 'tool_calls' }],
    }, ctx).content as Block[]
    for (const content of [streamed, whole]) {
      expect(content.map((b) => b.type)).toEqual(['thinking', 'tool_use'])
      expect(content[0]).toMatchObject({ thinking: 'Planning.', signature: expect.stringMatching(/^sbg1\./) })
      const chat = anthropicIngress.toChat(nextTurn(content))
      expect(chat.messages[1]).toMatchObject({ reasoning_content: 'Planning.', reasoning_details: details })
    }
  })

  it('a carrier never reaches an Anthropic or Bedrock request as a thinking signature', () => {
    const body = JSON.parse(readFileSync(new URL('google-tool-call-gemini3.json', recordings), 'utf8')) as JsonObject
    const content = anthropicIngress.fromChat(geminiToChat(body, 'gemini-3-pro-preview', 1).completion, ctx).content as Block[]
    const chat = anthropicIngress.toChat(nextTurn(content))
    expect(JSON.stringify(chatToAnthropic(chat, 'claude-sonnet-4-6', false))).not.toMatch(/sbg1|thinking/)
    expect(JSON.stringify(messagesToBedrock(chat.messages))).not.toMatch(/sbg1|reasoningContent/)
  })

  it('an envelope the client altered gives no signature rather than a broken one', () => {
    const chat = anthropicIngress.toChat(nextTurn([
      { type: 'thinking', thinking: '', signature: 'sbg1.bm90LWpzb24' },
      { type: 'tool_use', id: 'call_1', name: 'weather', input: {} },
    ]))
    expect(chat.messages[1]).not.toHaveProperty('reasoning_details')
  })
})
