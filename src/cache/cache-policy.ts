/**
 * Whether a call may be answered from the cache and stored in it, and for how long.
 *
 * Any explicit "off" wins: cache.enabled false, Cache-Control: no-store, models.<m>.cache.enabled
 * false, or cache: false on the key (else its team). Then a call is eligible when one of these says
 * so: the x-switchboard-cache-ttl-ms header, cache: true on the key/team, models.<m>.cache.enabled
 * true, or the mode rule (deterministic: embeddings always, other operations only with
 * temperature 0 — an absent temperature is the vendor's default, which samples; all: everything;
 * opt-in: nothing without one of the above).
 */
import type { CallInfo, Operation } from '../core/call.ts'
import { GatewayError } from '../core/errors.ts'
import type { Config } from '../config/schema.ts'

export interface CachePolicy {
  /** False with Cache-Control: no-cache (answer fresh, but store the answer). */
  lookup: boolean
  ttlMs: number
}

export const CACHEABLE_OPERATIONS: ReadonlySet<Operation> = new Set(['chat', 'completions', 'embeddings', 'messages'])

type Headers = CallInfo['headers']

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)

export function cacheControl(headers: Headers): { noStore: boolean; noCache: boolean } {
  const raw = headers['cache-control']
  if (raw === undefined) return { noStore: false, noCache: false }
  const v = (Array.isArray(raw) ? raw.join(',') : raw).toLowerCase()
  return { noStore: /(^|[\s,])no-store($|[\s,])/.test(v), noCache: /(^|[\s,])no-cache($|[\s,=])/.test(v) }
}

const MAX_TTL_MS = 30 * 24 * 3_600_000

/** The x-switchboard-cache-ttl-ms header: a whole number of milliseconds, else a 400 naming it. */
export function ttlHeader(headers: Headers): number | undefined {
  const v = first(headers['x-switchboard-cache-ttl-ms'])
  if (v === undefined) return undefined
  const t = v.trim()
  if (!/^\d{1,12}$/.test(t) || Number(t) > MAX_TTL_MS) {
    throw new GatewayError({ status: 400, code: 'invalid_request', message: `The x-switchboard-cache-ttl-ms header must be a whole number of milliseconds between 0 and ${MAX_TTL_MS}; got '${v.slice(0, 40)}'.` })
  }
  return Number(t)
}

export function cachePolicy(call: CallInfo, config: Config): CachePolicy | undefined {
  if (!config.cache.enabled || !CACHEABLE_OPERATIONS.has(call.operation)) return undefined
  const cc = cacheControl(call.headers)
  if (cc.noStore) return undefined
  const model = config.models[call.publicModel]?.cache
  if (model?.enabled === false || call.principal.cache === false) return undefined
  const headerTtl = ttlHeader(call.headers)
  const eligible = headerTtl !== undefined || call.principal.cache === true || model?.enabled === true || modeAllows(config.cache.mode, call)
  if (!eligible) return undefined
  const ttlMs = headerTtl ?? model?.ttl_ms ?? config.cache.ttl_ms
  if (ttlMs <= 0) return undefined
  return { lookup: !cc.noCache, ttlMs }
}

function modeAllows(mode: Config['cache']['mode'], call: CallInfo): boolean {
  if (mode === 'all') return true
  if (mode === 'opt-in') return false
  return call.operation === 'embeddings' || call.body.temperature === 0
}

/** How long a completed Idempotency-Key request stays replayable. */
export function idempotencyTtl(call: CallInfo, config: Config): number {
  return ttlHeader(call.headers) ?? config.models[call.publicModel]?.cache?.ttl_ms ?? config.cache.ttl_ms
}
