/** Checks the references between sections that a schema alone cannot. */
import { hash } from 'node:crypto'
import type { Config } from './schema.ts'
import { globMatch } from '../core/glob.ts'

export function crossCheck(config: Config): string[] {
  const problems: string[] = []
  const providers = new Set(Object.keys(config.providers))
  const models = new Set(Object.keys(config.models))

  for (const [name, p] of Object.entries(config.providers)) {
    if (p.type === 'azure' && !p.base_url) problems.push(`providers.${name}.base_url: required for type azure (e.g. https://<resource>.openai.azure.com)`)
    if (p.type === 'openai-compatible' && !p.base_url) problems.push(`providers.${name}.base_url: required for type openai-compatible (e.g. http://vllm:8000/v1)`)
    if (p.type === 'bedrock' && !p.region) problems.push(`providers.${name}.region: required for type bedrock (e.g. us-east-1)`)
    if (p.passthrough && p.type !== 'openai' && p.type !== 'azure' && p.type !== 'openai-compatible') problems.push(`providers.${name}.passthrough: only OpenAI-type providers (openai, azure, openai-compatible) forward /v1/* paths; remove it from this ${p.type} provider`)
    if (p.base_url) {
      try {
        const u = new URL(p.base_url)
        if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`providers.${name}.base_url: expected an http(s) URL, got "${p.base_url}"`)
      } catch {
        problems.push(`providers.${name}.base_url: expected an absolute URL, got "${p.base_url}"`)
      }
    }
  }

  for (const [name, m] of Object.entries(config.models)) {
    m.targets.forEach((t, i) => {
      if (!providers.has(t.provider)) {
        problems.push(`models.${name}.targets[${i}].provider: unknown provider "${t.provider}"; expected one of: ${[...providers].join(', ') || '(none defined under providers)'}`)
      }
    })
    for (const kind of ['fallbacks', 'context_window_fallbacks', 'content_policy_fallbacks'] as const) {
      m[kind].forEach((f, i) => {
        if (!models.has(f)) problems.push(`models.${name}.${kind}[${i}]: unknown model "${f}"; expected a name defined under models`)
        if (f === name) problems.push(`models.${name}.${kind}[${i}]: a model cannot fall back to itself`)
      })
    }
  }

  // One secret under two keys would authenticate as whichever was indexed last: a team's callers
  // billed, limited and scoped as another team, silently. Compared by digest, so `key` and `sha256`
  // entries meet, and named by key path only (never the secret).
  const byDigest = new Map<string, string>()
  for (const [team, t] of Object.entries(config.teams)) {
    for (const [keyName, k] of Object.entries(t.keys)) {
      if (k.key === undefined && !k.sha256) problems.push(`teams.${team}.keys.${keyName}: expected either key or sha256`)
      if (k.key && k.sha256) problems.push(`teams.${team}.keys.${keyName}: give key or sha256, not both`)
      const digest = k.sha256?.toLowerCase() ?? (k.key ? hash('sha256', k.key, 'hex') : undefined)
      if (!digest) continue
      const path = `teams.${team}.keys.${keyName}`
      const first = byDigest.get(digest)
      if (first) problems.push(`${path}: the same secret as ${first}; a secret authenticates as one key only, so give each key its own (openssl rand -base64 32)`)
      else byDigest.set(digest, path)
    }
  }
  return problems
}

/**
 * Mistakes the gateway can run with but that are rarely meant, each as `key path: what and why`:
 * warned at start, on every reload and by --check-config, not refused, since a config that only
 * carries them still serves as written.
 */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = []
  const models = Object.keys(config.models)

  // Model names are case-sensitive (as OpenAI's are): keeping both is valid, but callers of one
  // never reach the other and their spend is reported apart, which is seldom the intent.
  const byLowerCase = new Map<string, string>()
  for (const name of models) {
    const first = byLowerCase.get(name.toLowerCase())
    if (first === undefined) byLowerCase.set(name.toLowerCase(), name)
    else warnings.push(`models.${name}: differs from models.${first} only in case; model names are case-sensitive, so these are two models with their own callers, limits and spend`)
  }

  // A scope glob that matches nothing (a typo, a model since renamed) grants nothing, silently:
  // the key or team is left without the models its owner meant to give it.
  const unmatched = (glob: string) => !models.some((m) => globMatch(glob, m))
  const why = 'matches no model under models, so it allows nothing (only * is a wildcard)'
  for (const [team, t] of Object.entries(config.teams)) {
    t.models?.forEach((g, i) => { if (unmatched(g)) warnings.push(`teams.${team}.models[${i}]: "${g}" ${why}`) })
    for (const g of Object.keys(t.model_limits ?? {})) if (unmatched(g)) warnings.push(`teams.${team}.model_limits.${g}: "${g}" matches no model under models, so these limits apply to nothing`)
    for (const [name, k] of Object.entries(t.keys)) {
      k.models?.forEach((g, i) => { if (unmatched(g)) warnings.push(`teams.${team}.keys.${name}.models[${i}]: "${g}" ${why}`) })
    }
  }
  return warnings
}
