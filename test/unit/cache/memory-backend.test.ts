/**
 * The in-memory backend outlives config reloads, so a reload's new cache.max_bytes is applied to
 * the entries it already holds: those that fit stay (most recently used first), with the TTL they
 * had left.
 */
import { describe, expect, it } from 'vitest'
import { memoryBackend } from '../../../src/cache/memory-backend.ts'
import { entryBytes, type StoredEntry } from '../../../src/cache/entry-codec.ts'

const entry = (bytes: number): StoredEntry => ({
  meta: { kind: 'body', status: 200, contentType: 'application/json', usage: undefined, provider: 'p', upstreamModel: 'm', costUsd: 0, size: bytes, z: false },
  payload: Buffer.alloc(bytes),
})
const has = async (b: ReturnType<typeof memoryBackend>, key: string) => (await b.get(key)) !== undefined

describe('memoryBackend.resize', () => {
  it('keeps what fits in the new bound, most recently used first, and what expires still expires', async () => {
    const one = entryBytes(entry(1000))
    const b = memoryBackend(one * 10)
    await b.set('a', entry(1000), 60_000)
    await b.set('b', entry(1000), 60_000)
    await b.set('c', entry(1000), 40)
    await b.get('a') // a is now the most recently used
    b.resize(one * 2)
    expect([await has(b, 'a'), await has(b, 'b'), await has(b, 'c')]).toEqual([true, false, true])
    await new Promise((r) => setTimeout(r, 60))
    expect(await has(b, 'c')).toBe(false)
    expect(await has(b, 'a')).toBe(true)
  })

  it('the same bound changes nothing; a larger one keeps every entry', async () => {
    const b = memoryBackend(100_000)
    await b.set('a', entry(10), 60_000)
    b.resize(100_000)
    b.resize(1_000_000)
    expect(await has(b, 'a')).toBe(true)
    await b.set('big', entry(200_000), 60_000)
    expect(await has(b, 'big')).toBe(true)
  })
})
