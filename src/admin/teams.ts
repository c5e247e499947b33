/**
 * Admin API for teams: GET /admin/v1/teams and GET /admin/v1/teams/{id}. Teams are declared in the
 * config file (read-only here); each shows its model scope, limits, budget, spend this period
 * (from the ledger, null when unknown) and how many keys it has.
 */
import type { Hono } from 'hono'
import type { Config, TeamEntry } from '../config/schema.ts'
import { GatewayError } from '../core/errors.ts'
import { keyStatus } from '../keys/key-record.ts'
import type { KeyService } from '../keys/key-service.ts'
import { spendOrNull, type SpendThisPeriod } from './spend.ts'

export interface TeamAdminDeps {
  config: Config
  keys: KeyService
  spendThisPeriod?: SpendThisPeriod
}

export function teamAdminRoutes(deps: TeamAdminDeps): (app: Hono) => void {
  const { config, keys } = deps

  const view = async (id: string, t: TeamEntry, apiKeys: number) => ({
    id,
    object: 'team' as const,
    source: 'config' as const,
    models: t.models ?? null,
    limits: t.limits ?? null,
    model_limits: t.model_limits ?? null,
    budget: t.budget ?? null,
    spend_this_period_usd: await spendOrNull(deps.spendThisPeriod, { type: 'team', id }),
    keys: { config: Object.keys(t.keys).length, api: apiKeys },
  })

  /** Active runtime keys per team. */
  const apiKeyCounts = async (team?: string): Promise<Map<string, number>> => {
    const counts = new Map<string, number>()
    const now = Date.now()
    for (const r of await keys.store.list(team)) {
      if (keyStatus(r, now) === 'active') counts.set(r.team, (counts.get(r.team) ?? 0) + 1)
    }
    return counts
  }

  return (app) => {
    app.get('/admin/v1/teams', async (c) => {
      const counts = await apiKeyCounts()
      const data = await Promise.all(Object.entries(config.teams).map(([id, t]) => view(id, t, counts.get(id) ?? 0)))
      return c.json({ object: 'list', data })
    })
    app.get('/admin/v1/teams/:id', async (c) => {
      const id = c.req.param('id')
      const t = config.teams[id]
      if (!t) throw new GatewayError({ status: 404, code: 'not_found', message: `No team '${id}' is declared in the config; teams are defined under teams: in the config file.` })
      return c.json(await view(id, t, (await apiKeyCounts(id)).get(id) ?? 0))
    })
  }
}
