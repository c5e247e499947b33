/**
 * Runtime virtual keys in the SQL store (SQLite or Postgres): the source of truth. Only the
 * sha256 of a key is stored. `updated_at` comes from the database's clock, so replicas with
 * skewed clocks still agree on the order of changes (the key cache polls by it).
 */
import type { Budget, Limits } from '../config/schema.ts'
import { migrate, type Row, type SqlDb, type SqlValue } from '../stores/sql.ts'
import type { KeyRecord } from './key-record.ts'

const SCHEMA_VERSION = 2

/** Idempotent DDL, applied under a lock so replicas starting together do not race. */
const MIGRATIONS: Record<number, string> = {
  1: `
CREATE TABLE IF NOT EXISTS virtual_keys (
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE,
  key_hint TEXT NOT NULL,
  team TEXT NOT NULL,
  name TEXT NOT NULL,
  models TEXT,
  limits TEXT,
  budget TEXT,
  metadata TEXT,
  tags TEXT,
  expires_at BIGINT,
  enabled INTEGER NOT NULL DEFAULT 1,
  revoked_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS virtual_keys_team ON virtual_keys (team);
CREATE INDEX IF NOT EXISTS virtual_keys_updated_at ON virtual_keys (updated_at);
`,
  // A live key's name is unique in its team, enforced by the store so two replicas creating the
  // same name at once cannot both win (the API's read-before-insert check alone could).
  2: `
CREATE UNIQUE INDEX IF NOT EXISTS virtual_keys_live_name ON virtual_keys (team, name) WHERE revoked_at IS NULL;
`,
}

/** Whether a store error is a unique-constraint violation (SQLite or Postgres). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string }
  return e?.code === '23505' || /UNIQUE constraint failed/.test(e?.message ?? '')
}

export interface NewKey {
  id: string
  hash: string
  hint: string
  team: string
  name: string
  models?: string[]
  limits?: Limits
  budget?: Budget
  metadata?: Record<string, string>
  tags?: string[]
  expiresAt?: number
}

/** A PATCH: absent = unchanged, null = cleared. */
export interface KeyPatch {
  name?: string
  models?: string[] | null
  limits?: Limits | null
  budget?: Budget | null
  metadata?: Record<string, string> | null
  tags?: string[] | null
  expiresAt?: number | null
  enabled?: boolean
}

export interface KeyStore {
  /** Creates the tables (once per database; safe to call on every start). */
  migrate(): Promise<void>
  /** The database's clock, epoch ms. */
  now(): Promise<number>
  insert(k: NewKey): Promise<KeyRecord>
  get(id: string): Promise<KeyRecord | undefined>
  list(team?: string): Promise<KeyRecord[]>
  /** Active (not revoked) keys of a team with that name. */
  nameTaken(team: string, name: string, exceptId?: string): Promise<boolean>
  update(id: string, patch: KeyPatch): Promise<KeyRecord | undefined>
  revoke(id: string): Promise<KeyRecord | undefined>
  /** Every key not revoked (start-up load). */
  loadActive(): Promise<KeyRecord[]>
  /** Keys changed after `since` (epoch ms, database clock), revoked ones included. */
  changedSince(since: number): Promise<KeyRecord[]>
}

interface KeyRow extends Row {
  id: string
  key_hash: string
  key_hint: string
  team: string
  name: string
  models: string | null
  limits: string | null
  budget: string | null
  metadata: string | null
  tags: string | null
  expires_at: string | number | null
  enabled: number | boolean
  revoked_at: string | number | null
  created_at: string | number
  updated_at: string | number
}

// pg returns BIGINT as a string; SQLite as a number.
const ms = (v: string | number | null): number | undefined => (v === null ? undefined : Number(v))
const parsed = <T>(v: string | null): T | undefined => (v === null ? undefined : (JSON.parse(v) as T))
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v))

function fromRow(r: KeyRow): KeyRecord {
  return {
    id: r.id,
    source: 'api',
    team: r.team,
    name: r.name,
    hash: r.key_hash,
    hint: r.key_hint,
    models: parsed<string[]>(r.models),
    limits: parsed<Limits>(r.limits),
    budget: parsed<Budget>(r.budget),
    metadata: parsed<Record<string, string>>(r.metadata),
    tags: parsed<string[]>(r.tags),
    expiresAt: ms(r.expires_at),
    cache: undefined,
    enabled: r.enabled === true || Number(r.enabled) === 1,
    revokedAt: ms(r.revoked_at),
    createdAt: ms(r.created_at),
    updatedAt: ms(r.updated_at),
  }
}

const COLUMNS = 'id, key_hash, key_hint, team, name, models, limits, budget, metadata, tags, expires_at, enabled, revoked_at, created_at, updated_at'

export function createKeyStore(db: SqlDb): KeyStore {
  const nowSql = db.dialect === 'postgres'
    ? '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint'
    : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
  const get = async (id: string): Promise<KeyRecord | undefined> => {
    const rows = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM virtual_keys WHERE id = $1`, [id])
    return rows[0] ? fromRow(rows[0]) : undefined
  }
  return {
    async migrate() {
      await migrate(db, async (tx) => {
        await tx.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)')
        const rows = await tx.query<{ version: number }>('SELECT version FROM schema_versions WHERE component = $1', ['keys'])
        const current = rows[0] ? Number(rows[0].version) : 0
        for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
          const ddl = MIGRATIONS[v]
          if (ddl) await tx.exec(ddl)
        }
        if (current === 0) await tx.query('INSERT INTO schema_versions (component, version) VALUES ($1, $2)', ['keys', SCHEMA_VERSION])
        else if (current < SCHEMA_VERSION) await tx.query('UPDATE schema_versions SET version = $2 WHERE component = $1', ['keys', SCHEMA_VERSION])
      })
    },
    async now() {
      const rows = await db.query<{ now: string | number }>(`SELECT ${nowSql} AS now`)
      return Number(rows[0]?.now ?? Date.now())
    },
    async insert(k) {
      const params: SqlValue[] = [k.id, k.hash, k.hint, k.team, k.name, json(k.models), json(k.limits), json(k.budget), json(k.metadata), json(k.tags), k.expiresAt ?? null]
      await db.query(
        `INSERT INTO virtual_keys (id, key_hash, key_hint, team, name, models, limits, budget, metadata, tags, expires_at, enabled, revoked_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, NULL, ${nowSql}, ${nowSql})`,
        params,
      )
      const created = await get(k.id)
      if (!created) throw new Error('the key row vanished right after insert')
      return created
    },
    get,
    async list(team) {
      const rows = team === undefined
        ? await db.query<KeyRow>(`SELECT ${COLUMNS} FROM virtual_keys ORDER BY created_at, id`)
        : await db.query<KeyRow>(`SELECT ${COLUMNS} FROM virtual_keys WHERE team = $1 ORDER BY created_at, id`, [team])
      return rows.map(fromRow)
    },
    async nameTaken(team, name, exceptId) {
      const rows = await db.query('SELECT id FROM virtual_keys WHERE team = $1 AND name = $2 AND revoked_at IS NULL AND id <> $3', [team, name, exceptId ?? ''])
      return rows.length > 0
    },
    async update(id, patch) {
      const sets: string[] = []
      const params: SqlValue[] = [id]
      const set = (column: string, value: SqlValue) => {
        params.push(value)
        sets.push(`${column} = $${params.length}`)
      }
      if (patch.name !== undefined) set('name', patch.name)
      if (patch.models !== undefined) set('models', json(patch.models))
      if (patch.limits !== undefined) set('limits', json(patch.limits))
      if (patch.budget !== undefined) set('budget', json(patch.budget))
      if (patch.metadata !== undefined) set('metadata', json(patch.metadata))
      if (patch.tags !== undefined) set('tags', json(patch.tags))
      if (patch.expiresAt !== undefined) set('expires_at', patch.expiresAt)
      if (patch.enabled !== undefined) set('enabled', patch.enabled ? 1 : 0)
      // A revoked key is final: updates to it are refused by the caller, and never applied here.
      await db.query(`UPDATE virtual_keys SET ${[...sets, `updated_at = ${nowSql}`].join(', ')} WHERE id = $1 AND revoked_at IS NULL`, params)
      return get(id)
    },
    async revoke(id) {
      await db.query(`UPDATE virtual_keys SET revoked_at = ${nowSql}, updated_at = ${nowSql} WHERE id = $1 AND revoked_at IS NULL`, [id])
      return get(id)
    },
    async loadActive() {
      return (await db.query<KeyRow>(`SELECT ${COLUMNS} FROM virtual_keys WHERE revoked_at IS NULL`)).map(fromRow)
    },
    async changedSince(since) {
      return (await db.query<KeyRow>(`SELECT ${COLUMNS} FROM virtual_keys WHERE updated_at > $1 ORDER BY updated_at`, [since])).map(fromRow)
    },
  }
}
