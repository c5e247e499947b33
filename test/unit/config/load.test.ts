/** A bad config fails at start-up naming the file, the key path and what was expected. */
import { describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { ConfigError, loadConfigFile, parseConfig } from '../../../src/config/load.ts'
import { tempDirs } from '../../helpers/temp-dir.ts'

const tempDir = tempDirs()

const base = `
providers:
  up: { type: openai, keys: ["k"] }
models:
  gpt-4o: { targets: [{ provider: up, model: gpt-4o }] }
`

function problems(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(yaml, 'cfg.yaml', env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).message).toContain('cfg.yaml')
    return (err as ConfigError).problems
  }
  throw new Error('expected the config to be rejected')
}

describe('config loading', () => {
  it('accepts a valid config and fills defaults', () => {
    const { config } = parseConfig(base, 'cfg.yaml', {})
    expect(config.server.port).toBe(8080)
    expect(config.routing.retries.max_attempts).toBe(4)
    expect(config.models['gpt-4o']?.targets[0]?.weight).toBe(1)
  })

  it('names an unknown key with its full path', () => {
    expect(problems(`${base}\nserver: { prot: 1 }\n`)).toEqual(['server.prot: unknown key (check the spelling; see docs/config.md)'])
  })

  it('names a wrong type with its path and what was expected', () => {
    const p = problems(`${base}\nserver: { port: eighty }\n`)
    expect(p).toHaveLength(1)
    expect(p[0]).toMatch(/^server\.port: .*expected number/i)
  })

  it('names a bad enum value', () => {
    const p = problems(`${base}\nrouting: { strategy: fastest }\n`)
    expect(p[0]).toMatch(/^routing\.strategy: .*"weighted"/)
  })

  it('checks cross references: a target naming an unknown provider', () => {
    expect(problems(`
providers: { up: { type: openai, keys: [k] } }
models: { gpt-4o: { targets: [{ provider: nope, model: x }] } }
`)).toEqual(['models.gpt-4o.targets[0].provider: unknown provider "nope"; expected one of: up'])
  })

  it('checks cross references: a fallback naming an unknown model', () => {
    expect(problems(`${base.replace('gpt-4o }] }', 'gpt-4o }], fallbacks: [claude] }')}`)).toEqual(['models.gpt-4o.fallbacks[0]: unknown model "claude"; expected a name defined under models'])
  })

  it('requires a base_url for azure and openai-compatible providers', () => {
    expect(problems(`providers: { a: { type: azure, keys: [k] }, b: { type: openai-compatible } }`)).toEqual([
      'providers.a.base_url: required for type azure (e.g. https://<resource>.openai.azure.com)',
      'providers.b.base_url: required for type openai-compatible (e.g. http://vllm:8000/v1)',
    ])
  })

  it('providers.<name>.passthrough: rules of a path glob under /v1/ and methods, validated by key path', () => {
    const { config } = parseConfig(`
providers:
  up: { type: openai, keys: [k], passthrough: [{ path: "/v1/audio/*", methods: [post] }, { path: /v1/moderations, methods: [POST] }] }
`, 'cfg.yaml', {})
    expect(config.providers.up?.passthrough).toEqual([{ path: '/v1/audio/*', methods: ['POST'] }, { path: '/v1/moderations', methods: ['POST'] }])
    expect(parseConfig('providers: { up: { type: openai, passthrough: [] } }', 'cfg.yaml', {}).config.providers.up?.passthrough).toEqual([])
    expect(problems('providers: { up: { type: openai, passthrough: [{ path: "/v1/files", methods: [POST], method: GET }] } }')).toEqual(['providers.up.passthrough[0].method: unknown key (check the spelling; see docs/config.md)'])
    expect(problems('providers: { up: { type: openai, passthrough: [{ path: "/v1/files", methods: [FETCH] }] } }')[0]).toMatch(/^providers\.up\.passthrough\[0\]\.methods\[0\]: /)
    expect(problems('providers: { up: { type: openai, passthrough: [{ path: "/v1/files", methods: [] }] } }')[0]).toMatch(/^providers\.up\.passthrough\[0\]\.methods: /)
    expect(problems('providers: { up: { type: openai, passthrough: [{ path: "/files", methods: [GET] }] } }')).toEqual(['providers.up.passthrough[0].path: a path glob starting with /v1/ (e.g. /v1/audio/*), without a query'])
    expect(problems('providers: { up: { type: openai, passthrough: [{ methods: [GET] }] } }')[0]).toMatch(/^providers\.up\.passthrough\[0\]\.path: /)
    expect(problems('providers: { a: { type: anthropic, keys: [k], passthrough: [] } }')).toEqual(['providers.a.passthrough: only OpenAI-type providers (openai, azure, openai-compatible) forward /v1/* paths; remove it from this anthropic provider'])
  })

  it('one secret under two config keys is an error naming both key paths, never the secret; key and sha256 entries meet', () => {
    const sha = createHash('sha256').update('shared-secret-value-123').digest('hex')
    const p = problems(`
teams:
  A: { models: [cheap], keys: { bot: { key: "\${A_KEY}" } } }
  B: { models: [pricey], keys: { bot: { key: "\${B_KEY}" }, hashed: { sha256: "${sha.toUpperCase()}" } } }
`, { A_KEY: 'shared-secret-value-123', B_KEY: 'shared-secret-value-123' })
    expect(p).toEqual([
      'teams.B.keys.bot: the same secret as teams.A.keys.bot; a secret authenticates as one key only, so give each key its own (openssl rand -base64 32)',
      'teams.B.keys.hashed: the same secret as teams.A.keys.bot; a secret authenticates as one key only, so give each key its own (openssl rand -base64 32)',
    ])
    expect(p.join('\n')).not.toContain('shared-secret-value-123')
    // Unset variables (disabled keys) are not duplicates of each other.
    expect(parseConfig('teams: { A: { keys: { a: { key: "${X}" } } }, B: { keys: { b: { key: "${Y}" } } } }', 'cfg.yaml', {}).config.teams.A).toBeDefined()
  })

  it('an empty document, or one that is not a mapping, is an error rather than an empty config', () => {
    for (const text of ['', '\n', '# only a comment\n', '---\n', 'null', '~']) {
      expect(problems(text)).toEqual(['(root): the file is empty; expected a mapping with providers, models, teams... (docs/config.md)'])
    }
    expect(problems('- a\n- b\n')).toEqual(['(root): expected a mapping with providers, models, teams... (docs/config.md), got a list'])
    expect(problems('42')).toEqual(['(root): expected a mapping with providers, models, teams... (docs/config.md), got a number'])
    expect(problems('providers')).toEqual(['(root): expected a mapping with providers, models, teams... (docs/config.md), got a string'])
    // An explicit empty mapping is a choice, not an accident: every section takes its defaults.
    expect(Object.keys(parseConfig('{}', 'cfg.yaml', {}).config.models)).toEqual([])
  })

  it('YAML merge keys share defaults through anchors, kept in top-level x- blocks', () => {
    const { config } = parseConfig(`
x-openai: &openai { type: openai, base_url: "https://a.example/v1", keys: ["k"], timeouts: { connect_ms: 1000 } }
x-limits: &limits { limits: { rpm: 60 } }
providers:
  a: { <<: *openai }
  b: { <<: *openai, base_url: "https://b.example/v1" }
models:
  m1: &model { targets: [{ provider: a, model: x }], default_max_output_tokens: 100 }
  m2: { <<: [*model, *limits], targets: [{ provider: b, model: y }] }
`, 'cfg.yaml', {})
    expect(config.providers.b).toEqual({ type: 'openai', base_url: 'https://b.example/v1', keys: ['k'], timeouts: { connect_ms: 1000 } })
    expect(config.providers.a?.base_url).toBe('https://a.example/v1')
    expect(config.models.m2).toMatchObject({ targets: [{ provider: 'b', model: 'y' }], default_max_output_tokens: 100, limits: { rpm: 60 } })
    expect(config).not.toHaveProperty('x-openai')
    // Merged keys are checked like written ones; only the top level's x- blocks are set aside.
    expect(problems('x-p: &p { type: openai, tyype: x }\nproviders: { a: { <<: *p } }')).toEqual(['providers.a.tyype: unknown key (check the spelling; see docs/config.md)'])
    expect(problems('server: { x-note: hi }')).toEqual(['server.x-note: unknown key (check the spelling; see docs/config.md)'])
  })

  it('reports YAML syntax errors', () => {
    expect(problems('models: [unclosed')[0]).toMatch(/^YAML syntax:/)
  })

  it('interpolates ${VAR}, ${VAR:-default} and ${file:/path}', () => {
    const dir = tempDir('sbcfg-')
    writeFileSync(join(dir, 'key'), 'from-file\n')
    const { config, missingVars } = parseConfig(`
server: { port: "\${PORT:-9090}", host: "\${HOST}" }
providers: { up: { type: openai, keys: ["\${file:${join(dir, 'key')}}", "\${UNSET_KEY}"] } }
`, 'cfg.yaml', { HOST: '0.0.0.0' })
    expect(config.server.port).toBe(9090)
    expect(config.server.host).toBe('0.0.0.0')
    expect(config.providers.up?.keys).toEqual(['from-file', ''])
    expect([...missingVars]).toEqual(['UNSET_KEY'])
  })

  it('names an unreadable ${file:} with its key path', () => {
    expect(problems('server: { host: "${file:/nonexistent/x}" }')).toEqual(['server.host: cannot read ${file:/nonexistent/x}: ENOENT'])
  })

  it('interpolation cannot change the document structure', () => {
    const { config } = parseConfig('server: { host: "${H}" }', 'cfg.yaml', { H: 'a: {b: 1}' })
    expect(config.server.host).toBe('a: {b: 1}')
  })

  it('a missing file is an error naming it', async () => {
    await expect(loadConfigFile('/nonexistent/switchboard.yaml', {})).rejects.toMatchObject({ problems: ['cannot read the file: ENOENT'] })
  })

  it('the shipped config is valid', async () => {
    const { config } = await loadConfigFile(new URL('../../../config/switchboard.yaml', import.meta.url).pathname, {})
    expect(Object.keys(config.models)).toContain('demo')
  })
})
