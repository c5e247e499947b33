/** How a virtual key appears in admin responses: everything but the key (only a `...abcd` hint). */
import type { KeyRecord, KeyStatus } from '../keys/key-record.ts'
import { keyStatus } from '../keys/key-record.ts'

/**
 * `orphaned`: a runtime key whose team is no longer declared in the config. It is refused
 * (keys/key-cache.ts) until the team is declared again; shown as `active`, it looked usable.
 */
export type KeyViewStatus = KeyStatus | 'orphaned'

export function viewStatus(r: KeyRecord, teamDeclared: boolean, now = Date.now()): KeyViewStatus {
  const status = keyStatus(r, now)
  return !teamDeclared && status !== 'revoked' ? 'orphaned' : status
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString())

export interface KeyView {
  id: string
  object: 'virtual_key'
  source: 'config' | 'api'
  team: string
  name: string
  key_hint: string | null
  status: KeyViewStatus
  enabled: boolean
  revoked: boolean
  models: string[] | null
  limits: Record<string, unknown> | null
  budget: Record<string, unknown> | null
  expires_at: string | null
  metadata: Record<string, string> | null
  tags: string[] | null
  created_at: string | null
  updated_at: string | null
  revoked_at: string | null
}

/** teamDeclared: whether the key's team is in the running config. */
export function keyView(r: KeyRecord, teamDeclared: boolean, now = Date.now()): KeyView {
  return {
    id: r.id,
    object: 'virtual_key',
    source: r.source,
    team: r.team,
    name: r.name,
    key_hint: r.hint ?? null,
    status: viewStatus(r, teamDeclared, now),
    enabled: r.enabled,
    revoked: r.revokedAt !== undefined,
    models: r.models ?? null,
    limits: r.limits ?? null,
    budget: r.budget ?? null,
    expires_at: iso(r.expiresAt),
    metadata: r.metadata ?? null,
    tags: r.tags ?? null,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
    revoked_at: iso(r.revokedAt),
  }
}
