import { describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { base64Images, estimatePromptTokens, IMAGE_TOKENS, MEDIA_SCAN_BYTES } from '../../../src/pipeline/estimate.ts'

const b64 = (bytes: number) => randomBytes(bytes).toString('base64')
const body = (o: unknown) => Buffer.from(JSON.stringify(o))
const text = (bytes: number) => Math.ceil((bytes * 0.9) / 4)

describe('prompt estimate with base64 images', () => {
  it('counts each image at IMAGE_TOKENS instead of its length, in every client shape', () => {
    const payload = b64(150_000)
    const shapes = {
      openai: { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${payload}`, detail: 'high' } }] }] },
      responses: { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', image_url: `data:image/jpeg;base64,${payload}` }] }] },
      anthropic: { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: payload } }] }] },
      gemini: { contents: [{ parts: [{ inline_data: { mime_type: 'image/webp', data: payload } }] }] },
      geminiCamel: { contents: [{ parts: [{ inlineData: { data: payload, mimeType: 'image/jpeg' } }] }] },
    }
    for (const [shape, o] of Object.entries(shapes)) {
      const raw = body(o)
      expect(base64Images(raw), shape).toEqual({ bytes: payload.length, images: 1 })
      expect(estimatePromptTokens(raw), shape).toBe(text(raw.length - payload.length) + IMAGE_TOKENS)
    }
  })

  it("reads JSON written with spaces (Python's json.dumps)", () => {
    const payload = b64(60_000)
    const raw = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: payload } }] }] }, null, 1).replace(/":"/g, '": "'))
    expect(base64Images(raw)).toEqual({ bytes: payload.length, images: 1 })
  })

  it('leaves what the vendor bills by its length: PDFs, audio, a data URL inside text or inside a JSON string', () => {
    const payload = b64(60_000)
    for (const o of [
      { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: payload } }] }] },
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: payload, format: 'wav' } }] }] },
      { input: [{ role: 'user', content: [{ type: 'input_file', filename: 'a.pdf', file_data: `data:application/pdf;base64,${payload}` }] }] },
      { messages: [{ role: 'user', content: `look: data:image/png;base64,${payload} ok` }] },
      { messages: [{ role: 'tool', content: JSON.stringify({ type: 'image_url', image_url: { url: `data:image/png;base64,${payload}` } }) }] },
      { messages: [{ role: 'tool', content: JSON.stringify({ media_type: 'image/png', data: payload }) }] },
      { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words '.repeat(6000) } }] }] },
    ]) {
      const raw = body(o)
      expect(base64Images(raw)).toEqual({ bytes: 0, images: 0 })
      expect(estimatePromptTokens(raw)).toBe(text(raw.length))
    }
  })

  it('an image next to a PDF: only the image is counted apart', () => {
    const img = b64(60_000)
    const pdf = b64(60_000)
    const raw = body({ messages: [{ role: 'user', content: [
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: img } },
    ] }] })
    expect(base64Images(raw)).toEqual({ bytes: img.length, images: 1 })
  })

  it('a body under MEDIA_SCAN_BYTES is estimated from its length alone', () => {
    const raw = body({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${b64(12_000)}` } }] }] })
    expect(raw.length).toBeLessThan(MEDIA_SCAN_BYTES)
    expect(estimatePromptTokens(raw)).toBe(text(raw.length))
  })

  it('looks at a bounded number of candidates, so a body of nothing but "data" members costs little', () => {
    const raw = body({ x: Array.from({ length: 100_000 }, () => ({ data: 'x' })), y: Array.from({ length: 50_000 }, () => ';base64,') })
    const t = performance.now()
    expect(estimatePromptTokens(raw)).toBe(text(raw.length))
    expect(performance.now() - t).toBeLessThan(50)
  })
})
