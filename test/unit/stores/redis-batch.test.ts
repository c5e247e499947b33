/**
 * Batched script runs on the real Redis: one command per turn and hash tag (seen with MONITOR),
 * results in order with each run seeing the ones before it, early returns, NOSCRIPT recovery, and
 * a failing run rejecting only itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { batchedScript } from '../../../src/stores/redis-batch.ts'
import { REDIS_URL, redisAvailable } from '../../helpers/services.ts'
import { runId } from '../../helpers/gateway.ts'

// One run: add ARGV[1] to the counter KEYS[1]; refuse (early return) past ARGV[2].
const ADD = `
local v = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1])
if v > tonumber(ARGV[2]) then return {0, v} end
redis.call('SET', KEYS[1], v)
return {1, v}
`

describe.skipIf(!redisAvailable)('batched Lua script runs', () => {
  const prefix = `sbtest:${runId()}:batch:`
  let redis: Redis
  let monitor: Redis
  const seen: string[][] = []

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { enableAutoPipelining: true })
    monitor = await new Redis(REDIS_URL).monitor()
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.startsWith(prefix))) seen.push(args)
    })
  })
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length) await redis.del(...keys)
    monitor.disconnect()
    redis.disconnect()
  })

  const evalCommands = async (n: number): Promise<string[][]> => {
    await expect.poll(() => seen.filter((a) => /^eval/i.test(a[0]!)).length, { timeout: 2000 }).toBeGreaterThanOrEqual(n)
    await new Promise((r) => setTimeout(r, 50))
    return seen.filter((a) => /^eval/i.test(a[0]!))
  }

  it('runs of one turn under one hash tag go as one command, in order, each seeing the last', async () => {
    const add = batchedScript(redis, ADD)
    await add.load()
    seen.length = 0
    const key = `${prefix}{team-a}:n`
    const results = await Promise.all([1, 2, 3, 4].map((n) => add.call([key], [n, 8])))
    // 1, 1+2, 1+2+3, then 6+4 = 10 > 8: refused by the early return, nothing written.
    expect(results).toEqual([[1, 1], [1, 3], [1, 6], [0, 10]])
    expect(await redis.get(key)).toBe('6')
    expect(await evalCommands(1)).toHaveLength(1)
  })

  it('runs sharing keys send each key once, and every run still gets its own keys in its own order', async () => {
    // One run: KEYS[1] += ARGV[1], KEYS[2] += ARGV[2]; returns both new values.
    const pair = batchedScript(redis, `
local a = redis.call('INCRBY', KEYS[1], ARGV[1])
local b = redis.call('INCRBY', KEYS[2], ARGV[2])
return {a, b}
`)
    await pair.load()
    seen.length = 0
    const [x, y, z] = ['x', 'y', 'z'].map((k) => `${prefix}{team-k}:${k}`)
    const results = await Promise.all([
      pair.call([x!, y!], [1, 10]),
      pair.call([y!, z!], [100, 1000]), // y again, now first
      pair.call([x!, z!], [2, 20]),
    ])
    expect(results).toEqual([[1, 10], [110, 1000], [3, 1020]])
    const [cmd] = await evalCommands(1)
    // EVALSHA sha numkeys key...: three distinct keys, not six.
    expect(Number(cmd![2])).toBe(3)
    expect(cmd!.slice(3, 6).sort()).toEqual([x, y, z].sort())
  })

  it('a run gets its arguments exactly, empty strings included; a separator in an argument is refused', async () => {
    const echo = batchedScript(redis, `return {#ARGV, ARGV[1], ARGV[2], ARGV[3], KEYS[1]}`)
    await echo.load()
    const key = `${prefix}{team-e}:k`
    const [a, b] = await Promise.all([echo.call([key], ['', 'x y', '']), echo.call([key], [-1.5, 'id:7', 1e21])])
    expect(a).toEqual([3, '', 'x y', '', key])
    expect(b).toEqual([3, '-1.5', 'id:7', '1e+21', key])
    await expect(echo.call([key], ['a\x1fb'])).rejects.toThrow(/separator/)
  })

  it('different hash tags (Redis Cluster slots) go as separate commands; later turns as new ones', async () => {
    const add = batchedScript(redis, ADD)
    await add.load()
    seen.length = 0
    const [a, b] = await Promise.all([add.call([`${prefix}{team-b}:n`], [5, 100]), add.call([`${prefix}{team-c}:n`], [7, 100])])
    expect([a, b]).toEqual([[1, 5], [1, 7]])
    expect(await add.call([`${prefix}{team-b}:n`], [1, 100])).toEqual([1, 6])
    // Only this test's keys: MONITOR can deliver an earlier test's command after `seen` was cleared.
    const mine = (await evalCommands(3)).filter((args) => args.some((a) => a.includes('{team-b}') || a.includes('{team-c}')))
    expect(mine).toHaveLength(3)
  })

  it('recovers when Redis has lost the script (NOSCRIPT); a failing run rejects only itself', async () => {
    // A script this Redis has never seen (unique text): EVALSHA answers NOSCRIPT, EVAL follows.
    // (Not SCRIPT FLUSH: that would reach the scripts of tests running beside this one.)
    const add = batchedScript(redis, `-- ${prefix}\n${ADD}`)
    expect(await add.call([`${prefix}{team-d}:n`], [2, 10])).toEqual([1, 2])
    expect(await add.call([`${prefix}{team-d}:n`], [3, 10])).toEqual([1, 5])
    // A run that fails (here: a value that is not a number) fails alone; the runs around it in the
    // same command go through, as they would as separate scripts.
    await redis.set(`${prefix}{team-e}:bad`, 'not a number')
    const runs = await Promise.allSettled([
      add.call([`${prefix}{team-e}:good`], [1, 10]),
      add.call([`${prefix}{team-e}:bad`], [1, 10]),
      add.call([`${prefix}{team-e}:good`], [2, 10]),
    ])
    expect(runs.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((runs[2] as PromiseFulfilledResult<unknown>).value).toEqual([1, 3])
    expect(String((runs[1] as PromiseRejectedResult).reason)).toMatch(/arithmetic on a nil value/)
  })
})
