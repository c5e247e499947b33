/**
 * Which limits apply to a call: the key's, the team's, the key's on this model (models.<m>.limits)
 * and the team's on this model (teams.<t>.model_limits.<glob>). Resolved once per principal and
 * model and cached, so the request path does no config walking and no string building.
 */
import type { Config } from '../config/schema.ts'
import type { KeyLimits, Principal } from '../core/call.ts'
import { globMatch } from '../core/glob.ts'

/** Positions in Scope.limits (and in counters): requests per second/minute/day, tokens per minute/day, in-flight. */
export const RPS = 0
export const RPM = 1
export const RPD = 2
export const TPM = 3
export const TPD = 4
export const CONC = 5

export type ScopeKind = 'key' | 'team' | 'key_model' | 'team_model'

export interface Scope {
  kind: ScopeKind
  /** Storage key, under the team's Redis hash tag so all scopes of one request share a cluster slot. */
  key: string
  /** Storage key of the in-flight set (concurrency). */
  slotsKey: string
  /** How the 429 message names it: `key ci-bot (team research)`. */
  label: string
  /** [rps, rpm, rpd, tpm, tpd, concurrency]; 0 = no limit. */
  limits: readonly number[]
  /** Whether any of rps..tpd is set (the scope has window counters). */
  windowed: boolean
  /** Whether rpd or tpd is set (counters must live until the end of the day). */
  daily: boolean
}

export interface ScopePlan {
  scopes: readonly Scope[]
  /** Any tpm/tpd: settlement must adjust tokens. */
  tokens: boolean
  /** Any concurrency: settlement must release a slot. */
  concurrency: boolean
}

export interface ScopeResolver {
  /** The scopes for this caller and model, or undefined when no limit applies (the fast path). */
  resolve(principal: Principal, model: string): ScopePlan | undefined
  /** Only the per-model scopes (key_model, team_model): a fallback model's, the caller's own being reserved already. */
  resolveModel(principal: Principal, model: string): ScopePlan | undefined
}

const toArray = (l: KeyLimits | undefined): number[] | undefined => {
  if (!l) return undefined
  const a = [l.rps ?? 0, l.rpm ?? 0, l.rpd ?? 0, l.tpm ?? 0, l.tpd ?? 0, l.concurrency ?? 0]
  return a.some((v) => v > 0) ? a : undefined
}

/** Exact name first, else the longest matching glob (the most specific), else the first declared. */
export function pickModelLimits<T>(entries: ReadonlyArray<readonly [string, T]>, model: string): T | undefined {
  let best: readonly [string, T] | undefined
  for (const e of entries) {
    if (e[0] === model) return e[1]
    if (globMatch(e[0], model) && (!best || e[0].length > best[0].length)) best = e
  }
  return best?.[1]
}

export function createScopeResolver(config: Config, prefix: string): ScopeResolver {
  const configKeyLimits = new Map<string, KeyLimits>()
  const teamModelLimits = new Map<string, Array<readonly [string, KeyLimits]>>()
  for (const [team, t] of Object.entries(config.teams)) {
    for (const [name, k] of Object.entries(t.keys)) if (k.limits) configKeyLimits.set(`cfg:${team}/${name}`, k.limits)
    if (t.model_limits) teamModelLimits.set(team, Object.entries(t.model_limits))
  }
  // Plans are cached per principal object: config keys (and cached runtime keys) reuse one object,
  // and a runtime key whose limits change arrives as a new object, so the cache never goes stale.
  const cache = new WeakMap<Principal, Map<string, ScopePlan | null>>()

  const build = (p: Principal, model: string): ScopePlan | null => {
    const tag = `{${prefix}t:${p.team}}:`
    const keyLabel = `key ${p.keyName} (team ${p.team})`
    const candidates: Array<[ScopeKind, string, string, number[] | undefined]> = [
      ['key', `k:${p.keyId}`, keyLabel, toArray(p.limits ?? configKeyLimits.get(p.keyId))],
      ['team', 't', `team ${p.team}`, toArray(config.teams[p.team]?.limits)],
      ['key_model', `km:${p.keyId}:${model}`, `${keyLabel} on model ${model}`, toArray(config.models[model]?.limits)],
      ['team_model', `tm:${model}`, `team ${p.team} on model ${model}`, toArray(pickModelLimits(teamModelLimits.get(p.team) ?? [], model))],
    ]
    const scopes: Scope[] = []
    for (const [kind, id, label, limits] of candidates) {
      if (!limits) continue
      scopes.push({
        kind,
        key: tag + id,
        slotsKey: `${tag + id}:c`,
        label,
        limits,
        windowed: limits.slice(0, CONC).some((v) => v > 0),
        daily: limits[RPD]! > 0 || limits[TPD]! > 0,
      })
    }
    return planOf(scopes)
  }

  const resolve = (principal: Principal, model: string): ScopePlan | undefined => {
    let byModel = cache.get(principal)
    if (!byModel) {
      byModel = new Map()
      cache.set(principal, byModel)
    }
    let plan = byModel.get(model)
    if (plan === undefined) {
      plan = build(principal, model)
      // Models are a configured, bounded set; the guard above only sees configured names.
      byModel.set(model, plan)
    }
    return plan ?? undefined
  }
  const modelOnly = new WeakMap<ScopePlan, ScopePlan | null>()

  return {
    resolve,
    resolveModel(principal, model) {
      const full = resolve(principal, model)
      if (!full) return undefined
      let plan = modelOnly.get(full)
      if (plan === undefined) {
        plan = planOf(full.scopes.filter((s) => s.kind === 'key_model' || s.kind === 'team_model'))
        modelOnly.set(full, plan)
      }
      return plan ?? undefined
    },
  }
}

function planOf(scopes: Scope[]): ScopePlan | null {
  if (scopes.length === 0) return null
  return {
    scopes,
    tokens: scopes.some((s) => s.limits[TPM]! > 0 || s.limits[TPD]! > 0),
    concurrency: scopes.some((s) => s.limits[CONC]! > 0),
  }
}
