import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry, fromWire, pendingWire, toWire } from '../../../src/cache/entry-codec.ts'
import type { CachedResponse } from '../../../src/core/ports.ts'

const usage = { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }

describe('entry codec', () => {
  it('keeps a small body as is, and round-trips through the Redis wire format', async () => {
    const r: CachedResponse = { kind: 'body', status: 200, contentType: 'application/json', body: Buffer.from('{"a":1}'), usage, provider: 'p', upstreamModel: 'u', costUsd: 0.25 }
    const e = await encodeEntry(r, 'fp1')
    expect(e.meta.z).toBe(false)
    expect(e.meta.fp).toBe('fp1')
    const back = fromWire(toWire(e))
    expect(back?.kind).toBe('result')
    if (back?.kind !== 'result') return
    expect(await decodeEntry(back.entry)).toEqual(r)
  })

  it('deflates a repetitive stream and replays the same frames, boundaries included', async () => {
    const frames = Array.from({ length: 200 }, (_, i) => Buffer.from(`data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"w${i} "}}]}\n\n`))
    const r: CachedResponse = { kind: 'stream', frames, usage: undefined, provider: 'p', upstreamModel: 'u', costUsd: null }
    const e = await encodeEntry(r)
    const raw = frames.reduce((n, f) => n + f.length, 0)
    expect(e.meta.z).toBe(true)
    expect(e.payload.length).toBeLessThan(raw / 5)
    const wire = fromWire(toWire(e))
    expect(wire?.kind).toBe('result')
    if (wire?.kind !== 'result') return
    const out = await decodeEntry(wire.entry)
    expect(out.kind).toBe('stream')
    if (out.kind !== 'stream') return
    expect(out.frames.map(String)).toEqual(frames.map(String))
  })

  it('keeps incompressible bytes uncompressed', async () => {
    const body = randomBytes(4000)
    const e = await encodeEntry({ kind: 'body', status: 200, contentType: 'application/octet-stream', body, usage: undefined, provider: 'p', upstreamModel: 'u', costUsd: null })
    expect(e.meta.z).toBe(false)
    expect(Buffer.compare(e.payload, body)).toBe(0)
  })

  it('pending markers and garbage', () => {
    expect(fromWire(pendingWire('abc'))).toEqual({ kind: 'pending', fp: 'abc' })
    expect(fromWire(Buffer.from('xyz'))).toBeUndefined()
  })
})
