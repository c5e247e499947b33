/**
 * Keys declared in the config file, indexed by the sha256 of the key: the secret itself is never
 * kept in memory past start-up. A key whose variable is unset is skipped with a warning.
 */
import type { Config } from '../config/schema.ts'
import type { Principal } from '../core/call.ts'
import { sha256Hex } from './present-key.ts'

export interface ConfigKey {
  principal: Principal
  expiresAt: number | undefined
}

export function configKeysByHash(config: Config, warn: (msg: string, fields: Record<string, unknown>) => void): Map<string, ConfigKey> {
  const out = new Map<string, ConfigKey>()
  for (const [team, t] of Object.entries(config.teams)) {
    for (const [name, k] of Object.entries(t.keys)) {
      const hash = k.sha256?.toLowerCase() ?? (k.key ? sha256Hex(k.key) : undefined)
      if (!hash) {
        warn('a config key has no value (its variable is unset); it is disabled', { team, key: name })
        continue
      }
      out.set(hash, {
        principal: {
          keyId: `cfg:${team}/${name}`,
          keyName: name,
          team,
          keyModels: k.models,
          teamModels: t.models,
          cache: k.cache ?? t.cache,
          metadata: k.metadata,
          tags: k.tags,
        },
        expiresAt: k.expires_at ? Date.parse(k.expires_at) : undefined,
      })
    }
  }
  return out
}
