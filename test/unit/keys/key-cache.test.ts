import { describe, expect, it } from 'vitest'
import pino from 'pino'
import { Writable } from 'node:stream'
import { configSchema } from '../../../src/config/schema.ts'
import { createKeyCache } from '../../../src/keys/key-cache.ts'
import type { KeyRecord } from '../../../src/keys/key-record.ts'
import type { KeyStore } from '../../../src/keys/key-store.ts'
import { hashKey } from '../../../src/keys/key-material.ts'

const config = configSchema.parse({ teams: { research: { models: ['gpt-*'], cache: true } } })

const rec = (id: string, over: Partial<KeyRecord> = {}): KeyRecord => ({
  id, source: 'api', team: 'research', name: id, hash: hashKey(`sk-sb-${id}`), hint: '...abcd', models: ['gpt-a'], limits: { rpm: 5 }, budget: undefined,
  metadata: undefined, tags: undefined, expiresAt: undefined, cache: undefined, enabled: true, revokedAt: undefined, createdAt: 1, updatedAt: 1, ...over,
})

function fakeStore(rows: KeyRecord[]) {
  const state = { down: false, changed: [] as KeyRecord[] }
  const store = {
    now: async () => 1000,
    loadActive: async () => rows,
    changedSince: async () => {
      if (state.down) throw new Error('connection refused')
      return state.changed
    },
  } as unknown as KeyStore
  return { store, state }
}

function logger() {
  const lines: string[] = []
  const log = pino({ level: 'debug' }, new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb() } }))
  return { log, lines }
}

describe('key cache', () => {
  it('loads active keys and builds their principal once (key and team scope, team cache, own limits)', async () => {
    const { store } = fakeStore([rec('k1')])
    const cache = createKeyCache(config, store, logger().log)
    await cache.load([])
    const e = cache.lookup(hashKey('sk-sb-k1'))!
    expect(e.principal).toEqual({ keyId: 'k1', keyName: 'k1', team: 'research', keyModels: ['gpt-a'], teamModels: ['gpt-*'], cache: true, metadata: undefined, tags: undefined, limits: { rpm: 5 }, budget: undefined })
    expect(Object.isFrozen(e.principal)).toBe(true)
    expect(cache.lookup(hashKey('sk-sb-other'))).toBeUndefined()
  })

  it('drops revoked and disabled keys; a stale read never brings a revoked key back', async () => {
    const { store, state } = fakeStore([rec('k1'), rec('k2')])
    const cache = createKeyCache(config, store, logger().log)
    await cache.load([])
    cache.revoked('k1')
    expect(cache.lookup(hashKey('sk-sb-k1'))).toBeUndefined()
    state.changed = [rec('k1', { updatedAt: 2 }), rec('k2', { enabled: false, updatedAt: 2 })]
    await cache.refresh()
    expect(cache.lookup(hashKey('sk-sb-k1'))).toBeUndefined()
    expect(cache.lookup(hashKey('sk-sb-k2'))).toBeUndefined()
    state.changed = [rec('k2', { enabled: true, updatedAt: 3 })]
    await cache.refresh()
    expect(cache.lookup(hashKey('sk-sb-k2'))?.id).toBe('k2')
  })

  it('refuses a key whose team left the config, with one warning', async () => {
    const { store, state } = fakeStore([rec('orphan', { team: 'gone' })])
    const { log, lines } = logger()
    const cache = createKeyCache(config, store, log)
    await cache.load([])
    state.changed = [rec('orphan', { team: 'gone', updatedAt: 2 })]
    await cache.refresh()
    expect(cache.lookup(hashKey('sk-sb-orphan'))).toBeUndefined()
    expect(lines.filter((l) => l.includes('not in the config'))).toHaveLength(1)
  })

  it('a key with the same secret as one already indexed is refused with one error, never replacing it', async () => {
    const cfg = rec('cfg:research/bot', { source: 'config', hash: hashKey('sk-sb-shared') })
    const { store, state } = fakeStore([rec('key_rt', { hash: hashKey('sk-sb-shared') })])
    const { log, lines } = logger()
    const cache = createKeyCache(config, store, log)
    await cache.load([cfg])
    expect(cache.lookup(hashKey('sk-sb-shared'))?.id).toBe('cfg:research/bot')
    state.changed = [rec('key_rt', { hash: hashKey('sk-sb-shared'), updatedAt: 2 })]
    await cache.refresh()
    expect(cache.lookup(hashKey('sk-sb-shared'))?.id).toBe('cfg:research/bot')
    const errors = lines.filter((l) => l.includes('same secret'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('"key_id":"key_rt"')
    expect(errors[0]).toContain('"same_secret_as":"cfg:research/bot"')
    expect(errors[0]).not.toContain('sk-sb-shared')
  })

  it('store down: known keys stay, status says unreachable, once logged; recovers', async () => {
    const { store, state } = fakeStore([rec('k1')])
    const { log, lines } = logger()
    const cache = createKeyCache(config, store, log)
    await cache.load([])
    state.down = true
    await cache.refresh()
    await cache.refresh()
    expect(cache.status()).toMatchObject({ store: 'unreachable', keys: 1 })
    expect(cache.lookup(hashKey('sk-sb-k1'))?.id).toBe('k1')
    expect(lines.filter((l) => l.includes('key store unreachable'))).toHaveLength(1)
    state.down = false
    await cache.refresh()
    expect(cache.status()).toMatchObject({ store: 'ok', keys: 1 })
  })

  it('concurrent refreshes share one pass', async () => {
    let calls = 0
    const store = { now: async () => 0, loadActive: async () => [], changedSince: async () => { calls++; await new Promise((r) => setTimeout(r, 20)); return [] } } as unknown as KeyStore
    const cache = createKeyCache(config, store, logger().log)
    await cache.load([])
    await Promise.all([cache.refresh(), cache.refresh(), cache.refresh()])
    expect(calls).toBe(2) // the running pass, plus one more for the callers that arrived during it
  })
})
