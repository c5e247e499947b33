/**
 * Budget counters in Redis, shared by every replica. One Lua script checks and reserves against
 * all the scopes of a call atomically; the keys of one call share the team's hash tag, so the
 * script runs on one Redis Cluster slot. Each reservation is also a member of a sorted set scored
 * by its expiry, so a replica that dies mid-call cannot hold budget forever: the next reserve
 * releases reservations older than the longest possible call.
 */
import type { Redis } from 'ioredis'
import { batchedScript } from '../stores/redis-batch.ts'
import { counterId, toNano, type Scope } from './scopes.ts'
import type { Baseline, BudgetCounters, ReserveResult, Totals } from './counters.ts'

// KEYS: per scope, the totals hash then the reservations zset.
// ARGV: now, amount, member, holdMs, lease divisor, lease max block, lease ttl ms, lease member
// prefix, then per scope: limit, baseline (-1 = unknown), ttl seconds (0 = none; negative =
// sliding, renewed on every reservation: agent runs), whether to claim a lease (1/0).
// Returns {-1, i...} (baselines needed), {0, i, spent, reserved} (refused), or
// {1, spent1, reserved1, lease1, ...} (reserved includes this call's amount and any lease claimed).
// Each redis.call costs Redis CPU beyond its command (0.4-1.5 us measured), so the common path
// makes four per scope: a period's hash gets its (fixed) expiry when created, and the reservations of a
// replica that died mid-call are released when they could change the answer (a reservation that
// does not fit) and otherwise by calls in the first 2 ms of each second, not by every call.
const RESERVE = `
local now = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local div, maxBlock, leaseTtl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local n = #KEYS / 2
local spent, reserved = {}, {}
local missing = {}
for i = 1, n do
  local h = KEYS[2 * i - 1]
  local v = redis.call('HMGET', h, 'spent', 'reserved')
  if v[1] then
    spent[i], reserved[i] = tonumber(v[1]), tonumber(v[2]) or 0
  else
    local base = tonumber(ARGV[8 + 4 * (i - 1) + 2])
    if base < 0 then
      missing[#missing + 1] = i
    else
      redis.call('HSET', h, 'spent', base, 'reserved', 0)
      local ttl = tonumber(ARGV[8 + 4 * (i - 1) + 3])
      if ttl ~= 0 then redis.call('EXPIRE', h, math.abs(ttl)) end
      spent[i], reserved[i] = base, 0
    end
  end
end
if #missing > 0 then
  table.insert(missing, 1, -1)
  return missing
end
local function fits(i, limit) return spent[i] + reserved[i] < limit and spent[i] + reserved[i] + amount <= limit end
for i = 1, n do
  local limit = tonumber(ARGV[8 + 4 * (i - 1) + 1])
  if not fits(i, limit) or now % 1000 < 2 then
    local z = KEYS[2 * i]
    local stale = redis.call('ZRANGEBYSCORE', z, '-inf', now)
    if #stale > 0 then
      local sum = 0
      for _, m in ipairs(stale) do sum = sum + tonumber(string.match(m, ':(%d+)$')) end
      redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
      reserved[i] = redis.call('HINCRBY', KEYS[2 * i - 1], 'reserved', -sum)
    end
    if not fits(i, limit) then return {0, i, spent[i], reserved[i]} end
  end
end
local out = {1}
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local b = 8 + 4 * (i - 1)
  -- A lease: a share of what is left held for this replica, which spends it locally.
  local lease = 0
  if ARGV[b + 4] == '1' and amount > 0 then
    -- Whole calls' worth of this call's amount, so a lease is not left with a sliver no call fits.
    local blk = math.min(math.floor((tonumber(ARGV[b + 1]) - spent[i] - reserved[i] - amount) / div / amount) * amount, maxBlock * amount)
    if blk >= 2 * amount then lease = blk end
  end
  -- No member: only a lease is claimed (a replica topping up its lease ahead of need).
  local own = ARGV[3] == '' and 0 or amount
  if own + lease > 0 then redis.call('HINCRBY', h, 'reserved', own + lease) end
  if ARGV[3] ~= '' then redis.call('ZADD', z, now + tonumber(ARGV[4]), ARGV[3]) end
  if lease > 0 then redis.call('ZADD', z, now + leaseTtl, ARGV[8] .. i .. ':' .. string.format('%d', lease)) end
  local ttl = tonumber(ARGV[b + 3])
  if ttl ~= 0 then
    redis.call('EXPIRE', z, math.abs(ttl))
    if ttl < 0 then redis.call('EXPIRE', h, -ttl) end
  end
  out[#out + 1] = spent[i]
  out[#out + 1] = reserved[i] + own + lease
  out[#out + 1] = lease
end
return out
`

// A lease's spend so far moves from its hold to `spent`, and its members are replaced by one for
// what is still held (renewing its expiry), or by none when the lease is returned. Only members
// still present count as held: a lease that expired (its replica silent past the ttl) was already
// released by another call, and is then not renewed.
// KEYS: totals hash, reservations zset. ARGV: now, ttl ms, spend, new hold, new member, old members...
// The new hold is at most what is still held less the spend: a member another call released (it
// had expired) is not put back. Returns {spent, reserved, held before, new hold}.
const FLUSH = `
local held = 0
for j = 6, #ARGV do
  if redis.call('ZREM', KEYS[2], ARGV[j]) == 1 then held = held + tonumber(string.match(ARGV[j], ':(%d+)$')) end
end
local hold = math.min(tonumber(ARGV[4]), math.max(0, held - tonumber(ARGV[3])))
if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[3] ~= '0' then redis.call('HINCRBY', KEYS[1], 'spent', ARGV[3]) end
  if hold ~= held then redis.call('HINCRBY', KEYS[1], 'reserved', hold - held) end
end
if hold > 0 then redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[5] .. ':' .. string.format('%d', hold)) end
local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return {tonumber(v[1]) or 0, tonumber(v[2]) or 0, held, hold}
`

// KEYS as above. ARGV: member, amount, cost. Returns {spent1, reserved1, ...}.
const SETTLE = `
local amount = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local out = {}
for i = 1, #KEYS / 2 do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local reserved
  if redis.call('ZREM', z, ARGV[1]) == 1 then
    reserved = redis.call('HINCRBY', h, 'reserved', -amount)
  else
    reserved = tonumber(redis.call('HGET', h, 'reserved') or '0')
  end
  out[#out + 1] = redis.call('HINCRBY', h, 'spent', cost)
  out[#out + 1] = reserved
end
return out
`

// Spend counted elsewhere (in this replica's memory while Redis was unreachable) added to a
// counter, only one Redis has: a counter it lacks starts from the ledger, which has those calls.
// KEYS: totals hash. ARGV: spend. Returns 1 when added, 0 when there is no counter.
const ADD_SPENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
return 1
`

const RUN_TTL_S = 7 * 86_400
const AFTER_PERIOD_S = 2 * 86_400

/**
 * Budget leases (docs/costs.md "Budgets across replicas"): in the script that admits a call, a
 * replica may also hold a block of what is left of a budget (at most 1/divisor of it, at most
 * maxBlock times the call's worst case, none when under twice that) and then reserves against it
 * locally. The block is held in Redis like any reservation, so replicas together never commit
 * more than the budget; the spend of local calls moves from the hold to `spent` every flushMs.
 */
export interface BudgetLeaseOptions {
  divisor: number
  maxBlock: number
  /** A hold not renewed for this long is released by other replicas (a crashed replica's). */
  ttlMs: number
  /** How often local spend is written to Redis (and how stale other replicas' view of it may be). */
  flushMs: number
}

/** A lease is handed back after this long without a local call. */
const IDLE_MS = 2000

class BudgetLease {
  readonly hashKey: string
  readonly zsetKey: string
  /** Reservation members of the hold in Redis (name:amount). */
  members: string[] = []
  /** What Redis holds for this replica. */
  hold = 0
  /** Worst cases of local calls in flight. */
  local = 0
  /** Spend of local calls not yet written to Redis. */
  unflushed = 0
  /** The last block granted: a top-up is due when less than half of it is free. */
  grant = 0
  /** Redis' spent, and what others hold (reserved less this hold), as last seen. */
  spent = 0
  othersReserved = 0
  pending = false
  flushing = false
  lastUsed = 0
  renewedAt = 0
  constructor(hashKey: string, zsetKey: string) {
    this.hashKey = hashKey
    this.zsetKey = zsetKey
  }

  free(): number {
    return this.hold - this.local - this.unflushed
  }

  totals(): Totals {
    return { spent: this.spent + this.unflushed, reserved: this.othersReserved + this.local }
  }
}

/**
 * `holdMs`: how long a reservation is held before a crashed replica's is released; a function when
 * it follows the running config (routing.timeouts.total_ms can change on reload, the counters stay).
 */
export interface RedisBudgetCounters extends BudgetCounters {
  /** Adds spend counted elsewhere to a scope's counter; false when Redis has no counter for it (it starts from the ledger). */
  addSpent(scope: Scope, amount: number): Promise<boolean>
  /** Writes leased spend to Redis and hands the leases back. */
  close(): Promise<void>
}

export function redisCounters(redis: Redis, prefix: string, holdMs: number | (() => number), lease?: BudgetLeaseOptions): RedisBudgetCounters {
  // The calls of one event-loop turn share one command per team (stores/redis-batch.ts).
  const reserveScript = batchedScript(redis, RESERVE)
  const settleScript = batchedScript(redis, SETTLE)
  // A scope's two keys, built once per counter (each call would otherwise build them twice).
  const keyCache = new Map<string, readonly [string, string]>()
  const keysOfScope = (s: Scope): readonly [string, string] => {
    const id = counterId(s)
    let k = keyCache.get(id)
    if (!k) {
      const h = `${prefix}budget:{${s.team}}:${id}`
      k = [h, `${h}:r`]
      if (keyCache.size >= 10_000) keyCache.clear()
      keyCache.set(id, k)
    }
    return k
  }
  const keysOf = (scopes: readonly Scope[]): string[] => {
    const out: string[] = []
    for (const s of scopes) {
      const [h, r] = keysOfScope(s)
      out.push(h, r)
    }
    return out
  }
  const ttlOf = (s: Scope, now: number): number => {
    // Negative: sliding (renewed on every reservation), so an active run's counter never expires.
    if (s.kind === 'key_run' || s.kind === 'team_run') return -RUN_TTL_S
    if (!Number.isFinite(s.window.end)) return 0
    return Math.ceil((s.window.end - now) / 1000) + AFTER_PERIOD_S
  }
  const pairs = (r: number[], from: number, per = 2): Totals[] => {
    const out: Totals[] = []
    for (let i = from; i + 1 < r.length; i += per) out.push({ spent: r[i]!, reserved: r[i + 1]! })
    return out
  }

  const instance = Math.random().toString(36).slice(2, 10)
  let gen = 0
  const leases = new Map<string, BudgetLease>()
  /** Tokens of calls reserved against leases, and the leases they hold. */
  const localCalls = new Map<string, BudgetLease[]>()
  const leaseOf = (s: Scope): BudgetLease => {
    const id = counterId(s)
    let l = leases.get(id)
    if (!l) {
      const [h, z] = keysOfScope(s)
      leases.set(id, (l = new BudgetLease(h, z)))
    }
    return l
  }

  /** An empty token claims leases only (no reservation of its own). */
  const reserveWith = async (scopes: readonly Scope[], amount: number, token: string, baselines: Map<number, number>, wants: readonly boolean[] | undefined, tag: string): Promise<number[]> => {
    const now = Date.now()
    const args: Array<string | number> = [now, amount, token === '' ? '' : `${token}:${amount}`, typeof holdMs === 'function' ? holdMs() : holdMs, lease?.divisor ?? 1, lease?.maxBlock ?? 0, lease?.ttlMs ?? 0, tag]
    scopes.forEach((s, i) => args.push(toNano(s.limitUsd), baselines.get(i) ?? -1, ttlOf(s, now), wants?.[i] ? 1 : 0))
    return (await reserveScript.call(keysOf(scopes), args)) as number[]
  }

  // Lease writes in flight (flushes, top-up claims). close() waits for them before handing the
  // holds back: a hand-back sent while a renewal is in flight names the members the renewal is
  // replacing, and the renewal's new member then stays held in Redis until its ttl (seen under load).
  const inflight = new Set<Promise<unknown>>()
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p)
    const done = () => { inflight.delete(p) }
    p.then(done, done)
    return p
  }

  /** Writes a lease's local spend to Redis, renews its hold, or (release) hands the hold back. */
  const flush = (l: BudgetLease, release: boolean): Promise<void> => track(writeLease(l, release))
  const writeLease = async (l: BudgetLease, release: boolean): Promise<void> => {
    const spend = l.unflushed
    const hold = release ? 0 : Math.max(0, l.hold - spend)
    const old = l.members
    const member = `${instance}:B${++gen}`
    l.flushing = true
    l.unflushed -= spend
    // The hold is always what its members add up to: all of them are replaced by one for `hold`.
    l.hold = hold
    l.members = []
    l.renewedAt = Date.now()
    try {
      const [spent, reserved, , kept] = (await redis.eval(FLUSH, 2, l.hashKey, l.zsetKey, Date.now(), lease!.ttlMs, spend, hold, member, ...old)) as number[]
      // Less is kept when part of the hold had expired in Redis (this replica was silent past the
      // ttl) and another call released it: that part is gone.
      l.hold -= hold - kept!
      if (kept! > 0) l.members.push(`${member}:${kept}`)
      l.spent = spent!
      l.othersReserved = Math.max(0, reserved! - l.hold)
    } catch {
      // Unknown whether it applied: stop using the lease (its hold expires by itself in Redis),
      // and keep the spend to write again: counted twice at worst, which errs towards refusing.
      l.hold = 0
      l.members = []
      l.unflushed += spend
    } finally {
      l.flushing = false
    }
  }

  const tick = (): void => {
    const now = Date.now()
    for (const [id, l] of leases) {
      // Not skipped while a claim is in flight: under load one nearly always is, and an unrenewed
      // hold would expire in use.
      if (l.flushing) continue
      const idle = l.local === 0 && now - l.lastUsed > IDLE_MS
      if (l.unflushed !== 0 || (l.hold > 0 && (idle || now - l.renewedAt > lease!.ttlMs / 3))) void flush(l, idle)
      else if (idle && l.hold === 0 && now - l.lastUsed > 60_000) leases.delete(id)
    }
  }
  const takeLocally = (held: BudgetLease[], amount: number, token: string): Totals[] => {
    const now = Date.now()
    const totals: Totals[] = []
    for (const l of held) {
      l.local += amount
      l.lastUsed = now
      totals.push(l.totals())
    }
    localCalls.set(token, held)
    return totals
  }

  /** Redis' totals as a script returned them (`own`: this call's amount, included in `reserved`). */
  const seen = (l: BudgetLease, t: Totals, own: number): void => {
    l.spent = t.spent
    l.othersReserved = Math.max(0, t.reserved - own - l.hold)
  }

  const timer = lease ? setInterval(tick, lease.flushMs) : undefined
  timer?.unref()

  return {
    kind: 'redis',
    reserve(scopes, amount, token, baseline): ReserveResult | Promise<ReserveResult> {
      let held: BudgetLease[] | undefined
      let wants: boolean[] | undefined
      if (lease && amount > 0) {
        held = scopes.map(leaseOf)
        if (held.every((l) => l.free() >= amount)) {
          const totals = takeLocally(held, amount, token)
          // Tops the leases up ahead of need, so calls do not wait on Redis when one runs out.
          // At half the block last granted (not of a full one: a small budget's blocks are small,
          // and a fixed level would claim on every call and hoard the budget).
          const top = held.map((l) => !l.pending && l.free() < l.grant / 2)
          if (top.includes(true)) {
            held.forEach((l, i) => { if (top[i]) l.pending = true })
            track(reserveShared(scopes, amount, '', baseline, held, top)).catch(() => {})
          }
          return { ok: true, totals }
        }
        wants = held.map((l) => !l.pending && l.free() < amount)
        held.forEach((l, i) => { if (wants![i]) l.pending = true })
      }
      return held ? track(reserveShared(scopes, amount, token, baseline, held, wants)) : reserveShared(scopes, amount, token, baseline, held, wants)
    },
    settle(scopes, amount, token, cost) {
      const local = localCalls.get(token)
      if (local) {
        localCalls.delete(token)
        return local.map((l) => {
          l.local -= amount
          l.unflushed += cost
          return l.totals()
        })
      }
      return settleScript.call(keysOf(scopes), [`${token}:${amount}`, amount, cost]).then((r) => {
        const totals = pairs(r as number[], 0)
        if (lease) {
          for (let i = 0; i < scopes.length; i++) {
            const l = leases.get(counterId(scopes[i]!))
            if (l) seen(l, totals[i]!, 0)
          }
        }
        return totals
      })
    },
    async read(scope, baseline) {
      const [h] = keysOf([scope])
      let v = await redis.hmget(h!, 'spent', 'reserved')
      if (v[0] === null) {
        const base = toNano(await baseline(scope))
        await redis.hsetnx(h!, 'spent', base)
        v = await redis.hmget(h!, 'spent', 'reserved')
      }
      const l = leases.get(counterId(scope))
      return { spent: Number(v[0] ?? 0) + (l?.unflushed ?? 0), reserved: Number(v[1] ?? 0) }
    },
    async addSpent(scope, amount) {
      const [h] = keysOfScope(scope)
      return (await redis.eval(ADD_SPENT, 1, h, amount)) === 1
    },
    async claimAlert(scope) {
      const [h] = keysOf([scope])
      const ttl = Number.isFinite(scope.window.end) ? Math.ceil((scope.window.end - Date.now()) / 1000) + AFTER_PERIOD_S : RUN_TTL_S * 52
      return (await redis.set(`${h!}:alerted`, '1', 'EX', Math.max(1, ttl), 'NX')) === 'OK'
    },
    async close() {
      if (timer) clearInterval(timer)
      // A write that lands after the hand-back would hold again: wait until none is in flight.
      while (inflight.size > 0) await Promise.allSettled([...inflight])
      await Promise.allSettled([...leases.values()].map((l) => (l.hold > 0 || l.unflushed !== 0 ? flush(l, true) : undefined)))
    },
  }

  async function reserveShared(scopes: readonly Scope[], amount: number, token: string, baseline: Baseline, held: BudgetLease[] | undefined, wants: boolean[] | undefined): Promise<ReserveResult> {
    const tag = `${instance}:L${++gen}:`
    try {
      const baselines = new Map<number, number>()
      let r = await reserveWith(scopes, amount, token, baselines, wants, tag)
      if (r[0] === -1) {
        // Counters Redis does not have (first use of a period, or Redis was emptied): start them from the ledger.
        await Promise.all(r.slice(1).map(async (i) => baselines.set(i - 1, toNano(await baseline(scopes[i - 1]!)))))
        r = await reserveWith(scopes, amount, token, baselines, wants, tag)
      }
      if (r[0] === 0) {
        // A lease claimed in the same batch may hold the room this call was refused for: then it fits there.
        if (held && token !== '' && held.every((l) => l.free() >= amount)) return { ok: true, totals: takeLocally(held, amount, token) }
        return { ok: false, index: r[1]! - 1, totals: { spent: r[2]!, reserved: r[3]! } }
      }
      if (r[0] !== 1) throw new Error('budget counters: could not initialize a counter')
      const totals = pairs(r, 1, 3)
      if (held) {
        const now = Date.now()
        for (let i = 0; i < held.length; i++) {
          const l = held[i]!
          const block = r[3 + 3 * i]!
          // A claim granted nothing (the budget is near its end): no more top-ups until one is.
          if (block === 0 && wants?.[i]) l.grant = 0
          if (block > 0) {
            // Renewal is due a third of the ttl after the oldest member not renewed since: a new
            // block does not postpone it (the older members would expire while in use).
            if (l.members.length === 0) l.renewedAt = now
            l.hold += block
            l.grant = block
            l.members.push(`${tag}${i + 1}:${block}`)
            l.lastUsed = now
          }
          seen(l, totals[i]!, token === '' ? 0 : amount)
        }
      }
      return { ok: true, totals }
    } finally {
      if (held && wants) held.forEach((l, i) => { if (wants[i]) l.pending = false })
    }
  }
}
