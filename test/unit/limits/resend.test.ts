/**
 * What a failed settlement or lease hand-back may send again: everything when Redis surely never
 * saw it (ioredis refused to write it), else only the slot releases (ZREM, idempotent). A token
 * correction or credit hand-back Redis may already have applied is never sent twice.
 */
import { describe, expect, it } from 'vitest'
import { resendable, surelyNotSent } from '../../../src/limits/redis-store.ts'

const notSent = new Error("Stream isn't writeable and enableOfflineQueue options is false")
const unknown = new Error('Connection is closed.')
// Two scopes: the first holds a slot and a tpm window (1 + 2), the second a tpd window only (4).
const settle = { script: 'settle' as const, keys: ['a', 'a:c', 'b', 'b:c'], args: [2, -900, 'm1', '100', '200', 3, 4], at: 0 }
// Two leased slots, then window id and credit for rps, rpm, rpd, tpm, tpd.
const release = { script: 'release' as const, keys: ['h', 'h:c'], args: [2, 'L1:1', 'L1:2', '1', 0, '2', 7, '3', 9, '2', 0, '3', 0], at: 0 }

describe('resendable', () => {
  it('tells a write refused before it was sent from one whose fate is unknown', () => {
    expect(surelyNotSent(notSent)).toBe(true)
    expect(surelyNotSent(unknown)).toBe(false)
    expect(surelyNotSent(new Error('socket timeout'))).toBe(false)
  })

  it('keeps a settlement whole when Redis never saw it', () => {
    expect(resendable(settle, notSent)).toBe(settle)
  })

  it('keeps only the slot releases of a settlement Redis may have applied', () => {
    expect(resendable(settle, unknown)).toEqual({ ...settle, args: [2, 0, 'm1', '100', '200', 1, 0] })
    expect(settle.args[1]).toBe(-900)
    expect(resendable({ ...settle, args: [1, -900, 'm1', '100', '200', 2] }, unknown)).toBeUndefined()
  })

  it('hands leased slots back again, but a credit only when Redis never saw it', () => {
    expect(resendable(release, notSent)).toBe(release)
    expect(resendable(release, unknown)).toEqual({ ...release, args: [2, 'L1:1', 'L1:2', '1', 0, '2', 0, '3', 0, '2', 0, '3', 0] })
    expect(resendable({ ...release, args: [0, '1', 0, '2', 7, '3', 9, '2', 0, '3', 0] }, unknown)).toBeUndefined()
  })
})
