/**
 * Per-replica counters: the backend when redis.url is empty, and the fail-open fallback when Redis
 * is unreachable. Checks and increments run synchronously, so they are atomic within the process.
 * No timers per request: one unref'd sweep drops idle counters.
 */
import type { Decision } from './decision.ts'
import { CONC, RPD, RPM, RPS, TPD, TPM, type ScopePlan } from './scopes.ts'
import { DAY_MS, MINUTE_MS, SECOND_MS } from './windows.ts'

/** One scope's state: the current window of each length and its counts, and the in-flight count. */
export class Counters {
  s = -1
  sn = 0
  m = -1
  mn = 0
  mt = 0
  d = -1
  dn = 0
  dt = 0
  inflight = 0
  /** When the counters stop mattering (end of the longest configured window), for the sweep. */
  keepUntil = 0
}

export interface MemoryReservation {
  decision: Decision
  /** The scopes' counters, in plan order; set only when admitted. */
  counters: Counters[] | undefined
}

export interface MemoryStore {
  reserve(plan: ScopePlan, tokens: number, now: number): MemoryReservation
  /** Applies the token correction to the windows it was reserved in, and frees in-flight slots. */
  settle(plan: ScopePlan, counters: readonly Counters[], delta: number, minute: number, day: number): void
  size(): number
  close(): void
}

export function createMemoryStore(sweepMs = 60_000): MemoryStore {
  const all = new Map<string, Counters>()
  const sweep = setInterval(() => {
    const now = Date.now()
    for (const [k, c] of all) if (c.inflight === 0 && c.keepUntil < now) all.delete(k)
  }, sweepMs)
  sweep.unref()

  return {
    reserve(plan, tokens, now) {
      const sec = Math.floor(now / SECOND_MS)
      const min = Math.floor(now / MINUTE_MS)
      const day = Math.floor(now / DAY_MS)
      const scopes = plan.scopes
      const counters: Counters[] = new Array<Counters>(scopes.length)
      const used: number[] = new Array<number>(scopes.length * 5)
      for (let i = 0; i < scopes.length; i++) {
        const scope = scopes[i]!
        let c = all.get(scope.key)
        if (!c) {
          c = new Counters()
          all.set(scope.key, c)
        }
        counters[i] = c
        const l = scope.limits
        const sn = c.s === sec ? c.sn : 0
        const mn = c.m === min ? c.mn : 0
        const mt = c.m === min ? c.mt : 0
        const dn = c.d === day ? c.dn : 0
        const dt = c.d === day ? c.dt : 0
        if (l[RPS]! > 0 && sn + 1 > l[RPS]!) return refused(i, RPS, sn, (sec + 1) * SECOND_MS - now)
        if (l[RPM]! > 0 && mn + 1 > l[RPM]!) return refused(i, RPM, mn, (min + 1) * MINUTE_MS - now)
        if (l[RPD]! > 0 && dn + 1 > l[RPD]!) return refused(i, RPD, dn, (day + 1) * DAY_MS - now)
        if (l[TPM]! > 0 && mt + tokens > l[TPM]!) return refused(i, TPM, mt, (min + 1) * MINUTE_MS - now)
        if (l[TPD]! > 0 && dt + tokens > l[TPD]!) return refused(i, TPD, dt, (day + 1) * DAY_MS - now)
        if (l[CONC]! > 0 && c.inflight + 1 > l[CONC]!) return refused(i, CONC, c.inflight, SECOND_MS)
        const o = i * 5
        used[o] = sn + 1
        used[o + 1] = mn + 1
        used[o + 2] = dn + 1
        used[o + 3] = mt + tokens
        used[o + 4] = dt + tokens
      }
      // Every check passed: commit all scopes together.
      for (let i = 0; i < scopes.length; i++) {
        const c = counters[i]!
        const scope = scopes[i]!
        const o = i * 5
        if (scope.windowed) {
          c.s = sec
          c.sn = used[o]!
          c.m = min
          c.mn = used[o + 1]!
          c.mt = used[o + 3]!
          c.d = day
          c.dn = used[o + 2]!
          c.dt = used[o + 4]!
        }
        if (scope.limits[CONC]! > 0) c.inflight++
        const until = scope.daily ? (day + 1) * DAY_MS : (min + 1) * MINUTE_MS
        if (until > c.keepUntil) c.keepUntil = until
      }
      return { decision: { ok: true, now, used }, counters }
    },

    settle(plan, counters, delta, minute, day) {
      for (let i = 0; i < counters.length; i++) {
        const c = counters[i]!
        if (delta !== 0) {
          if (c.m === minute) c.mt = Math.max(0, c.mt + delta)
          if (c.d === day) c.dt = Math.max(0, c.dt + delta)
        }
        if (plan.scopes[i]!.limits[CONC]! > 0 && c.inflight > 0) c.inflight--
      }
    },

    size: () => all.size,
    close: () => clearInterval(sweep),
  }
}

const refused = (scope: number, limit: number, used: number, resetMs: number): MemoryReservation =>
  ({ decision: { ok: false, scope, limit, used, resetMs }, counters: undefined })
