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
import type { BudgetCounters, ReserveResult, Totals } from './counters.ts'

// KEYS: per scope, the totals hash then the reservations zset.
// ARGV: now, amount, member, holdMs, then per scope: limit, baseline (-1 = unknown), ttl seconds
// (0 = none; negative = sliding, renewed on every reservation: agent runs).
// Returns {-1, i...} (baselines needed), {0, i, spent, reserved} (refused), or {1, spent1, reserved1, ...}.
// Each redis.call costs Redis CPU beyond its command (0.4-1.5 us measured), so the common path
// makes four per scope: a period's hash gets its (fixed) expiry when created, and the reservations of a
// replica that died mid-call are released when they could change the answer (a reservation that
// does not fit) and otherwise by calls in the first 2 ms of each second, not by every call.
const RESERVE = `
local now = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local n = #KEYS / 2
local spent, reserved = {}, {}
local missing = {}
for i = 1, n do
  local h = KEYS[2 * i - 1]
  local v = redis.call('HMGET', h, 'spent', 'reserved')
  if v[1] then
    spent[i], reserved[i] = tonumber(v[1]), tonumber(v[2]) or 0
  else
    local base = tonumber(ARGV[4 + 3 * (i - 1) + 2])
    if base < 0 then
      missing[#missing + 1] = i
    else
      redis.call('HSET', h, 'spent', base, 'reserved', 0)
      local ttl = tonumber(ARGV[4 + 3 * (i - 1) + 3])
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
  local limit = tonumber(ARGV[4 + 3 * (i - 1) + 1])
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
  redis.call('HINCRBY', h, 'reserved', amount)
  redis.call('ZADD', z, now + tonumber(ARGV[4]), ARGV[3])
  local ttl = tonumber(ARGV[4 + 3 * (i - 1) + 3])
  if ttl ~= 0 then
    redis.call('EXPIRE', z, math.abs(ttl))
    if ttl < 0 then redis.call('EXPIRE', h, -ttl) end
  end
  out[#out + 1] = spent[i]
  out[#out + 1] = reserved[i] + amount
end
return out
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

const RUN_TTL_S = 7 * 86_400
const AFTER_PERIOD_S = 2 * 86_400

export function redisCounters(redis: Redis, prefix: string, holdMs: number): BudgetCounters {
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
  const pairs = (r: number[], from: number): Totals[] => {
    const out: Totals[] = []
    for (let i = from; i + 1 < r.length; i += 2) out.push({ spent: r[i]!, reserved: r[i + 1]! })
    return out
  }

  const reserveWith = async (scopes: readonly Scope[], amount: number, token: string, baselines: Map<number, number>): Promise<number[]> => {
    const now = Date.now()
    const args: Array<string | number> = [now, amount, `${token}:${amount}`, holdMs]
    scopes.forEach((s, i) => args.push(toNano(s.limitUsd), baselines.get(i) ?? -1, ttlOf(s, now)))
    return (await reserveScript.call(keysOf(scopes), args)) as number[]
  }

  return {
    kind: 'redis',
    async reserve(scopes, amount, token, baseline): Promise<ReserveResult> {
      const baselines = new Map<number, number>()
      let r = await reserveWith(scopes, amount, token, baselines)
      if (r[0] === -1) {
        // Counters Redis does not have (first use of a period, or Redis was emptied): start them from the ledger.
        await Promise.all(r.slice(1).map(async (i) => baselines.set(i - 1, toNano(await baseline(scopes[i - 1]!)))))
        r = await reserveWith(scopes, amount, token, baselines)
      }
      if (r[0] === 0) return { ok: false, index: r[1]! - 1, totals: { spent: r[2]!, reserved: r[3]! } }
      if (r[0] !== 1) throw new Error('budget counters: could not initialize a counter')
      return { ok: true, totals: pairs(r, 1) }
    },
    async settle(scopes, amount, token, cost) {
      const r = (await settleScript.call(keysOf(scopes), [`${token}:${amount}`, amount, cost])) as number[]
      return pairs(r, 0)
    },
    async read(scope, baseline) {
      const [h] = keysOf([scope])
      let v = await redis.hmget(h!, 'spent', 'reserved')
      if (v[0] === null) {
        const base = toNano(await baseline(scope))
        await redis.hsetnx(h!, 'spent', base)
        v = await redis.hmget(h!, 'spent', 'reserved')
      }
      return { spent: Number(v[0] ?? 0), reserved: Number(v[1] ?? 0) }
    },
    async claimAlert(scope) {
      const [h] = keysOf([scope])
      const ttl = Number.isFinite(scope.window.end) ? Math.ceil((scope.window.end - Date.now()) / 1000) + AFTER_PERIOD_S : RUN_TTL_S * 52
      return (await redis.set(`${h!}:alerted`, '1', 'EX', Math.max(1, ttl), 'NX')) === 'OK'
    },
  }
}
