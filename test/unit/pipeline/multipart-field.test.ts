import { describe, expect, it } from 'vitest'
import { multipartModel, parsePassthroughBody } from '../../../src/pipeline/parse-request.ts'

const form = (boundary: string, parts: Array<{ disposition: string; type?: string; body: string | Buffer }>): Buffer => Buffer.concat([
  ...parts.flatMap((p) => [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${p.disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`),
    typeof p.body === 'string' ? Buffer.from(p.body) : p.body,
    Buffer.from('\r\n'),
  ]),
  Buffer.from(`--${boundary}--\r\n`),
])

describe('multipartModel', () => {
  it('finds a text field after a file part, whatever bytes the file holds', () => {
    const file = Buffer.from('\r\n\r\nname="model"\r\n\r\nnot-this\r\n')
    const raw = form('XyZ', [{ disposition: 'name="file"; filename="model"', type: 'audio/wav', body: file }, { disposition: 'name="model"', body: 'whisper-large' }])
    expect(multipartModel(raw, 'multipart/form-data; boundary=XyZ')).toBe('whisper-large')
  })

  it('reads a quoted boundary and a case-insensitive disposition header', () => {
    const raw = Buffer.from('--a b\r\ncontent-disposition: form-data; name=model\r\n\r\ngpt-x\r\n--a b--\r\n')
    expect(multipartModel(raw, 'multipart/form-data; boundary="a b"')).toBe('gpt-x')
  })

  it('is undefined for a well-formed form without the field', () => {
    expect(multipartModel(form('b1', [{ disposition: 'name="purpose"', body: 'batch' }]), 'multipart/form-data; boundary=b1')).toBeUndefined()
  })

  it('reads every part: a model after 64 others is found', () => {
    const parts = Array.from({ length: 200 }, (_, i) => ({ disposition: `name="pad${i}"`, body: 'x' }))
    const raw = form('b3', [...parts, { disposition: 'name="model"', body: 'gpt-4o-transcribe' }])
    expect(multipartModel(raw, 'multipart/form-data; boundary=b3')).toBe('gpt-4o-transcribe')
  })

  it('reads a part whose disposition comes after a long header (no header prefix is skipped)', () => {
    const raw = Buffer.from(`--b4\r\nX-Pad: ${'a'.repeat(2000)}\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-4o\r\n--b4--\r\n`)
    expect(multipartModel(raw, 'multipart/form-data; boundary=b4')).toBe('gpt-4o')
  })

  it('a second model field is a 400, not the first one', () => {
    const raw = form('b5', [{ disposition: 'name="model"', body: 'whisper-1' }, { disposition: 'name="model"', body: 'gpt-4o-transcribe' }])
    expect(() => multipartModel(raw, 'multipart/form-data; boundary=b5')).toThrow(expect.objectContaining({ status: 400, param: 'model', message: expect.stringContaining("one 'model' field") }))
  })

  it('a file part named model, an empty or overlong model, two dispositions or name*= are 400s', () => {
    const ct = 'multipart/form-data; boundary=b2'
    expect(() => multipartModel(form('b2', [{ disposition: 'name="model"; filename="m.bin"', body: 'gpt-4o' }]), ct)).toThrow(/not a file/)
    expect(() => multipartModel(form('b2', [{ disposition: 'name="model"', body: '' }]), ct)).toThrow(/non-empty/)
    expect(() => multipartModel(form('b2', [{ disposition: 'name="model"', body: 'x'.repeat(300) }]), ct)).toThrow(/at most 256 bytes/)
    expect(() => multipartModel(Buffer.from('--b2\r\nContent-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="model"\r\n\r\nx\r\n--b2--\r\n'), ct)).toThrow(/two Content-Disposition/)
    expect(() => multipartModel(Buffer.from("--b2\r\nContent-Disposition: form-data; name*=utf-8''model\r\n\r\nx\r\n--b2--\r\n"), ct)).toThrow(/name\*=/)
  })

  it('a form it cannot read to its end is a 400, never "no model"', () => {
    const raw = form('b1', [{ disposition: 'name="purpose"', body: 'batch' }])
    expect(() => multipartModel(raw, 'multipart/form-data')).toThrow(/names no boundary/)
    expect(() => multipartModel(raw, 'multipart/form-data; boundary=other')).toThrow(/no part starts/)
    expect(() => multipartModel(Buffer.from('--b1\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt'), 'multipart/form-data; boundary=b1')).toThrow(/missing/)
    expect(() => multipartModel(raw.subarray(0, raw.length - 8), 'multipart/form-data; boundary=b1')).toThrow(/missing/)
  })
})

describe('parsePassthroughBody', () => {
  it('parses JSON (also without a content type), reads forms, and leaves other bodies alone', () => {
    expect(parsePassthroughBody(Buffer.from('{"model":"m"}'), 'application/json; charset=utf-8')).toEqual({ body: { model: 'm' }, json: true })
    expect(parsePassthroughBody(Buffer.from('{"model":"m"}'), undefined)).toEqual({ body: { model: 'm' }, json: true })
    expect(parsePassthroughBody(Buffer.from([0, 1, 2]), 'application/octet-stream')).toEqual({ body: {}, json: false })
    expect(parsePassthroughBody(Buffer.alloc(0), 'application/json')).toEqual({ body: {}, json: false })
    const raw = form('q', [{ disposition: 'name="model"', body: 'tts-1' }])
    expect(parsePassthroughBody(raw, 'multipart/form-data; boundary=q')).toEqual({ body: { model: 'tts-1' }, json: false })
    expect(parsePassthroughBody(Buffer.from('language=en&model=whisper+1'), 'application/x-www-form-urlencoded')).toEqual({ body: { model: 'whisper 1' }, json: false })
  })

  it('a JSON body that does not parse, a model that is not a string, or two urlencoded models are 400s', () => {
    expect(() => parsePassthroughBody(Buffer.from('{nope'), 'application/json')).toThrow(/not valid JSON/)
    expect(() => parsePassthroughBody(Buffer.from('{"model":["a"]}'), 'application/json')).toThrow(/non-empty string/)
    expect(() => parsePassthroughBody(Buffer.from('model=a&model=b'), 'application/x-www-form-urlencoded')).toThrow(/one 'model' field/)
    expect(parsePassthroughBody(Buffer.from('{"model":null,"input":"x"}'), 'application/json').body.model).toBeNull()
  })
})
