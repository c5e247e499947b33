/**
 * Limits across replicas and through a Redis outage: several gateways share one limit (the sum
 * admitted never exceeds it); then this test's own redis-server is killed (fail-open replicas keep
 * serving under per-replica limits, a fail-closed one answers 503, readiness shows Redis down, one
 * log line per transition) and restarted (shared limits resume by themselves).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { REDIS_URL, awayFromBoundary, redisAvailable, sleep } from '../unit/limits/support.ts'

/** This suite runs its own redis-server; with CI=true it must run (and fail without the binary). */
const canSpawnRedis = spawnSync('redis-server', ['--version']).status === 0 || process.env.CI === 'true'
if (!canSpawnRedis) console.warn('limits tests: no redis-server binary; the Redis outage suite is skipped')

const KEYS = { shared: 'sk-sb-shared', p1: 'sk-sb-phase-1', p2: 'sk-sb-phase-2', p3: 'sk-sb-phase-3', p4: 'sk-sb-phase-4', conc: 'sk-sb-conc', free: 'sk-sb-free' }

const config = (vendorUrl: string, redisUrl: string, prefix: string, onFailure: 'fail-open' | 'fail-closed') => `
redis: { url: "${redisUrl}", key_prefix: "${prefix}", on_failure: ${onFailure} }
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }] }
  gpt-slow: { targets: [{ provider: up, model: slow }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    keys:
      shared: { key: ${KEYS.shared}, limits: { rpm: 7 } }
      p1: { key: ${KEYS.p1}, limits: { rpm: 4 } }
      p2: { key: ${KEYS.p2}, limits: { rpm: 2 } }
      p3: { key: ${KEYS.p3}, limits: { rpm: 4 } }
      p4: { key: ${KEYS.p4}, limits: { rpm: 100 } }
      conc: { key: ${KEYS.conc}, limits: { concurrency: 3 } }
      free: { key: ${KEYS.free} }
`

async function status(gw: TestGateway, key: string, model = 'gpt-test'): Promise<number> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: `{"model":"${model}","messages":[{"role":"user","content":"hi"}]}` })
  await r.arrayBuffer()
  return r.status
}

/** Fires n requests at once, alternating between the gateways; returns how many got each status. */
async function burst(gws: TestGateway[], key: string, n: number, model = 'gpt-test'): Promise<Record<number, number>> {
  const statuses = await Promise.all(Array.from({ length: n }, (_, i) => status(gws[i % gws.length]!, key, model)))
  const out: Record<number, number> = {}
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1
  return out
}

async function readyz(gw: TestGateway): Promise<Record<string, unknown>> {
  return (await (await fetch(`${gw.url}/readyz`)).json()) as Record<string, unknown>
}

const vendorHandler = (req: { json: Record<string, unknown> | undefined }, res: import('node:http').ServerResponse) => {
  const reply = () => {
    const text = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(text)
  }
  if (req.json?.model === 'slow') setTimeout(reply, 500)
  else reply()
}

describe.skipIf(!redisAvailable)('two gateways sharing the real Redis', () => {
  let vendor: StandIn
  let gws: TestGateway[] = []
  beforeAll(async () => {
    vendor = await startStandIn(vendorHandler)
    const prefix = `sbtest:${runId()}:`
    gws = [await startTestGateway(config(vendor.url, REDIS_URL, prefix, 'fail-open')), await startTestGateway(config(vendor.url, REDIS_URL, prefix, 'fail-open'))]
  })
  afterAll(async () => {
    for (const g of gws) await g.stop()
    await vendor?.close()
  })

  it('admits exactly the limit in total when both replicas are hammered at once', async () => {
    await awayFromBoundary(60_000, 5000)
    expect(await burst(gws, KEYS.shared, 40)).toEqual({ 200: 7, 429: 33 })
  })

  it('shares concurrency slots: never more than the limit in flight across replicas', async () => {
    expect(await burst(gws, KEYS.conc, 12, 'gpt-slow')).toEqual({ 200: 3, 429: 9 })
    // Every slot came back: the next burst admits the full limit again.
    await sleep(100)
    const again = await burst(gws, KEYS.conc, 3, 'gpt-slow')
    expect(again).toEqual({ 200: 3 })
  })
})

async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(true)) // the port is taken: redis is listening
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)))
    })
    if (up) return child
    await sleep(50)
  }
  child.kill('SIGKILL')
  throw new Error('redis-server did not start')
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill('SIGKILL')
  await exited
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe.skipIf(!canSpawnRedis)('Redis stopped and restarted mid-test', () => {
  let vendor: StandIn
  let redis: ChildProcess | undefined
  let port: number
  let open: TestGateway[] = []
  let closed: TestGateway
  beforeAll(async () => {
    vendor = await startStandIn(vendorHandler)
    port = await freePort()
    redis = await startRedis(port)
    const url = `redis://127.0.0.1:${port}`
    const prefix = `sbtest:${runId()}:`
    open = [await startTestGateway(config(vendor.url, url, prefix, 'fail-open')), await startTestGateway(config(vendor.url, url, prefix, 'fail-open'))]
    closed = await startTestGateway(config(vendor.url, url, prefix, 'fail-closed'))
  })
  afterAll(async () => {
    for (const g of [...open, closed]) await g?.stop()
    if (redis) await stopRedis(redis)
    await vendor?.close()
  })

  it('serves through the outage under the configured policy and resumes shared limits by itself', { timeout: 60_000 }, async () => {
    await awayFromBoundary(60_000, 12_000)
    // Shared while Redis is up.
    expect(await burst(open, KEYS.p1, 12)).toEqual({ 200: 4, 429: 8 })
    for (const g of [...open, closed]) expect(await readyz(g)).toMatchObject({ status: 'ready', redis: 'ok', limits: 'shared' })

    await stopRedis(redis!)
    redis = undefined

    // Fail-open: each replica enforces the limit on its own, fast, nothing hangs.
    for (const g of open) {
      const t0 = Date.now()
      const seen = [await status(g, KEYS.p2), await status(g, KEYS.p2), await status(g, KEYS.p2)]
      expect(seen).toEqual([200, 200, 429])
      expect(Date.now() - t0).toBeLessThan(1500)
    }
    // Fail-closed: limited callers get 503; callers without limits are unaffected.
    const r = await fetch(`${closed.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.p2}`, 'content-type': 'application/json' }, body: '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}' })
    expect(r.status).toBe(503)
    expect(r.headers.get('retry-after')).toBe('1')
    expect(await r.json()).toEqual({ error: { message: 'Rate limits cannot be checked right now (the shared limiter store is unreachable and redis.on_failure is fail-closed). Retry shortly.', type: 'api_error', param: null, code: 'rate_limiter_unavailable' } })
    expect(await status(closed, KEYS.free)).toBe(200)

    for (const g of open) expect(await readyz(g)).toMatchObject({ redis: 'down', limits: 'local' })
    expect(await readyz(closed)).toMatchObject({ redis: 'down', limits: 'unavailable' })
    for (const g of [...open, closed]) expect(g.logs.filter((l) => l.includes('rate limits: redis unreachable')).length).toBe(1)

    // Redis comes back (empty: no persistence); every replica returns to the shared counters.
    redis = await startRedis(port)
    for (const g of [...open, closed]) await until('redis reconnect', async () => (await readyz(g)).redis === 'ok')
    expect(await burst(open, KEYS.p3, 12)).toEqual({ 200: 4, 429: 8 })
    expect(await status(closed, KEYS.p2)).toBe(200)
    for (const g of [...open, closed]) {
      expect(await readyz(g)).toMatchObject({ redis: 'ok', limits: 'shared' })
      expect(g.logs.filter((l) => l.includes('shared limits resumed')).length).toBe(1)
    }

    // A hung Redis (connection open, no answers): requests are still served; a probe costs at
    // most commandTimeout (1 s) to the one request making it, the others are decided locally.
    redis.kill('SIGSTOP')
    try {
      const t0 = Date.now()
      const seen: number[] = []
      for (let i = 0; i < 6; i++) {
        const t = Date.now()
        seen.push(await status(open[0]!, KEYS.p4))
        expect(Date.now() - t).toBeLessThan(1500)
      }
      expect(seen).toEqual([200, 200, 200, 200, 200, 200])
      expect(Date.now() - t0).toBeLessThan(3500)
      expect(await readyz(open[0]!)).toMatchObject({ limits: 'local' })
    } finally {
      redis.kill('SIGCONT')
    }
    await until('shared limits after SIGCONT', async () => {
      await status(open[0]!, KEYS.p4)
      return (await readyz(open[0]!)).limits === 'shared'
    })
  })
})
