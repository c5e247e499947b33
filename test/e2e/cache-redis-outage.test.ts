/**
 * Redis going away (killed, or frozen with SIGSTOP) mid-run: the cache degrades to misses (never an error, no added wait), the
 * Idempotency-Key still holds on this replica, and caching resumes when Redis comes back. Runs its
 * own redis-server child on a free port so it can kill it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { startStandIn, json, chatCompletion, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0
if (!hasRedisServer) {
  if (process.env.CI === 'true') throw new Error('CI=true but redis-server is not installed')
  console.warn('redis-server not found: skipping the Redis outage test')
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const KEY = 'sk-sb-outage'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    const r = new Redis(port, '127.0.0.1', { lazyConnect: true, connectTimeout: 200, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
    r.on('error', () => {})
    try {
      await r.connect()
      if ((await r.ping()) === 'PONG') return child
    } catch {
      // not up yet
    } finally {
      r.disconnect()
    }
    await sleep(30)
  }
  child.kill('SIGKILL')
  throw new Error('redis-server did not start')
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  await exited
}

async function redisState(url: string, want: 'ok' | 'down'): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if ((await (await fetch(`${url}/readyz`)).text()).includes(`"redis":"${want}"`)) return
    await sleep(20)
  }
  throw new Error(`the gateway never saw redis ${want}`)
}

describe.skipIf(!hasRedisServer)('response cache when Redis goes down', () => {
  let port: number
  let redis: ChildProcess
  let vendor: StandIn
  let gw: TestGateway

  beforeAll(async () => {
    port = await freePort()
    redis = await startRedis(port)
    vendor = await startStandIn()
    gw = await startTestGateway(`
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  gpt: { targets: [{ provider: up, model: upstream-model }] }
routing: { retries: { max_attempts: 1 } }
store: { url: "sqlite::memory:" }
redis: { url: "redis://127.0.0.1:${port}", key_prefix: "sbtest:${runId()}:" }
teams:
  a:
    limits: { rpm: 100000, concurrency: 1000 }
    budget: { usd: 1000, period: monthly }
    keys: { a1: { key: "${KEY}" } }
cache: { enabled: true }
`)
    await redisState(gw.url, 'ok')
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
    if (redis) await stopRedis(redis)
  })

  const seen = (n: string) => vendor.received.filter((r) => r.body.includes(n)).length
  const ask = async (n: string, headers: Record<string, string> = {}) => {
    const t0 = performance.now()
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: n }] }),
    })
    const text = await r.text()
    return { status: r.status, cache: r.headers.get('x-switchboard-cache'), replay: r.headers.get('x-switchboard-idempotent-replay'), text, ms: performance.now() - t0 }
  }

  it('hits while up; misses (never errors, no added wait) while down; hits again once back', async () => {
    const n = randomUUID()
    expect((await ask(n)).cache).toBe('miss')
    await sleep(60)
    expect((await ask(n)).cache).toBe('hit')
    expect(seen(n)).toBe(1)

    await stopRedis(redis)
    await redisState(gw.url, 'down')
    const down = [await ask(n), await ask(n), await ask(n)]
    expect(down.map((r) => [r.status, r.cache])).toEqual([[200, 'miss'], [200, 'miss'], [200, 'miss']])
    // A hang detector, not a speed goal: a dead Redis must not hold a request for its command timeout.
    for (const r of down) expect(r.ms).toBeLessThan(2000)
    expect(JSON.parse(down[0]!.text)).toEqual(chatCompletion('Hello from the stand-in', 'upstream-model'))
    expect(seen(n)).toBe(4)

    // Idempotency-Key still holds for duplicates on this replica.
    const k = randomUUID()
    const m = randomUUID()
    const slow: Handler = async (req, res) => {
      await sleep(200)
      await json(200, chatCompletion(`during outage ${m}`))(req, res)
    }
    vendor.queue.push(slow)
    const [a, b] = await Promise.all([ask(m, { 'idempotency-key': k }), sleep(50).then(() => ask(m, { 'idempotency-key': k }))])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(b.text).toBe(a.text)
    expect(b.replay).toBe('true')
    expect(seen(m)).toBe(1)

    redis = await startRedis(port)
    await redisState(gw.url, 'ok')
    const p = randomUUID()
    expect((await ask(p)).cache).toBe('miss')
    await sleep(60)
    expect((await ask(p)).cache).toBe('hit')
    expect(seen(p)).toBe(1)
  }, 20_000)

  it('a frozen Redis (connected, never answering) holds no request: limits, budgets and cache fall back, then recover', async () => {
    const n = randomUUID()
    expect((await ask(n)).status).toBe(200)
    redis.kill('SIGSTOP')
    try {
      const frozen = [await ask(n), await ask(n), await ask(n)]
      expect(frozen.map((r) => r.status)).toEqual([200, 200, 200])
      // A hang detector, not a speed goal: without a reply deadline the first of these never returns.
      for (const r of frozen) expect(r.ms).toBeLessThan(4000)
      await redisState(gw.url, 'down')
    } finally {
      redis.kill('SIGCONT')
    }
    await redisState(gw.url, 'ok')
    const p = randomUUID()
    expect((await ask(p)).cache).toBe('miss')
    await sleep(60)
    expect((await ask(p)).cache).toBe('hit')
  }, 20_000)
})
