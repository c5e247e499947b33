import { describe, expect, it } from 'vitest'
import { multipartField, parsePassthroughBody } from '../../../src/pipeline/parse-request.ts'

const form = (boundary: string, parts: Array<{ disposition: string; type?: string; body: string | Buffer }>): Buffer => Buffer.concat([
  ...parts.flatMap((p) => [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${p.disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`),
    typeof p.body === 'string' ? Buffer.from(p.body) : p.body,
    Buffer.from('\r\n'),
  ]),
  Buffer.from(`--${boundary}--\r\n`),
])

describe('multipartField', () => {
  it('finds a text field after a file part, whatever bytes the file holds', () => {
    const file = Buffer.from('\r\n\r\nname="model"\r\n\r\nnot-this\r\n')
    const raw = form('XyZ', [{ disposition: 'name="file"; filename="model"', type: 'audio/wav', body: file }, { disposition: 'name="model"', body: 'whisper-large' }])
    expect(multipartField(raw, 'multipart/form-data; boundary=XyZ', 'model')).toBe('whisper-large')
  })

  it('reads a quoted boundary and a case-insensitive disposition header', () => {
    const raw = Buffer.from('--a b\r\ncontent-disposition: form-data; name=model\r\n\r\ngpt-x\r\n--a b--\r\n')
    expect(multipartField(raw, 'multipart/form-data; boundary="a b"', 'model')).toBe('gpt-x')
  })

  it('is undefined without the field, without a boundary, or for a truncated body', () => {
    const raw = form('b1', [{ disposition: 'name="purpose"', body: 'batch' }])
    expect(multipartField(raw, 'multipart/form-data; boundary=b1', 'model')).toBeUndefined()
    expect(multipartField(raw, 'multipart/form-data', 'model')).toBeUndefined()
    expect(multipartField(Buffer.from('--b1\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt'), 'multipart/form-data; boundary=b1', 'model')).toBeUndefined()
  })

  it('a file part named model is not a model name', () => {
    const raw = form('b2', [{ disposition: 'name="model"; filename="m.bin"', body: 'gpt-4o' }])
    expect(multipartField(raw, 'multipart/form-data; boundary=b2', 'model')).toBeUndefined()
  })
})

describe('parsePassthroughBody', () => {
  it('parses JSON (also without a content type), reads multipart, and leaves other bodies alone', () => {
    expect(parsePassthroughBody(Buffer.from('{"model":"m"}'), 'application/json; charset=utf-8')).toEqual({ body: { model: 'm' }, json: true })
    expect(parsePassthroughBody(Buffer.from('{"model":"m"}'), undefined)).toEqual({ body: { model: 'm' }, json: true })
    expect(parsePassthroughBody(Buffer.from([0, 1, 2]), 'application/octet-stream')).toEqual({ body: {}, json: false })
    expect(parsePassthroughBody(Buffer.alloc(0), 'application/json')).toEqual({ body: {}, json: false })
    const raw = form('q', [{ disposition: 'name="model"', body: 'tts-1' }])
    expect(parsePassthroughBody(raw, 'multipart/form-data; boundary=q')).toEqual({ body: { model: 'tts-1' }, json: false })
  })

  it('a JSON body that does not parse is still a 400', () => {
    expect(() => parsePassthroughBody(Buffer.from('{nope'), 'application/json')).toThrow(/not valid JSON/)
  })
})
