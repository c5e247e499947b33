/**
 * Keys declared in the config file, as key records indexed by the sha256 of the key: the secret
 * itself is never kept past start-up (only its last four characters, as a hint). A key whose
 * variable is unset is kept (the admin API lists it) but can never authenticate.
 */
import type { Config } from '../config/schema.ts'
import type { KeyRecord } from '../keys/key-record.ts'
import { keyHint } from '../keys/key-material.ts'
import { sha256Hex } from './present-key.ts'

export const configKeyId = (team: string, name: string): string => `cfg:${team}/${name}`

export function configKeyRecords(config: Config, warn: (msg: string, fields: Record<string, unknown>) => void): KeyRecord[] {
  const out: KeyRecord[] = []
  for (const [team, t] of Object.entries(config.teams)) {
    for (const [name, k] of Object.entries(t.keys)) {
      const hash = k.sha256?.toLowerCase() ?? (k.key ? sha256Hex(k.key) : undefined)
      if (!hash) warn('a config key has no value (its variable is unset); it is disabled', { team, key_name: name })
      out.push({
        id: configKeyId(team, name),
        source: 'config',
        team,
        name,
        hash,
        hint: k.key ? keyHint(k.key) : undefined,
        models: k.models,
        limits: k.limits,
        budget: k.budget,
        metadata: k.metadata,
        tags: k.tags,
        expiresAt: k.expires_at ? Date.parse(k.expires_at) : undefined,
        cache: k.cache,
        enabled: hash !== undefined,
        revokedAt: undefined,
        createdAt: undefined,
        updatedAt: undefined,
      })
    }
  }
  return out
}
