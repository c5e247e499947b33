/**
 * The config's maps of names (providers, models, teams, a team's keys and model_limits) hold only
 * the names the file declares: no Object.prototype members (`constructor`, `toString`...), which
 * bracket lookups by a client's model or an admin's team name used to find. `__proto__` is refused
 * with its key path: assigning it sets a prototype, so it vanished or lent its fields silently.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../../src/config/load.ts'

const yaml = `
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
teams:
  t:
    model_limits: { "demo*": { rpm: 5 } }
    keys: { k: { key: abc } }
`

describe('config maps of names', () => {
  it('find only declared names', () => {
    const { config } = parseConfig(yaml, 'cfg.yaml', {})
    const t = config.teams.t!
    for (const map of [config.providers, config.models, config.teams, t.keys, t.model_limits!]) {
      for (const n of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) expect(map[n], n).toBeUndefined()
    }
    expect(Object.keys(config.teams)).toEqual(['t'])
    expect(t.keys.k?.key).toBe('abc')
    expect(t.model_limits?.['demo*']?.rpm).toBe(5)
    // Absent maps too: a default is made through the same schema.
    const empty = parseConfig('{}', 'cfg.yaml', {}).config
    expect([empty.teams['constructor'], empty.models['toString'], empty.providers['valueOf']]).toEqual([undefined, undefined, undefined])
  })

  it('a declared `constructor` is a name like any other', () => {
    const { config } = parseConfig(`${yaml}  constructor: { models: [demo] }\n`, 'cfg.yaml', {})
    expect(config.teams['constructor']?.models).toEqual(['demo'])
  })

  it('refuses __proto__ as a name or key, with its path', () => {
    for (const [doc, path] of [
      ['teams: { __proto__: { keys: {} } }', 'teams.__proto__'],
      ['models: { __proto__: { targets: [] } }', 'models.__proto__'],
      ['{"server": {"__proto__": {"port": 1}}}', 'server.__proto__'],
    ] as const) {
      let problems: string[] = []
      try {
        parseConfig(doc, 'cfg.yaml', {})
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
        problems = (err as ConfigError).problems
      }
      expect(problems).toEqual([`${path}: '__proto__' cannot be used as a key or name`])
    }
  })
})
