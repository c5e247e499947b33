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
  const CHUNK = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
  const forward = (text: string): { raw: Buffer; bytes: Buffer } => {
    const t = openAIStreamTranslator(input, { clientWantsUsage: false })
    // After a first chunk: an error that opens a stream is the attempt's failure, not forwarded (below).
    t.push(createSseParser().push(b(CHUNK))[0]!)
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

  it('takes an error that opens the stream as the attempt\'s failure: nothing forwarded, the status its code names', () => {
    const opening = (text: string) => {
      const t = openAIStreamTranslator(input, { clientWantsUsage: false })
      const frames = t.push(createSseParser().push(b(text))[0]!)
      return { frames, error: t.error() }
    }
    const routerLimit = opening('data: {"error":{"message":"Rate limit exceeded","code":429}}\n\n')
    expect(routerLimit.frames).toEqual([])
    expect(routerLimit.error).toMatchObject({ status: 429, kind: 'rate_limited', message: 'Rate limit exceeded' })
    expect(opening('data: {"error":{"message":"bad","type":"invalid_request_error"}}\n\n').error).toMatchObject({ status: 400, kind: 'bad_request' })
    expect(opening('event: error\ndata: {"type":"error","code":"server_error","message":"x"}\n\n').error).toMatchObject({ status: 500, kind: 'server' })
    expect(opening('data: {"error":{"message":"?"}}\n\n').error).toMatchObject({ status: 500, kind: 'server' })
    expect(opening(CHUNK).error).toBeUndefined()
  })
})
