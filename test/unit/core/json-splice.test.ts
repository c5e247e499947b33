import { describe, expect, it } from 'vitest'
import { soleMemberValue, spliceTopLevel } from '../../../src/core/json-splice.ts'

const buf = (s: string) => Buffer.from(s, 'utf8')
const spliced = (s: string, value: string, prepend?: string) => spliceTopLevel(buf(s), 'model', value, prepend === undefined ? undefined : buf(prepend))?.toString('utf8')

describe('spliceTopLevel', () => {
  it('swaps the model and leaves every other byte as the client sent it', () => {
    const raw = '{ "messages" : [ {"role":"user","content":"héllo \\u00e9 \\"quoted\\""} ],\n  "model" :  "public",  "temperature":0.5}'
    expect(spliced(raw, 'gpt-4o-2024')).toBe('{ "messages" : [ {"role":"user","content":"héllo \\u00e9 \\"quoted\\""} ],\n  "model" :  "gpt-4o-2024",  "temperature":0.5}')
  })

  it('finds the model first, last or alone', () => {
    expect(spliced('{"model":"a","stream":true}', 'b')).toBe('{"model":"b","stream":true}')
    expect(spliced('{"stream":true,"model":"a"}', 'b')).toBe('{"stream":true,"model":"b"}')
    expect(spliced('  {"model":"a"}  ', 'b')).toBe('  {"model":"b"}  ')
  })

  it('prepends members as the first ones, before the swapped model', () => {
    expect(spliced('{"messages":[],"model":"a"}', 'b', '"stream_options":{"include_usage":true},')).toBe('{"stream_options":{"include_usage":true},"messages":[],"model":"b"}')
    expect(spliced(' {\n"model":"a"}', 'b', '"x":1,')).toBe(' {"x":1,\n"model":"b"}')
  })

  it('escapes the new value as JSON', () => {
    expect(JSON.parse(spliced('{"model":"a"}', 'we"ird\\model')!)).toEqual({ model: 'we"ird\\model' })
  })

  it('ignores "model" inside strings, as a value, and after an escaped quote', () => {
    const raw = '{"messages":[{"role":"user","content":"say \\"model\\": \\"x\\" and \\"model\\"!"}],"name":"model","x\\"model":1,"model":"a"}'
    expect(JSON.parse(spliced(raw, 'b')!)).toEqual({ ...JSON.parse(raw), model: 'b' })
  })

  it('counts a backslash run before a quote: an escaped backslash leaves the quote real', () => {
    const raw = '{"a":"ends with a backslash \\\\","model":"m"}'
    expect(JSON.parse(spliced(raw, 'b')!)).toEqual({ a: 'ends with a backslash \\', model: 'b' })
    expect(JSON.parse(spliced('{"model":"a \\\\\\" b"}', 'x')!)).toEqual({ model: 'x' })
  })

  it('declines when "model" also names a nested member (a tool schema property)', () => {
    const raw = '{"model":"a","tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"model":{"type":"string"}}}}}]}'
    expect(spliced(raw, 'b')).toBeUndefined()
  })

  it('declines on duplicate top-level members, escaped key spellings and non-string values', () => {
    expect(spliced('{"model":"a","model":"b"}', 'c')).toBeUndefined()
    expect(spliced('{"mod\\u0065l":"a"}', 'c')).toBeUndefined()
    // The escape guard looks at the whole body: a nested escaped key could hide the real one.
    expect(spliced('{"model":"a","x":{"mod\\u0065l":"b"}}', 'c')).toBeUndefined()
    expect(spliced('{"model":null}', 'c')).toBeUndefined()
    expect(spliced('{"model":5}', 'c')).toBeUndefined()
    expect(spliced('{"messages":[]}', 'c')).toBeUndefined()
  })

  it('does not take HTML-safe or non-ASCII escapes for a hidden key', () => {
    const raw = '{"content":"\\u003cb\\u003e \\u00e9 \\u4e2d","model":"a"}'
    expect(spliced(raw, 'b')).toBe('{"content":"\\u003cb\\u003e \\u00e9 \\u4e2d","model":"b"}')
  })

  it('reports the value range of the sole member', () => {
    const raw = buf('{"x":1, "model" : "abc" }')
    expect(soleMemberValue(raw, 'model')).toEqual({ start: 18, end: 23 })
  })
})

/** Deterministic pseudo-random bodies, serialized in the ways real clients do. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const PIECES = ['model', 'x', '"', '\\', 'é', '中', '\n', ' ', ':', ',', '{', '}', '[', ']', '"model":', 'mod', 'el', '\u2028', '😀']

function randomValue(r: () => number, depth: number): unknown {
  const k = r()
  if (depth > 3 || k < 0.35) {
    let s = ''
    const n = Math.floor(r() * 6)
    for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)]
    return s
  }
  if (k < 0.45) return Math.floor(r() * 1000) / 10
  if (k < 0.5) return r() < 0.5 ? null : true
  if (k < 0.7) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1))
  const o: Record<string, unknown> = {}
  const n = Math.floor(r() * 4)
  for (let i = 0; i < n; i++) o[r() < 0.1 ? 'model' : `k${Math.floor(r() * 50)}`] = randomValue(r, depth + 1)
  return o
}

/** Python's json.dumps defaults: ", " and ": " separators, non-ASCII as \uXXXX. */
function pythonStyle(v: unknown): string {
  return JSON.stringify(v, null, 1).replace(/\n\s*/g, ' ').replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

describe('spliceTopLevel against JSON.parse', () => {
  it('agrees with re-serializing on thousands of random bodies, or declines', () => {
    const r = rng(12345)
    let spliceCount = 0
    for (let n = 0; n < 3000; n++) {
      const body: Record<string, unknown> = {}
      const keys = Math.floor(r() * 5)
      const modelAt = Math.floor(r() * (keys + 1))
      for (let i = 0; i <= keys; i++) {
        if (i === modelAt) body.model = String(randomValue(r, 4))
        else body[`f${i}`] = randomValue(r, 0)
      }
      const style = r()
      const raw = style < 0.4 ? JSON.stringify(body) : style < 0.7 ? JSON.stringify(body, null, 2) : pythonStyle(body)
      const prepend = r() < 0.3 ? Buffer.from('"stream_options":{"include_usage":true},') : undefined
      const out = spliceTopLevel(Buffer.from(raw), 'model', 'up/model"1', prepend)
      if (!out) continue
      spliceCount++
      const parsed = JSON.parse(out.toString('utf8')) as Record<string, unknown>
      const expected = prepend ? { stream_options: { include_usage: true }, ...body, model: 'up/model"1' } : { ...body, model: 'up/model"1' }
      expect(parsed).toEqual(expected)
      // Key order is the client's (with the prepended member first).
      expect(Object.keys(parsed)).toEqual(Object.keys(expected))
    }
    // The fast path must be the common one, or this test proves nothing.
    expect(spliceCount).toBeGreaterThan(1500)
  })
})
