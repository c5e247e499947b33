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
import type { Redis } from 'ioredis'
import { batchedScript, type BatchedScript } from '../stores/redis-batch.ts'
import type { Decision } from './decision.ts'
import { CONC, TPD, TPM, type ScopePlan } from './scopes.ts'

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
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sec = math.floor(now / 1000)
local min = math.floor(now / 60000)
local day = math.floor(now / 86400000)
local used = {}
local renew = {}
for i = 1, n do
  local b = 4 + (i - 1) * 6
  local rps, rpm, rpd = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local tpm, tpd, conc = tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6])
  local sn, mn, mt, dn, dt = 0, 0, 0, 0, 0
  renew[i] = true
  if rps + rpm + rpd + tpm + tpd > 0 then
    local v = redis.call('HMGET', KEYS[2 * i - 1], 's', 'sn', 'm', 'mn', 'mt', 'd', 'dn', 'dt')
    if tonumber(v[1]) == sec then sn = tonumber(v[2]) or 0 end
    if tonumber(v[3]) == min then mn = tonumber(v[4]) or 0; mt = tonumber(v[5]) or 0 end
    if tonumber(v[6]) == day then dn = tonumber(v[7]) or 0; dt = tonumber(v[8]) or 0 end
    renew[i] = tonumber(v[3]) ~= min or tonumber(v[6]) ~= day
  end
  if rps > 0 and sn + 1 > rps then return {0, i, 0, sn, (sec + 1) * 1000 - now} end
  if rpm > 0 and mn + 1 > rpm then return {0, i, 1, mn, (min + 1) * 60000 - now} end
  if rpd > 0 and dn + 1 > rpd then return {0, i, 2, dn, (day + 1) * 86400000 - now} end
  if tpm > 0 and mt + tokens > tpm then return {0, i, 3, mt, (min + 1) * 60000 - now} end
  if tpd > 0 and dt + tokens > tpd then return {0, i, 4, dt, (day + 1) * 86400000 - now} end
  if conc > 0 then
    local c = redis.call('ZCOUNT', KEYS[2 * i], '(' .. now, '+inf')
    if c + 1 > conc then return {0, i, 5, c, 1000} end
  end
  used[i] = {sn + 1, mn + 1, dn + 1, mt + tokens, dt + tokens}
end
local out = {1, now}
for i = 1, n do
  local b = 4 + (i - 1) * 6
  local u = used[i]
  local daily = tonumber(ARGV[b + 3]) + tonumber(ARGV[b + 5]) > 0
  if tonumber(ARGV[b + 1]) + tonumber(ARGV[b + 2]) + tonumber(ARGV[b + 4]) > 0 or daily then
    local h = KEYS[2 * i - 1]
    redis.call('HSET', h, 's', sec, 'sn', u[1], 'm', min, 'mn', u[2], 'mt', u[4], 'd', day, 'dn', u[3], 'dt', u[5])
    if renew[i] then
      if daily then
        redis.call('PEXPIRE', h, (day + 1) * 86400000 - now + 60000)
      else
        redis.call('PEXPIRE', h, (min + 1) * 60000 - now + 60000)
      end
    end
  end
  if tonumber(ARGV[b + 6]) > 0 then
    local z = KEYS[2 * i]
    -- Slots outlive their set by construction: the set's expiry moves with every new slot.
    redis.call('ZADD', z, now + slotTtl, member)
    redis.call('PEXPIRE', z, slotTtl)
    if now % 1000 < 2 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
  end
  for j = 1, 5 do out[#out + 1] = u[j] end
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

const keysOf = (plan: ScopePlan): string[] => {
  const keys: string[] = []
  for (const s of plan.scopes) keys.push(s.key, s.slotsKey)
  return keys
}

export interface RedisStore {
  reserve(plan: ScopePlan, tokens: number, member: string): Promise<Decision>
  settle(plan: ScopePlan, member: string, delta: number, minute: number, day: number): Promise<void>
}

/** The two scripts of one Redis client, each batched per turn and hash tag (stores/redis-batch.ts). */
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

export function createRedisStore(redis: Redis, slotTtlMs: number): RedisStore {
  const scripts = scriptsOf(redis)
  return {
    async reserve(plan, tokens, member) {
      const args: Array<string | number> = [plan.scopes.length, tokens, member, slotTtlMs]
      for (const s of plan.scopes) args.push(...s.limits)
      const r = (await scripts.reserve.call(keysOf(plan), args)) as number[]
      if (r[0] === 1) return { ok: true, now: r[1]!, used: r.slice(2) }
      return { ok: false, scope: r[1]! - 1, limit: r[2]!, used: r[3]!, resetMs: r[4]! }
    },
    async settle(plan, member, delta, minute, day) {
      const args: Array<string | number> = [plan.scopes.length, delta, member, String(minute), String(day)]
      for (const s of plan.scopes) args.push((s.limits[CONC]! > 0 ? 1 : 0) + (s.limits[TPM]! > 0 ? 2 : 0) + (s.limits[TPD]! > 0 ? 4 : 0))
      await scripts.settle.call(keysOf(plan), args)
    },
  }
}
