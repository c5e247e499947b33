/**
 * Shared counters in Redis: one Lua script checks every scope of a request and increments only if
 * all pass (atomic across replicas); the requests of one event-loop turn share one command
 * (stores/redis-batch.ts). Windows come from the Redis server's clock
 * (TIME), so replicas with skewed clocks still agree on window boundaries.
 *
 * Layout, all under the team's hash tag `{<prefix>t:<team>}` so one request's keys share a Redis
 * Cluster slot: a hash per scope (fields s/sn, m/mn/mt, d/dn/dt: window id and counts) that expires
 * at the end of its longest window, and for concurrency a sorted set of in-flight slots scored by
 * their expiry, so the slots of a crashed replica expire by themselves.
 */
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import { batchedScript, type BatchedScript } from '../stores/redis-batch.ts'
import { PER_SCOPE, type Decision } from './decision.ts'
import { CONC, TPD, TPM, type ScopePlan } from './scopes.ts'
import { DAY_MS, MINUTE_MS, SECOND_MS } from './windows.ts'

// Scripting, not the commands, is most of a request's Redis time (measured: ~5 of ~24 us are the
// commands); each redis.call costs 0.4-1.5 us beyond its command, so the scripts make few of them.
// Live slots are counted with one ZCOUNT (expired slots of a crashed replica are simply not
// counted; calls in the first 2 ms of each second also delete them), and the hash's expiry is set
// only when it enters a new minute or day (its deadline moves only then).
const RESERVE_LUA = `
local n = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local member = ARGV[3]
local slotTtl = tonumber(ARGV[4])
local div = tonumber(ARGV[5])
local maxBlock = tonumber(ARGV[6])
local leaseTtl = tonumber(ARGV[7])
local leaseTag = ARGV[8]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sec = math.floor(now / 1000)
local min = math.floor(now / 60000)
local day = math.floor(now / 86400000)
local reset = {(sec + 1) * 1000 - now, (min + 1) * 60000 - now, (day + 1) * 86400000 - now, (min + 1) * 60000 - now, (day + 1) * 86400000 - now}
local counts, adds, renew, live, read = {}, {}, {}, {}, {}
for i = 1, n do
  local b = 8 + (i - 1) * 8
  local loc, want = tonumber(ARGV[b + 7]), tonumber(ARGV[b + 8])
  local c = {0, 0, 0, 0, 0}
  local windowed = false
  for j = 1, 5 do
    if tonumber(ARGV[b + j]) > 0 and (bit.band(loc, 2 ^ (j - 1)) == 0 or bit.band(want, 2 ^ (j - 1)) ~= 0) then windowed = true end
  end
  renew[i] = true
  read[i] = windowed
  if windowed then
    local v = redis.call('HMGET', KEYS[2 * i - 1], 's', 'sn', 'm', 'mn', 'mt', 'd', 'dn', 'dt')
    if tonumber(v[1]) == sec then c[1] = tonumber(v[2]) or 0 end
    if tonumber(v[3]) == min then c[2] = tonumber(v[4]) or 0; c[4] = tonumber(v[5]) or 0 end
    if tonumber(v[6]) == day then c[3] = tonumber(v[7]) or 0; c[5] = tonumber(v[8]) or 0 end
    renew[i] = tonumber(v[3]) ~= min or tonumber(v[6]) ~= day
  end
  local a = {0, 0, 0, 0, 0}
  for j = 1, 5 do
    local lim = tonumber(ARGV[b + j])
    if lim > 0 and bit.band(loc, 2 ^ (j - 1)) == 0 then
      a[j] = j <= 3 and 1 or tokens
      if c[j] + a[j] > lim then return {0, i, j - 1, c[j], reset[j]} end
    end
  end
  local conc = tonumber(ARGV[b + 6])
  live[i] = 0
  if conc > 0 and (bit.band(loc, 32) == 0 or bit.band(want, 32) ~= 0) then
    live[i] = redis.call('ZCOUNT', KEYS[2 * i], '(' .. now, '+inf')
    if bit.band(loc, 32) == 0 then
      if live[i] + 1 > conc then return {0, i, 5, live[i], 1000} end
      live[i] = live[i] + 1
    end
  end
  counts[i], adds[i] = c, a
end
local out = {1, now}
for i = 1, n do
  local b = 8 + (i - 1) * 8
  local want = tonumber(ARGV[b + 8])
  local c, a = counts[i], adds[i]
  local used, blocks = {}, {}
  for j = 1, 5 do
    used[j] = c[j] + a[j]
    blocks[j] = 0
    local lim = tonumber(ARGV[b + j])
    if lim > 0 and bit.band(want, 2 ^ (j - 1)) ~= 0 then
      -- A lease: a share of what is left, counted as used now, spent by the replica locally.
      local unit = j <= 3 and 1 or tokens
      local blk = math.min(math.floor((lim - used[j]) / div), maxBlock * unit)
      if blk >= 2 * unit then blocks[j] = blk end
    end
  end
  if read[i] then
    local daily = tonumber(ARGV[b + 3]) + tonumber(ARGV[b + 5]) > 0
    local h = KEYS[2 * i - 1]
    redis.call('HSET', h, 's', sec, 'sn', used[1] + blocks[1], 'm', min, 'mn', used[2] + blocks[2], 'mt', used[4] + blocks[4], 'd', day, 'dn', used[3] + blocks[3], 'dt', used[5] + blocks[5])
    if renew[i] then
      if daily then
        redis.call('PEXPIRE', h, (day + 1) * 86400000 - now + 60000)
      else
        redis.call('PEXPIRE', h, (min + 1) * 60000 - now + 60000)
      end
    end
  end
  local conc = tonumber(ARGV[b + 6])
  local concBlock = 0
  if conc > 0 then
    local z = KEYS[2 * i]
    local loc = tonumber(ARGV[b + 7])
    if bit.band(loc, 32) == 0 then
      -- Slots outlive their set by construction: the set's expiry moves with every new slot.
      redis.call('ZADD', z, now + slotTtl, member)
      redis.call('PEXPIRE', z, math.max(slotTtl, leaseTtl))
      if now % 1000 < 2 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
    end
    if bit.band(want, 32) ~= 0 then
      local blk = math.min(math.floor((conc - live[i]) / div), maxBlock)
      if blk >= 2 then
        local args = {}
        for k = 1, blk do
          args[2 * k - 1] = now + leaseTtl
          args[2 * k] = leaseTag .. k
        end
        redis.call('ZADD', z, unpack(args))
        redis.call('PEXPIRE', z, math.max(slotTtl, leaseTtl))
        concBlock = blk
      end
    end
  end
  for j = 1, 5 do out[#out + 1] = used[j] end
  for j = 1, 5 do out[#out + 1] = blocks[j] end
  out[#out + 1] = concBlock
end
return out
`

// Per scope a flag set: 1 = it holds a concurrency slot, 2 = tokens per minute, 4 = per day.
// Only the token windows that are limited get the correction.
const SETTLE_LUA = `
local n = tonumber(ARGV[1])
local delta = tonumber(ARGV[2])
local member = ARGV[3]
for i = 1, n do
  local flags = tonumber(ARGV[5 + i])
  local perMinute, perDay = flags % 4 >= 2, flags >= 4
  if delta ~= 0 and (perMinute or perDay) then
    local h = KEYS[2 * i - 1]
    local v = redis.call('HMGET', h, 'm', 'd')
    if perMinute and v[1] == ARGV[4] then redis.call('HINCRBY', h, 'mt', delta) end
    if perDay and v[2] == ARGV[5] then redis.call('HINCRBY', h, 'dt', delta) end
  end
  if flags % 2 == 1 then redis.call('ZREM', KEYS[2 * i], member) end
end
return 1
`

const RELEASE_LUA = `
local nm = tonumber(ARGV[1])
if nm > 0 then redis.call('ZREM', KEYS[2], unpack(ARGV, 2, nm + 1)) end
local fields = {{'s', 'sn'}, {'m', 'mn'}, {'d', 'dn'}, {'m', 'mt'}, {'d', 'dt'}}
for j = 1, 5 do
  local win, credit = ARGV[nm + 2 * j], tonumber(ARGV[nm + 2 * j + 1])
  if credit ~= 0 and redis.call('HGET', KEYS[1], fields[j][1]) == win then
    if redis.call('HINCRBY', KEYS[1], fields[j][2], -credit) < 0 then redis.call('HSET', KEYS[1], fields[j][2], 0) end
  end
end
return 1
`

const keysOf = (plan: ScopePlan): string[] => {
  const keys: string[] = []
  for (const s of plan.scopes) keys.push(s.key, s.slotsKey)
  return keys
}

/**
 * Leases (docs/limits.md "Leases"): a replica claims, in the script that admits a request, a block
 * of what is left of a limit (at most 1/divisor of it, at most maxBlock requests' worth, none when
 * that would be under two requests' worth) and then admits locally until the block is spent. The
 * block is counted in Redis when claimed, so replicas together never admit more than the limit;
 * near the limit blocks shrink to nothing and every request is decided in Redis, exactly.
 */
export interface LeaseOptions {
  /** A block is at most this fraction's inverse of what is left (16: a sixteenth). */
  divisor: number
  /** A block is at most this many requests (or this many times the request's tokens). */
  maxBlock: number
  /** Leased concurrency slots expire this long after their last renewal (a crashed replica's return by themselves). */
  ttlMs: number
}

/** Bits of a per-scope mask: windows rps..tpd are bits 0-4 (positions in Scope.limits), concurrency bit 5. */
const CONC_BIT = 1 << CONC
const WINDOW_OF: readonly number[] = [SECOND_MS, MINUTE_MS, DAY_MS, MINUTE_MS, DAY_MS]
/** Credits are not used this close to their window's end (the replica's clock is only an estimate of Redis'). */
const EDGE_MS = 5
/** Values per scope in the reservation script's reply: used (5), blocks (5), concurrency block. */
const REPLY_PER_SCOPE = 11

/** One replica's lease on one scope: credits per window, and leased concurrency slots. */
class ScopeLease {
  readonly hashKey: string
  readonly slotsKey: string
  /** Window id each credit belongs to (rps..tpd). */
  readonly win = [-1, -1, -1, -1, -1]
  readonly credit = [0, 0, 0, 0, 0]
  /** Redis' count when the credit was claimed, block included: used is about seen - credit. */
  readonly seen = [0, 0, 0, 0, 0]
  /** Dimensions with a claim in flight (one claim at a time per dimension). */
  pending = 0
  /** Size of the last block granted per window, and of slots: a top-up is due at half of it. */
  readonly grant = [0, 0, 0, 0, 0]
  slotGrant = 0
  slots = 0
  /** Requests in flight on leased slots. */
  inflight = 0
  /** Requests in flight that took anything from this lease (their settlement comes back here). */
  users = 0
  /** Members of the leased slots: [tag, count] per claim (members are tag + 1..count). */
  tags: Array<[string, number]> = []
  /** Used since the last renewal tick. */
  active = false
  constructor(hashKey: string, slotsKey: string) {
    this.hashKey = hashKey
    this.slotsKey = slotsKey
  }
}

/** What a reservation took from leases: per scope, the mask of dimensions decided locally. */
export type LocalMasks = readonly number[] | undefined

export interface Reserved {
  decision: Decision
  local: LocalMasks
}

export interface RedisStore {
  reserve(plan: ScopePlan, tokens: number, member: string): Promise<Reserved>
  /** Rejects when Redis did not take it; what can safely be sent again is kept for `replay`. */
  settle(plan: ScopePlan, member: string, delta: number, minute: number, day: number, local: LocalMasks): Promise<void>
  /** Sends again what Redis did not take: call it when the connection is (re)established; done by itself after a command succeeds. */
  replay(): Promise<void>
  /** Writes kept for a replay, and those given up (the queue was full, or they outlived the slots they free). */
  backlog(): { queued: number; dropped: number }
  /** Returns every lease to Redis (unused credits, leased slots) and stops renewing. */
  close(): Promise<void>
}

/**
 * ioredis refuses at once a command it cannot write (no offline queue, docs/limits.md): such a
 * command surely never reached Redis. Any other failure (the connection dropped or timed out with
 * the command sent, an error reply) leaves it unknown whether Redis applied it.
 */
const NOT_SENT = "Stream isn't writeable and enableOfflineQueue options is false"
export const surelyNotSent = (err: unknown): boolean => err instanceof Error && err.message === NOT_SENT

/**
 * A write that changes shared state and did not reach Redis: a settlement (SETTLE_LUA) or a lease
 * hand-back (RELEASE_LUA), kept with its arguments to be sent again. Freeing a slot is a ZREM,
 * idempotent and safe to repeat; a token correction or a credit hand-back is an increment, which a
 * repeat would apply twice.
 */
interface Unsent {
  script: 'settle' | 'release'
  keys: string[]
  args: Array<string | number>
  /** When it first failed. */
  at: number
}

/**
 * What of a write may be sent again after it failed: all of it when Redis surely never saw it,
 * else only its slot releases (a token correction or credit hand-back that may have been applied
 * is given up: at most once, never twice). Undefined when nothing is left to send.
 */
export function resendable(u: Unsent, err: unknown): Unsent | undefined {
  if (surelyNotSent(err)) return u
  const args = u.args.slice()
  if (u.script === 'settle') {
    // [n, delta, member, minute, day, flags per scope]: keep the slot flag (1) of each scope.
    const n = Number(args[0])
    let slots = false
    args[1] = 0
    for (let i = 0; i < n; i++) {
      const f = Number(args[5 + i]) & 1
      args[5 + i] = f
      if (f) slots = true
    }
    return slots ? { ...u, args } : undefined
  }
  // [members n, ...members, then window id and credit per window]: hand back the slots alone.
  const nm = Number(args[0])
  for (let j = 0; j < CONC; j++) args[nm + 2 + 2 * j] = 0
  return nm > 0 ? { ...u, args } : undefined
}

/** At most this many writes wait for Redis; more are given up (their slots expire by themselves). */
const MAX_UNSENT = 10_000

/** The scripts of one Redis client, each batched per turn and hash tag (stores/redis-batch.ts). */
const scriptsByClient = new WeakMap<Redis, { reserve: BatchedScript; settle: BatchedScript }>()
function scriptsOf(redis: Redis): { reserve: BatchedScript; settle: BatchedScript } {
  let s = scriptsByClient.get(redis)
  if (!s) scriptsByClient.set(redis, (s = { reserve: batchedScript(redis, RESERVE_LUA), settle: batchedScript(redis, SETTLE_LUA) }))
  return s
}

/**
 * Loads both scripts on every (re)connection, so a settlement is never the first use of its script:
 * a NOSCRIPT retry would send it after a later request's reservation on the same connection.
 */
export function preloadScripts(redis: Redis): () => void {
  const { reserve, settle } = scriptsOf(redis)
  const load = () => {
    for (const s of [reserve, settle]) s.load().catch(() => {})
  }
  redis.on('ready', load)
  if (redis.status === 'ready') load()
  return () => { redis.off('ready', load) }
}

const NO_LEASE = { divisor: 1, maxBlock: 0, ttlMs: 0 }

/** A settlement that only frees the slots a reservation took in Redis (not from a lease), moving no tokens. */
function slotRelease(plan: ScopePlan, member: string, masks: readonly number[]): Unsent {
  const args: Array<string | number> = [plan.scopes.length, 0, member, '0', '0']
  for (let i = 0; i < plan.scopes.length; i++) args.push(plan.scopes[i]!.limits[CONC]! > 0 && !((masks[i] ?? 0) & CONC_BIT) ? 1 : 0)
  return { script: 'settle', keys: keysOf(plan), args, at: Date.now() }
}

export function createRedisStore(redis: Redis, slotTtlMs: number, lease?: LeaseOptions, log?: Pick<Logger, 'info' | 'warn'>): RedisStore {
  const scripts = scriptsOf(redis)
  const opts = lease ?? NO_LEASE
  const leases = new Map<string, ScopeLease>()
  const instance = Math.random().toString(36).slice(2, 10)
  let claims = 0
  /** Redis' clock minus ours, from the last reply: windows are Redis' (TIME). */
  let offset = 0

  // Writes Redis did not take (a blip, a failover): without a replay a slot whose release failed
  // stayed counted until it expired, total_ms + 30 s later, and a short outage locked a team out
  // of its concurrency for ten minutes.
  let unsent: Unsent[] = []
  let dropped = 0
  let replaying: Promise<void> | undefined
  const send = (u: Unsent): Promise<unknown> => u.script === 'settle'
    ? scripts.settle.call(u.keys, u.args)
    : redis.eval(RELEASE_LUA, 2, ...u.keys, ...u.args)
  const keep = (u: Unsent, err: unknown): void => {
    const again = resendable(u, err)
    if (!again) return
    if (unsent.length >= MAX_UNSENT || Date.now() - u.at > slotTtlMs) {
      if (dropped++ % 1000 === 0) log?.warn({ dropped, queued: unsent.length }, 'rate limits: giving up settlements redis did not take; their slots expire by themselves')
      return
    }
    unsent.push(again)
  }
  /** Sends a write (off the request path); if Redis does not take it, keeps what may be sent again. Rejects as the write did. */
  const write = (u: Unsent): Promise<unknown> => send(u).then((r) => {
    if (unsent.length !== 0) void replay()
    return r
  }, (err: unknown) => {
    keep(u, err)
    throw err
  })
  const replay = (): Promise<void> => {
    if (replaying || unsent.length === 0) return replaying ?? Promise.resolve()
    const batch = unsent
    unsent = []
    let sent = 0
    replaying = Promise.all(batch.map((u) => send(u).then(() => { sent++ }, (err: unknown) => keep(u, err)))).then(() => {
      if (sent > 0) log?.info({ sent, queued: unsent.length }, 'rate limits: settlements redis had not taken were sent again')
    }).finally(() => { replaying = undefined })
    return replaying
  }

  const leaseOf = (hashKey: string, slotsKey: string): ScopeLease => {
    let l = leases.get(hashKey)
    if (!l) leases.set(hashKey, (l = new ScopeLease(hashKey, slotsKey)))
    return l
  }

  /** Credits and slots this request can take from leases, per scope, and what to claim more of. */
  const cover = (plan: ScopePlan, tokens: number, now: number, masks: number[], wants: number[], held: ScopeLease[]): boolean => {
    let all = true
    for (let i = 0; i < plan.scopes.length; i++) {
      const scope = plan.scopes[i]!
      const l = leaseOf(scope.key, scope.slotsKey)
      held[i] = l
      const lim = scope.limits
      let m = 0
      let w = 0
      for (let j = 0; j < CONC; j++) {
        if (lim[j] === 0) continue
        const need = j < TPM ? 1 : tokens
        const len = WINDOW_OF[j]!
        const id = Math.floor(now / len)
        if (l.win[j] === id && l.credit[j]! >= need && now < (id + 1) * len - EDGE_MS) m |= 1 << j
        else {
          all = false
          if ((l.pending & (1 << j)) === 0) w |= 1 << j
        }
      }
      if (lim[CONC]! > 0) {
        if (l.slots - l.inflight >= 1) m |= CONC_BIT
        else {
          all = false
          if ((l.pending & CONC_BIT) === 0 && l.slots < opts.maxBlock) w |= CONC_BIT
        }
      }
      masks[i] = m
      wants[i] = w
    }
    return all
  }

  /** Takes (sign 1) or gives back (sign -1) what the masks cover; a credit is given back only to the window it was taken from. */
  const take = (tokens: number, masks: readonly number[], held: readonly ScopeLease[], sign: 1 | -1, now: number): void => {
    for (let i = 0; i < masks.length; i++) {
      const m = masks[i]!
      if (m === 0) continue
      const l = held[i]!
      for (let j = 0; j < CONC; j++) {
        if (m & (1 << j) && (sign === 1 || l.win[j] === Math.floor(now / WINDOW_OF[j]!))) l.credit[j]! -= sign * (j < TPM ? 1 : tokens)
      }
      if (m & CONC_BIT) l.inflight += sign
      l.users += sign
      l.active = true
    }
  }

  const usedFromLeases = (plan: ScopePlan, held: readonly ScopeLease[], masks: readonly number[], used: number[]): void => {
    for (let i = 0; i < plan.scopes.length; i++) {
      const l = held[i]!
      for (let j = 0; j < CONC; j++) if (masks[i]! & (1 << j)) used[i * PER_SCOPE + j] = l.seen[j]! - l.credit[j]!
    }
  }

  /** Admits a call wholly from leases (every limited dimension of every scope covered). */
  const admitLocally = (plan: ScopePlan, tokens: number, masks: readonly number[], held: readonly ScopeLease[], now: number): Reserved => {
    take(tokens, masks, held, 1, now)
    const used: number[] = new Array<number>(plan.scopes.length * PER_SCOPE).fill(0)
    usedFromLeases(plan, held, masks, used)
    return { decision: { ok: true, now, used }, local: masks }
  }

  /** Top-up claims in flight (close() waits for them). */
  const topUps = new Set<Promise<unknown>>()

  /** Marks (or clears) the dimensions a call claims, so no other call claims them meanwhile. */
  const setPending = (held: readonly ScopeLease[], wants: readonly number[], on: boolean): void => {
    for (let i = 0; i < wants.length; i++) held[i]!.pending = on ? held[i]!.pending | wants[i]! : held[i]!.pending & ~wants[i]!
  }

  /** The reservation script's arguments (an empty member claims blocks only). */
  const scriptArgs = (plan: ScopePlan, tokens: number, member: string, tag: string, masks: readonly number[], wants: readonly number[]): Array<string | number> => {
    const args: Array<string | number> = [plan.scopes.length, tokens, member, slotTtlMs, opts.divisor, opts.maxBlock, opts.ttlMs, tag]
    for (let i = 0; i < plan.scopes.length; i++) args.push(...plan.scopes[i]!.limits, masks[i]!, wants[i]!)
    return args
  }

  /**
   * Which leased dimensions (with no claim in flight) are down to half the block last granted: one
   * turn under load admits dozens, so the next block is claimed before this one runs out. Half of
   * the block granted, not of a full one: a small limit's blocks are small, and topping up at a
   * fixed level would claim on every request and hoard the limit.
   */
  const low = (plan: ScopePlan, held: readonly ScopeLease[], wants: number[]): boolean => {
    let any = false
    for (let i = 0; i < plan.scopes.length; i++) {
      const l = held[i]!
      const lim = plan.scopes[i]!.limits
      let w = 0
      for (let j = 0; j < CONC; j++) {
        if (lim[j] !== 0 && (l.pending & (1 << j)) === 0 && l.credit[j]! < l.grant[j]! / 2) w |= 1 << j
      }
      if (lim[CONC] !== 0 && (l.pending & CONC_BIT) === 0 && l.slots - l.inflight < l.slotGrant / 2 && l.slots < opts.maxBlock) w |= CONC_BIT
      wants[i] = w
      if (w !== 0) any = true
    }
    return any
  }

  /**
   * Claims blocks ahead of need, off the request path: the script runs with every limited
   * dimension marked local (so it counts nothing for a request) and claims what `wants` names.
   */
  const topUp = (plan: ScopePlan, tokens: number, masks: readonly number[], wants: readonly number[], held: readonly ScopeLease[]): void => {
    setPending(held, wants, true)
    const tag = `${instance}:L${++claims}:`
    const sentAt = Date.now()
    const p = scripts.reserve.call(keysOf(plan), scriptArgs(plan, tokens, '', tag, masks, wants)).then((r) => {
      if ((r as number[])[0] === 1) claimed(plan, r as number[], held, wants, tag, sentAt)
    }, () => {}).finally(() => {
      setPending(held, wants, false)
      topUps.delete(p)
    })
    topUps.add(p)
  }

  /**
   * Adds the blocks a reservation script's reply grants to this replica's leases. Redis read its
   * clock between `sentAt` and now; taking it as read at `sentAt` errs towards Redis being later
   * than it is, so a window's credit stops a little early rather than spilling into the next one.
   */
  const claimed = (plan: ScopePlan, r: readonly number[], held: readonly ScopeLease[], wants: readonly number[], tag: string, sentAt: number): void => {
    const now = r[1]!
    offset = now - sentAt
    for (let i = 0; i < plan.scopes.length; i++) {
      const l = held[i]!
      const base = 2 + i * REPLY_PER_SCOPE
      for (let j = 0; j < CONC; j++) {
        const block = r[base + CONC + j]!
        // Asked for and granted nothing (the limit is near its end): no more top-ups until a block is.
        if (block === 0 && wants[i]! & (1 << j)) l.grant[j] = 0
        if (block === 0) continue
        const id = Math.floor(now / WINDOW_OF[j]!)
        if (l.win[j] !== id) {
          l.win[j] = id
          l.credit[j] = 0
        }
        l.credit[j]! += block
        l.grant[j] = block
        l.seen[j] = r[base + j]! + block
      }
      const slots = r[base + 2 * CONC]!
      if (slots === 0 && wants[i]! & CONC_BIT) l.slotGrant = 0
      if (slots > 0) {
        l.slots += slots
        l.slotGrant = slots
        l.tags.push([tag, slots])
      }
      // A block just claimed is kept at least until the next tick (not handed back as idle).
      if (slots > 0 || r.slice(base + CONC, base + 2 * CONC).some((b) => b > 0)) l.active = true
    }
  }

  /**
   * A call's token correction, for a lease on one of its scopes: taken from the credit in the
   * windows the lease admitted the call in; in those decided in Redis (and corrected there), added
   * to the lease's view of Redis' count, so the headers of the calls it admits next follow this
   * replica's own usage (a 30k overshoot corrected in Redis left `remaining` 30k high).
   */
  const correct = (l: ScopeLease, m: number, delta: number, minute: number, day: number): void => {
    if (l.win[TPM] === minute) {
      if (m & (1 << TPM)) l.credit[TPM]! -= delta
      else l.seen[TPM]! += delta
    }
    if (l.win[TPD] === day) {
      if (m & (1 << TPD)) l.credit[TPD]! -= delta
      else l.seen[TPD]! += delta
    }
  }

  /**
   * Charges at once what a settlement drove a lease's token credits below zero: an overshoot the
   * credit could not cover. Left in the credit, it was seen only by this replica's own leased
   * admissions, not by the requests decided in Redis (every request, near the limit): those
   * admitted past the limit until the credit was handed back (one replica, tpm 200,000, calls
   * reserving 1k and using 30.5k: 8 admitted, 244,000 tokens, where memory admits 7). It goes as
   * a hand-back of that negative credit (RELEASE_LUA, same window checks, same resend rules); the
   * leased credit left is zero, so the next call is decided in Redis, which sees the debt.
   */
  const chargeDebt = (l: ScopeLease): Promise<unknown> => {
    const args: Array<string | number> = [0]
    for (let j = 0; j < CONC; j++) {
      const debt = l.credit[j]! < 0 ? l.credit[j]! : 0
      args.push(String(l.win[j]), debt)
      if (debt === 0) continue
      l.credit[j] = 0
      // Redis' count grows by what it is charged: the used figure (seen - credit) stays right.
      l.seen[j]! -= debt
    }
    return write({ script: 'release', keys: [l.hashKey, l.slotsKey], args, at: Date.now() })
  }

  const release = (l: ScopeLease, now: number): Promise<unknown> => {
    const members: string[] = []
    for (const [tag, count] of l.tags) for (let k = 1; k <= count; k++) members.push(tag + k)
    const args: Array<string | number> = [members.length, ...members]
    for (let j = 0; j < CONC; j++) {
      const current = l.win[j] === Math.floor(now / WINDOW_OF[j]!)
      // A negative credit (an overshoot) is charged; settle() charges one at once (chargeDebt), so
      // this is only a safety net.
      args.push(String(l.win[j]), current ? l.credit[j]! : 0)
      l.credit[j] = 0
    }
    l.slots = 0
    l.tags = []
    return write({ script: 'release', keys: [l.hashKey, l.slotsKey], args, at: Date.now() })
  }

  // Leased slots are renewed while used (also while a claim is in flight: under load one nearly
  // always is) and handed back, with unused credits, after a quiet tick with nothing in flight.
  const tick = (): void => {
    const now = Date.now() + offset
    for (const [key, l] of leases) {
      if (!l.active && l.inflight === 0 && l.users === 0 && l.pending === 0) {
        const holds = l.slots > 0 || l.credit.some((c, j) => c !== 0 && l.win[j] === Math.floor(now / WINDOW_OF[j]!))
        if (holds) release(l, now).catch(() => {})
        else leases.delete(key)
      } else if (l.slots > 0) {
        const args: Array<string | number> = []
        for (const [tag, count] of l.tags) for (let k = 1; k <= count; k++) args.push(now + opts.ttlMs, tag + k)
        // CH counts the members renewed: fewer than held means some expired (this replica was
        // silent past the ttl, or Redis lost them) and others may count that room now. Only the
        // renewed ones are used from then on (slots are interchangeable; renewing or removing a
        // missing member later does nothing).
        redis.zadd(l.slotsKey, 'XX', 'CH', ...args).then((renewed) => {
          if (Number(renewed) < l.slots) l.slots = Number(renewed)
        }, () => {})
        redis.pexpire(l.slotsKey, Math.max(slotTtlMs, opts.ttlMs)).catch(() => {})
      }
      l.active = false
    }
  }
  const timer = lease ? setInterval(tick, Math.max(10, Math.floor(opts.ttlMs / 3))) : undefined
  timer?.unref()

  return {
    async reserve(plan, tokens, member) {
      const n = plan.scopes.length
      const masks: number[] = new Array<number>(n).fill(0)
      const wants: number[] = new Array<number>(n).fill(0)
      const held: ScopeLease[] = new Array<ScopeLease>(n)
      const takenAt = Date.now() + offset
      if (lease) {
        const now = takenAt
        if (cover(plan, tokens, now, masks, wants, held)) {
          const admitted = admitLocally(plan, tokens, masks, held, now)
          if (low(plan, held, wants)) topUp(plan, tokens, masks, wants, held)
          return admitted
        }
        // What is covered is taken before the round trip, so requests of this turn never spend one credit twice.
        take(tokens, masks, held, 1, now)
        setPending(held, wants, true)
      }
      const tag = `${instance}:L${++claims}:`
      let r: number[]
      const sentAt = Date.now()
      try {
        r = (await scripts.reserve.call(keysOf(plan), scriptArgs(plan, tokens, member, tag, masks, wants))) as number[]
      } catch (err) {
        if (lease) {
          take(tokens, masks, held, -1, takenAt)
          setPending(held, wants, false)
        }
        // The reply was lost, not surely the reservation: free the slots it may have taken (its
        // counts, if applied, stay until their window ends). The call itself is decided elsewhere.
        if (!surelyNotSent(err)) keep(slotRelease(plan, member, masks), err)
        throw err
      }
      if (unsent.length !== 0) void replay()
      if (lease) setPending(held, wants, false)
      if (r[0] !== 1) {
        if (lease) {
          take(tokens, masks, held, -1, takenAt)
          // A claim answered in the same batch may have taken the room this call was refused for:
          // then this replica holds it, and the call is admitted from the lease.
          const now = Date.now() + offset
          if (cover(plan, tokens, now, masks, wants, held)) return admitLocally(plan, tokens, masks, held, now)
        }
        return { decision: { ok: false, scope: r[1]! - 1, limit: r[2]!, used: r[3]!, resetMs: r[4]! }, local: undefined }
      }
      const now = r[1]!
      const used: number[] = new Array<number>(n * PER_SCOPE)
      for (let i = 0; i < n; i++) {
        const base = 2 + i * REPLY_PER_SCOPE
        for (let j = 0; j < CONC; j++) used[i * PER_SCOPE + j] = r[base + j]!
      }
      if (!lease) return { decision: { ok: true, now, used }, local: undefined }
      claimed(plan, r, held, wants, tag, sentAt)
      usedFromLeases(plan, held, masks, used)
      return { decision: { ok: true, now, used }, local: masks.some((m) => m !== 0) ? masks : undefined }
    },
    async settle(plan, member, delta, minute, day, local) {
      const args: Array<string | number> = [plan.scopes.length, delta, member, String(minute), String(day)]
      let remote = false
      // Overshoots the leased credit could not cover, sent now (allSettled: never an unhandled rejection).
      let debts: Array<Promise<unknown>> | undefined
      for (let i = 0; i < plan.scopes.length; i++) {
        const s = plan.scopes[i]!
        const m = local?.[i] ?? 0
        if (m !== 0) {
          const l = leases.get(s.key)
          if (l) {
            l.users--
            if (m & CONC_BIT) l.inflight--
            if (delta !== 0) correct(l, m, delta, minute, day)
            // Only an overshoot beyond the credit left costs a write; one the credit covers stays local.
            if (delta > 0 && (l.credit[TPM]! < 0 || l.credit[TPD]! < 0)) (debts ??= []).push(chargeDebt(l))
          }
        } else if (lease && delta !== 0) {
          const l = leases.get(s.key)
          if (l) correct(l, 0, delta, minute, day)
        }
        const flags = (s.limits[CONC]! > 0 && !(m & CONC_BIT) ? 1 : 0)
          + (delta !== 0 && s.limits[TPM]! > 0 && !(m & (1 << TPM)) ? 2 : 0)
          + (delta !== 0 && s.limits[TPD]! > 0 && !(m & (1 << TPD)) ? 4 : 0)
        if (flags !== 0) remote = true
        args.push(flags)
      }
      const charged = debts && Promise.allSettled(debts)
      if (remote) {
        const keys = keysOf(plan)
        // A try around the await: no object or promise more than before on the success path.
        try {
          await scripts.settle.call(keys, args)
        } catch (err) {
          keep({ script: 'settle', keys, args, at: Date.now() }, err)
          throw err
        }
        if (unsent.length !== 0) void replay()
      }
      // Rejects as a settlement does when Redis did not take the charge (write() kept what may be sent again).
      if (charged) for (const r of await charged) if (r.status === 'rejected') throw r.reason
    },
    replay,
    backlog: () => ({ queued: unsent.length, dropped }),
    async close() {
      if (timer) clearInterval(timer)
      // Last chance for what waits (best effort: if Redis is still away, the slots expire by themselves).
      await replay()
      // A block granted after the hand-back would stay counted (and its slots held) until its
      // window or ttl ends: wait for the top-ups still in flight first.
      while (topUps.size > 0) await Promise.allSettled([...topUps])
      const now = Date.now() + offset
      await Promise.allSettled([...leases.values()].map((l) => release(l, now)))
      leases.clear()
    },
  }
}
