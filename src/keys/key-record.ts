/**
 * One virtual key as the gateway knows it, whichever its source (config file or admin API), and
 * the principal it authenticates as.
 */
import type { Budget, Config, Limits } from '../config/schema.ts'
import type { Principal } from '../core/call.ts'

export type KeySource = 'config' | 'api'

export interface KeyRecord {
  /** `cfg:<team>/<name>` for config keys; `key_...` for keys created through the admin API. */
  id: string
  source: KeySource
  team: string
  name: string
  /** Hex sha256 of the key; undefined for a config key whose variable is unset. */
  hash: string | undefined
  /** `...abcd`; undefined when only the digest is known (config `sha256:`). */
  hint: string | undefined
  models: string[] | undefined
  limits: Limits | undefined
  budget: Budget | undefined
  metadata: Record<string, string> | undefined
  tags: string[] | undefined
  /** Epoch ms. */
  expiresAt: number | undefined
  /** Config keys' cache opt-in/out; runtime keys follow their team. */
  cache: boolean | undefined
  enabled: boolean
  revokedAt: number | undefined
  createdAt: number | undefined
  updatedAt: number | undefined
}

export type KeyStatus = 'active' | 'disabled' | 'revoked' | 'expired'

export function keyStatus(r: KeyRecord, now = Date.now()): KeyStatus {
  if (r.revokedAt !== undefined) return 'revoked'
  if (!r.enabled) return 'disabled'
  if (r.expiresAt !== undefined && r.expiresAt <= now) return 'expired'
  return 'active'
}

/** The principal a key authenticates as: built once per key change, shared by every request. */
export function principalOf(r: KeyRecord, config: Config): Principal {
  const team = config.teams[r.team]
  return Object.freeze({
    keyId: r.id,
    keyName: r.name,
    team: r.team,
    keyModels: r.models,
    teamModels: team?.models,
    cache: r.cache ?? team?.cache,
    metadata: r.metadata,
    tags: r.tags,
    // Config keys' limits and budgets are read from the config by keyId (the guards' contract).
    limits: r.source === 'api' ? r.limits : undefined,
    budget: r.source === 'api' ? r.budget : undefined,
  })
}
