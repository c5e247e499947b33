/** Config mistakes the gateway runs with but warns about, by key path. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/load.ts'
import { configWarnings } from '../../../src/config/cross-check.ts'

const warnings = (yaml: string) => configWarnings(parseConfig(`providers: { m: { type: mock } }\n${yaml}`, 'cfg.yaml', {}).config)
const model = '{ targets: [{ provider: m, model: mock-1 }] }'

describe('configWarnings', () => {
  it('model names that differ only in case', () => {
    expect(warnings(`models: { demo: ${model}, Demo: ${model}, DEMO: ${model}, other: ${model} }`)).toEqual([
      'models.Demo: differs from models.demo only in case; model names are case-sensitive, so these are two models with their own callers, limits and spend',
      'models.DEMO: differs from models.demo only in case; model names are case-sensitive, so these are two models with their own callers, limits and spend',
    ])
  })

  it('team and key model globs, and model_limits globs, that match no configured model', () => {
    expect(warnings(`
models: { gpt-4o: ${model}, gpt-4o-mini: ${model} }
teams:
  t:
    models: ["gpt-4o*", "gtp-4o*", ""]
    model_limits: { "gpt-4o-mini": { rpm: 5 }, "claude-*": { rpm: 5 } }
    keys:
      ok: { key: sk-sb-ok-0001, models: [gpt-4o] }
      typo: { key: sk-sb-typo-0001, models: ["gpt-[4o"] }
`)).toEqual([
      'teams.t.models[1]: "gtp-4o*" matches no model under models, so it allows nothing (only * is a wildcard)',
      'teams.t.models[2]: "" matches no model under models, so it allows nothing (only * is a wildcard)',
      'teams.t.model_limits.claude-*: "claude-*" matches no model under models, so these limits apply to nothing',
      'teams.t.keys.typo.models[0]: "gpt-[4o" matches no model under models, so it allows nothing (only * is a wildcard)',
    ])
  })

  it('none for a sound config, the shipped one included', async () => {
    expect(warnings(`models: { a: ${model} }\nteams: { t: { models: ["*"], keys: { k: { key: sk-sb-x-0001, models: [a] } } } }`)).toEqual([])
    const { loadConfigFile } = await import('../../../src/config/load.ts')
    const { config } = await loadConfigFile(new URL('../../../config/switchboard.yaml', import.meta.url).pathname, {})
    expect(configWarnings(config)).toEqual([])
  })
})
