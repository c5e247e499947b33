import { describe, expect, it } from 'vitest'
import { isErrorEvent, openAIStreamTranslator } from '../../../src/providers/openai/stream.ts'
import { createSseParser } from '../../../src/upstream/sse.ts'
import type { AttemptInput } from '../../../src/providers/types.ts'

const b = (s: string) => Buffer.from(s)

describe('isErrorEvent', () => {
  it('tells error events by their first bytes', () => {
    for (const e of ['data: {"error":{"message":"x"}}\n\n', 'data:{"error":{}}\n\n', 'data: { "error": {} }\n\n', 'data: {"object": "error", "message": "x"}\n\n', 'data: {"type":"error","message":"x"}\n\n', 'event: error\ndata: {}\n\n', 'event:error\r\ndata: {}\r\n\r\n', 'event: response.failed\ndata: {}\n\n']) {
      expect(isErrorEvent(b(e)), e).toBe(true)
    }
  })

  it('and nothing else, whatever the content says', () => {
    for (const e of ['data: {"id":"c","object":"chat.completion.chunk","choices":[{"delta":{"content":"{\\"error\\":1}"}}]}\n\n', 'data: {"object":"chat.completion.chunk"}\n\n', 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"error"}\n\n', 'event: errors\ndata: {}\n\n', 'data: [DONE]\n\n', 'data: "error"\n\n']) {
      expect(isErrorEvent(b(e)), e).toBe(false)
    }
  })
})

describe('the OpenAI stream translator', () => {
  const input = { operation: 'chat', apiKey: 'tok.Short+Key/99', provider: { name: 'p', type: 'openai-compatible', baseUrl: 'http://x', headers: {} } } as unknown as AttemptInput
  /** The one event in `text`, and the bytes the translator forwards for it. */
  const forward = (text: string): { raw: Buffer; bytes: Buffer } => {
    const t = openAIStreamTranslator(input, { clientWantsUsage: false })
    const [ev] = createSseParser().push(b(text))
    const [frame] = t.push(ev!)
    if (frame?.kind !== 'raw') throw new Error('expected a raw frame')
    return { raw: ev!.raw, bytes: frame.bytes }
  }

  it('forwards a normal chunk as the very buffer it came in', () => {
    const { raw, bytes } = forward('data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok.Short+Key/99"}}]}\n\n')
    expect(bytes).toBe(raw)
  })

  it('scrubs the exact key from an error event, keeping its other fields; an error without secrets keeps its bytes', () => {
    expect(forward('event: error\nid: 7\ndata: {"error":{"message":"bad key tok.Short+Key/99","param":"tok.Short+Key/99"}}\n\n').bytes.toString()).toBe('event: error\nid: 7\ndata: {"error":{"message":"bad key [redacted]","param":"[redacted]"}}\n\n')
    const clean = forward('data: {"error":{"message":"overloaded"}}\n\n')
    expect(clean.bytes).toBe(clean.raw)
  })
})
