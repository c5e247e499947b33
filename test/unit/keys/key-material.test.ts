import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { digestsEqual, generateKey, generateKeyId, hashKey, keyHint } from '../../../src/keys/key-material.ts'

describe('key material', () => {
  it('keys are sk-sb- + 32 random bytes, base64url; ids are short and not secret', () => {
    const keys = new Set(Array.from({ length: 200 }, generateKey))
    expect(keys.size).toBe(200)
    for (const k of keys) {
      expect(k).toMatch(/^sk-sb-[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(k.slice(6), 'base64url')).toHaveLength(32)
    }
    expect(generateKeyId()).toMatch(/^key_[A-Za-z0-9_-]{12}$/)
  })

  it('hash is the hex sha256; the hint is the last four characters; digests compare by value', () => {
    expect(hashKey('sk-sb-abc')).toBe(createHash('sha256').update('sk-sb-abc').digest('hex'))
    expect(keyHint('sk-sb-0123456789wxyz')).toBe('...wxyz')
    const a = hashKey('x')
    expect(digestsEqual(a, hashKey('x'))).toBe(true)
    expect(digestsEqual(a, hashKey('y'))).toBe(false)
    expect(digestsEqual(a, a.slice(0, 63) + (a.endsWith('0') ? '1' : '0'))).toBe(false)
    expect(digestsEqual(a, 'abc')).toBe(false)
  })
})
