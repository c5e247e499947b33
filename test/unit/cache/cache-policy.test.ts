import { describe, expect, it } from 'vitest'
import { cachePolicy, cacheControl, ttlHeader } from '../../../src/cache/cache-policy.ts'
import { parseConfig } from '../../../src/config/load.ts'
import type { CallInfo, Principal } from '../../../src/core/call.ts'
import type { JsonObject } from '../../../src/core/json.ts'
import { GatewayError } from '../../../src/core/errors.ts'

const config = (cache: string, extra = '') => parseConfig(`
providers: { mock: { type: mock } }
models:
  m: { targets: [{ provider: mock, model: x }] }
  short: { targets: [{ provider: mock, model: x }], cache: { ttl_ms: 5000 } }
  never: { targets: [{ provider: mock, model: x }], cache: { enabled: false } }
  always: { targets: [{ provider: mock, model: x }], cache: { enabled: true } }
cache: ${cache}
${extra}
`, 'test.yaml', {}).config

const call = (body: JsonObject, over: { headers?: CallInfo['headers']; principal?: Partial<Principal>; operation?: CallInfo['operation']; model?: string } = {}): CallInfo => ({
  requestId: 'r', operation: over.operation ?? 'chat', ingress: 'openai', publicModel: over.model ?? 'm',
  principal: { keyId: 'k', keyName: 'k', team: 't', ...over.principal },
  runId: undefined, tags: [], stream: false, body, rawBody: undefined, headers: over.headers ?? {}, estimatedInputTokens: 0, maxOutputTokens: 0, startedAt: 0,
})

describe('cachePolicy', () => {
  const det = config('{ enabled: true, mode: deterministic, ttl_ms: 60000 }')

  it('deterministic mode: temperature 0 and embeddings only; an absent temperature samples', () => {
    expect(cachePolicy(call({ temperature: 0 }), det)).toEqual({ lookup: true, ttlMs: 60000 })
    expect(cachePolicy(call({}), det)).toBeUndefined()
    expect(cachePolicy(call({ temperature: 0.7 }), det)).toBeUndefined()
    expect(cachePolicy(call({ input: 'x' }, { operation: 'embeddings' }), det)).toEqual({ lookup: true, ttlMs: 60000 })
  })

  it('never for other operations', () => {
    expect(cachePolicy(call({ temperature: 0 }, { operation: 'passthrough' }), det)).toBeUndefined()
    expect(cachePolicy(call({ temperature: 0 }, { operation: 'count_tokens' }), det)).toBeUndefined()
    expect(cachePolicy(call({ temperature: 0 }, { operation: 'responses' }), det)).toBeUndefined()
  })

  it('all and opt-in modes', () => {
    const all = config('{ enabled: true, mode: all }')
    expect(cachePolicy(call({ temperature: 1 }), all)).toEqual({ lookup: true, ttlMs: 3_600_000 })
    const optIn = config('{ enabled: true, mode: opt-in }')
    expect(cachePolicy(call({ temperature: 0 }), optIn)).toBeUndefined()
    expect(cachePolicy(call({ temperature: 1 }, { headers: { 'x-switchboard-cache-ttl-ms': '1000' } }), optIn)).toEqual({ lookup: true, ttlMs: 1000 })
    expect(cachePolicy(call({}, { principal: { cache: true } }), optIn)).toEqual({ lookup: true, ttlMs: 3_600_000 })
    expect(cachePolicy(call({}, { model: 'always' }), optIn)).toEqual({ lookup: true, ttlMs: 3_600_000 })
  })

  it('off switches win over everything that makes a call eligible', () => {
    const ttl = { 'x-switchboard-cache-ttl-ms': '1000' }
    expect(cachePolicy(call({ temperature: 0 }, { headers: ttl }), config('{ enabled: false }'))).toBeUndefined()
    expect(cachePolicy(call({ temperature: 0 }, { headers: ttl, principal: { cache: false } }), det)).toBeUndefined()
    expect(cachePolicy(call({ temperature: 0 }, { headers: ttl, model: 'never' }), det)).toBeUndefined()
    expect(cachePolicy(call({ temperature: 0 }, { headers: { ...ttl, 'cache-control': 'no-store' } }), det)).toBeUndefined()
  })

  it('no-cache skips the lookup but still stores; ttl from header, then model, then config', () => {
    expect(cachePolicy(call({ temperature: 0 }, { headers: { 'cache-control': 'no-cache' } }), det)).toEqual({ lookup: false, ttlMs: 60000 })
    expect(cachePolicy(call({ temperature: 0 }, { model: 'short' }), det)).toEqual({ lookup: true, ttlMs: 5000 })
    expect(cachePolicy(call({ temperature: 0 }, { model: 'short', headers: { 'x-switchboard-cache-ttl-ms': '7' } }), det)).toEqual({ lookup: true, ttlMs: 7 })
    expect(cachePolicy(call({ temperature: 0 }, { headers: { 'x-switchboard-cache-ttl-ms': '0' } }), det)).toBeUndefined()
  })
})

describe('header parsing', () => {
  it('Cache-Control directives, any case, among others', () => {
    expect(cacheControl({ 'cache-control': 'No-Cache' })).toEqual({ noStore: false, noCache: true })
    expect(cacheControl({ 'cache-control': 'max-age=0, no-store' })).toEqual({ noStore: true, noCache: false })
    expect(cacheControl({ 'cache-control': 'no-cache="set-cookie"' })).toEqual({ noStore: false, noCache: true })
    expect(cacheControl({ 'cache-control': 'no-storex' })).toEqual({ noStore: false, noCache: false })
    expect(cacheControl({})).toEqual({ noStore: false, noCache: false })
  })

  it('x-switchboard-cache-ttl-ms must be whole milliseconds', () => {
    expect(ttlHeader({ 'x-switchboard-cache-ttl-ms': ' 250 ' })).toBe(250)
    expect(ttlHeader({})).toBeUndefined()
    for (const bad of ['-1', '1.5', 'soon', '']) {
      let err: unknown
      try { ttlHeader({ 'x-switchboard-cache-ttl-ms': bad }) } catch (e) { err = e }
      expect(err).toBeInstanceOf(GatewayError)
      expect((err as GatewayError).status).toBe(400)
      expect((err as GatewayError).message).toContain('x-switchboard-cache-ttl-ms')
    }
  })
})
