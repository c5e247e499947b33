/**
 * What a PATCH of a runtime key changes: each field whose value differs from the key's, with its
 * value before and after, in the admin API's names and forms (`expires_at` as ISO-8601). The audit
 * trail records these; a PATCH that changes nothing (`{}`, or every value as it already is) writes
 * nothing and records nothing, so the trail holds only real changes and `updated_at` only moves
 * when something did.
 */
import type { KeyRecord } from '../keys/key-record.ts'
import type { KeyPatch } from '../keys/key-store.ts'

export interface FieldChange {
  before: unknown
  after: unknown
}

export type KeyChanges = Record<string, FieldChange>

/** JSON with keys sorted at every level: `{rpm, tpm}` and `{tpm, rpm}` are the same limits. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

const iso = (ms: number | null | undefined): string | null => (ms === undefined || ms === null ? null : new Date(ms).toISOString())

/** The fields of `patch` that change `r`, and the patch reduced to them. */
export function keyChanges(r: KeyRecord, patch: KeyPatch): { changes: KeyChanges; patch: KeyPatch } {
  const changes: KeyChanges = {}
  const reduced: KeyPatch = {}
  const field = <K extends keyof KeyPatch>(key: K, name: string, before: unknown, show: (v: KeyPatch[K]) => unknown = (v) => v) => {
    const after = patch[key]
    if (after === undefined) return
    const shownBefore = before ?? null
    const shownAfter = show(after) ?? null
    if (canonical(shownBefore) === canonical(shownAfter)) return
    changes[name] = { before: shownBefore, after: shownAfter }
    reduced[key] = after
  }
  field('name', 'name', r.name)
  field('models', 'models', r.models)
  field('limits', 'limits', r.limits)
  field('budget', 'budget', r.budget)
  field('expiresAt', 'expires_at', iso(r.expiresAt), iso)
  field('metadata', 'metadata', r.metadata)
  field('tags', 'tags', r.tags)
  field('enabled', 'enabled', r.enabled)
  return { changes, patch: reduced }
}
