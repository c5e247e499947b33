import { describe, expect, it } from 'vitest'
import { configSchema } from '../../../src/config/schema.ts'
import type { Principal } from '../../../src/core/call.ts'
import { createScopeResolver, pickModelLimits } from '../../../src/limits/scopes.ts'

const config = configSchema.parse({
  models: {
    'gpt-4o': { targets: [{ provider: 'p', model: 'x' }], limits: { rpm: 5 } },
    'gpt-4o-mini': { targets: [{ provider: 'p', model: 'y' }] },
    other: { targets: [{ provider: 'p', model: 'z' }] },
  },
  teams: {
    research: {
      limits: { rpm: 600, tpm: 400000, concurrency: 32 },
      model_limits: { 'gpt-*': { tpm: 1000 }, 'gpt-4o*': { tpm: 2000 }, 'gpt-4o-mini': { rpd: 7 } },
      keys: { 'ci-bot': { key: 'k', limits: { rpm: 60 } }, free: { key: 'f' } },
    },
    open: { keys: { a: { key: 'a' } } },
  },
})
const ciBot: Principal = { keyId: 'cfg:research/ci-bot', keyName: 'ci-bot', team: 'research' }
const free: Principal = { keyId: 'cfg:research/free', keyName: 'free', team: 'research' }
const openKey: Principal = { keyId: 'cfg:open/a', keyName: 'a', team: 'open' }

describe('scope resolution', () => {
  const resolver = createScopeResolver(config, 'sb:')

  it('collects key, team, key-on-model and team-on-model scopes under the team hash tag', () => {
    const plan = resolver.resolve(ciBot, 'gpt-4o')!
    expect(plan.scopes.map((s) => [s.kind, s.key, s.label, s.limits])).toEqual([
      ['key', '{sb:t:research}:k:cfg:research/ci-bot', 'key ci-bot (team research)', [0, 60, 0, 0, 0, 0]],
      ['team', '{sb:t:research}:t', 'team research', [0, 600, 0, 400000, 0, 32]],
      ['key_model', '{sb:t:research}:km:cfg:research/ci-bot:gpt-4o', 'key ci-bot (team research) on model gpt-4o', [0, 5, 0, 0, 0, 0]],
      ['team_model', '{sb:t:research}:tm:gpt-4o', 'team research on model gpt-4o', [0, 0, 0, 2000, 0, 0]],
    ])
    expect(plan.tokens).toBe(true)
    expect(plan.concurrency).toBe(true)
    expect(plan.scopes[1]!.slotsKey).toBe('{sb:t:research}:t:c')
  })

  it("a fallback model's plan holds only its per-model scopes (the key's and team's are the call's)", () => {
    const plan = resolver.resolveModel(ciBot, 'gpt-4o')!
    expect(plan.scopes.map((s) => s.kind)).toEqual(['key_model', 'team_model'])
    expect(plan.scopes).toEqual(resolver.resolve(ciBot, 'gpt-4o')!.scopes.slice(2))
    expect(plan).toMatchObject({ tokens: true, concurrency: false })
    expect(resolver.resolveModel(ciBot, 'gpt-4o')).toBe(plan)
    // Only the team and key limits apply to 'other': nothing to reserve when falling back to it.
    expect(resolver.resolveModel(ciBot, 'other')).toBeUndefined()
    expect(resolver.resolveModel(openKey, 'gpt-4o')!.scopes.map((s) => s.kind)).toEqual(['key_model'])
  })

  it('team model limits: exact name beats globs, else the longest glob', () => {
    expect(resolver.resolve(free, 'gpt-4o-mini')!.scopes.at(-1)!.limits).toEqual([0, 0, 7, 0, 0, 0])
    expect(pickModelLimits([['gpt-*', 1], ['gpt-4o*', 2]], 'gpt-4o-x')).toBe(2)
    expect(pickModelLimits([['gpt-*', 1], ['gpt-4o*', 2]], 'gpt-3')).toBe(1)
    expect(pickModelLimits([['gpt-*', 1]], 'claude')).toBeUndefined()
  })

  it('no limits anywhere: undefined (the fast path), and cached per principal', () => {
    expect(resolver.resolve(openKey, 'other')).toBeUndefined()
    expect(resolver.resolve(ciBot, 'other')).toBe(resolver.resolve(ciBot, 'other'))
  })

  it("a runtime key's own limits (Principal.limits) take the key scope", () => {
    const runtime: Principal = { keyId: 'k_123', keyName: 'svc', team: 'open', limits: { tpm: 50, concurrency: 2 } }
    const plan = resolver.resolve(runtime, 'other')!
    expect(plan.scopes.map((s) => [s.kind, s.key, s.limits])).toEqual([['key', '{sb:t:open}:k:k_123', [0, 0, 0, 50, 0, 2]]])
  })
})
