/**
 * Admin API for virtual keys (spec section 3), mounted behind the admin-key check:
 *   POST   /admin/v1/keys           create; the only response that ever carries the key
 *   GET    /admin/v1/keys?team=     list (config and runtime keys)
 *   GET    /admin/v1/keys/{id}      one key
 *   PATCH  /admin/v1/keys/{id}      update a runtime key
 *   DELETE /admin/v1/keys/{id}      revoke a runtime key (final)
 * Config-declared keys are read-only here (409). Every change is recorded in the audit log.
 */
import { isUniqueViolation } from '../keys/key-store.ts'
import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { budgetSchema, limitsSchema, type Config } from '../config/schema.ts'
import { GatewayError } from '../core/errors.ts'
import type { AuditLog } from '../core/ports.ts'
import type { KeyRecord } from '../keys/key-record.ts'
import type { KeyService } from '../keys/key-service.ts'
import { generateKey, generateKeyId, hashKey, keyHint } from '../keys/key-material.ts'
import { keyView } from './key-view.ts'
import { keyChanges } from './key-changes.ts'
import { spendOrNull, type SpendThisPeriod } from './spend.ts'
import { badRequest, readJson, validate } from './validation.ts'

export interface KeyAdminDeps {
  config: Config
  keys: KeyService
  audit?: AuditLog
  spendThisPeriod?: SpendThisPeriod
}

const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/, 'expected 1-128 characters: letters, digits, and . _ @ : - (starting with a letter or digit)')
const MODELS = z.array(z.string().min(1).max(256)).max(256)
const METADATA = z.record(z.string().max(128), z.string().max(1024)).refine((m) => Object.keys(m).length <= 64, 'at most 64 entries')
const TAGS = z.array(z.string().min(1).max(128)).max(64)
const EXPIRES = z.iso.datetime({ offset: true, message: 'expected an ISO-8601 date-time with a time zone, e.g. 2027-01-01T00:00:00Z' })

const createSchema = z.strictObject({
  team: z.string().min(1, 'required'),
  name: NAME,
  models: MODELS.optional(),
  limits: limitsSchema.optional(),
  budget: budgetSchema.optional(),
  expires_at: EXPIRES.optional(),
  metadata: METADATA.optional(),
  tags: TAGS.optional(),
})

const patchSchema = z.strictObject({
  name: NAME.optional(),
  models: MODELS.nullable().optional(),
  limits: limitsSchema.nullable().optional(),
  budget: budgetSchema.nullable().optional(),
  expires_at: EXPIRES.nullable().optional(),
  metadata: METADATA.nullable().optional(),
  tags: TAGS.nullable().optional(),
  enabled: z.boolean().optional(),
})

/**
 * Only something shaped like a key id is echoed: a runtime id (key_ and 12 base64url characters,
 * keys/key-material.ts) or a config id (cfg:<team>/<name>). Anything else may be a key pasted where
 * its id belongs, and config keys can be any string (not only sk-...).
 */
const ECHOABLE_ID = /^(?:key_[A-Za-z0-9_-]{12}|cfg:[^/\s]{1,128}\/[^\s]{1,128})$/
export const isKeyIdShaped = (id: string): boolean => ECHOABLE_ID.test(id)

const notFound = (id: string): GatewayError =>
  new GatewayError({
    status: 404,
    code: 'not_found',
    message: isKeyIdShaped(id) ? `No virtual key has the id '${id}'.` : 'No virtual key has that id (it is not shown: it is not shaped like a key id, and may be a key). Ids look like key_... or cfg:<team>/<name>.',
  })

const readOnly = (r: KeyRecord): GatewayError =>
  new GatewayError({
    status: 409,
    code: 'read_only_key',
    message: `The key '${r.id}' is declared in the config file (teams.${r.team}.keys.${r.name}) and is read-only through the admin API; change or remove it in the config file, which the running gateway reloads (no restart needed).`,
  })

const nameTaken = (team: string, name: string): GatewayError =>
  new GatewayError({ status: 409, code: 'key_name_taken', param: 'name', message: `Team '${team}' already has an active key named '${name}'; choose another name or revoke that key first.` })

export function keyAdminRoutes(deps: KeyAdminDeps): (app: Hono) => void {
  const { config, keys } = deps
  const audit = deps.audit ?? { record() {} }
  const configById = new Map(keys.configKeys.map((r) => [r.id, r]))

  const find = async (id: string): Promise<KeyRecord> => {
    const r = configById.get(id) ?? (id.startsWith('key_') ? await keys.store.get(id) : undefined)
    if (!r) throw notFound(id)
    return r
  }
  const configNameTaken = (team: string, name: string) => keys.configKeys.some((r) => r.team === team && r.name === name)
  const view = (r: KeyRecord, now?: number) => keyView(r, config.teams[r.team] !== undefined, now)
  const actor = (c: Context) => c.get('adminId')

  return (app) => {
    app.post('/admin/v1/keys', async (c) => {
      const body = validate(createSchema, await readJson(c))
      if (!config.teams[body.team]) throw badRequest(`team: the team '${body.team}' is not declared in the config; teams are defined under teams: in the config file (${Object.keys(config.teams).join(', ') || 'none yet'}).`, 'team')
      const expiresAt = body.expires_at === undefined ? undefined : Date.parse(body.expires_at)
      if (expiresAt !== undefined && expiresAt <= Date.now()) throw badRequest('expires_at: must be in the future', 'expires_at')
      if (configNameTaken(body.team, body.name) || (await keys.store.nameTaken(body.team, body.name))) throw nameTaken(body.team, body.name)
      const key = generateKey()
      const record = await keys.store.insert({
        id: generateKeyId(),
        hash: hashKey(key),
        hint: keyHint(key),
        team: body.team,
        name: body.name,
        models: body.models,
        limits: body.limits,
        budget: body.budget,
        metadata: body.metadata,
        tags: body.tags,
        expiresAt,
      }).catch((err: unknown) => {
        // Another replica created the same name between our check and this insert.
        if (isUniqueViolation(err)) throw nameTaken(body.team, body.name)
        throw err
      })
      keys.changed(record)
      audit.record({ actor: actor(c), action: 'key.create', target: record.id, detail: { team: record.team, name: record.name } })
      return c.json({ ...view(record), key }, 201)
    })

    app.get('/admin/v1/keys', async (c) => {
      const team = c.req.query('team')
      const fromConfig = keys.configKeys.filter((r) => team === undefined || r.team === team)
      const fromStore = await keys.store.list(team)
      // A team removed from the config still lists its runtime keys (orphaned: refused until it is
      // declared again), so they can be found and revoked; a name nothing knows is a 404.
      if (team !== undefined && !config.teams[team] && fromStore.length === 0) throw new GatewayError({ status: 404, code: 'not_found', param: 'team', message: `No team '${team}' is declared in the config, and no runtime key belongs to it.` })
      const now = Date.now()
      return c.json({ object: 'list', data: [...fromConfig, ...fromStore].map((r) => view(r, now)) })
    })

    app.get('/admin/v1/keys/:id{.+}', async (c) => {
      const r = await find(c.req.param('id'))
      return c.json({ ...view(r), spend_this_period_usd: await spendOrNull(deps.spendThisPeriod, { type: 'key', id: r.id }) })
    })

    app.patch('/admin/v1/keys/:id{.+}', async (c) => {
      const r = await find(c.req.param('id'))
      if (r.source === 'config') throw readOnly(r)
      const body = validate(patchSchema, await readJson(c))
      if (r.revokedAt !== undefined) throw new GatewayError({ status: 409, code: 'key_revoked', message: `The key '${r.id}' is revoked; revocation is final. Create a new key instead.` })
      const { changes, patch } = keyChanges(r, {
        name: body.name,
        models: body.models,
        limits: body.limits,
        budget: body.budget,
        metadata: body.metadata,
        tags: body.tags,
        expiresAt: body.expires_at === undefined ? undefined : body.expires_at === null ? null : Date.parse(body.expires_at),
        enabled: body.enabled,
      })
      // Nothing to change (`{}`, or values as they are): no write, no audit entry (key-changes.ts).
      if (Object.keys(changes).length === 0) return c.json(view(r))
      const name = patch.name
      if (name !== undefined && (configNameTaken(r.team, name) || (await keys.store.nameTaken(r.team, name, r.id)))) throw nameTaken(r.team, name)
      const updated = await keys.store.update(r.id, patch).catch((err: unknown) => {
        // Another key took the name between our check and this update (here or on another replica).
        if (name !== undefined && isUniqueViolation(err)) throw nameTaken(r.team, name)
        throw err
      })
      if (!updated) throw notFound(r.id)
      keys.changed(updated)
      audit.record({ actor: actor(c), action: 'key.update', target: r.id, detail: { team: r.team, name: updated.name, changes } })
      return c.json(view(updated))
    })

    app.delete('/admin/v1/keys/:id{.+}', async (c) => {
      const r = await find(c.req.param('id'))
      if (r.source === 'config') throw readOnly(r)
      if (r.revokedAt !== undefined) return c.json(view(r))
      const revoked = await keys.store.revoke(r.id)
      if (!revoked) throw notFound(r.id)
      keys.changed(revoked)
      audit.record({ actor: actor(c), action: 'key.revoke', target: r.id, detail: { team: r.team, name: r.name } })
      return c.json(view(revoked))
    })
  }
}
