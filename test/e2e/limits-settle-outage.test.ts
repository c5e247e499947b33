/**
 * Settlements through a Redis blip. The real Redis sits behind a freezable proxy; calls that end
 * while it is unreachable cannot free their concurrency slots or correct their tokens there. Those
 * writes wait in the limiter's backlog and are sent once Redis answers again, instead of holding
 * the team's slots until they expire (routing.timeouts.total_ms + 30 s: ten and a half minutes by
 * default). A lease handed back during the blip is handed back after it the same way, instead of
 * staying counted as used until its window ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { startStandIn, chatChunks, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startFreezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.ts'
import { REDIS_URL, awayFromBoundary, redisAvailable, sleep } from '../unit/limits/support.ts'

const KEYS = { team: 'sk-sb-blip-team', probe: 'sk-sb-blip-probe', daily: 'sk-sb-blip-daily' }
const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }

async function readyz(gw: TestGateway): Promise<Record<string, unknown>> {
  return (await (await fetch(`${gw.url}/readyz`)).json()) as Record<string, unknown>
}

async function call(gw: TestGateway, key: string, model: string, stream = false): Promise<number> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }),
  })
  await r.arrayBuffer()
  return r.status
}

/**
 * Freezes Redis and makes one call that needs it, so the gateway has noticed the outage (its
 * connection dropped after the 1 s reply deadline) before the test goes on: from then on writes
 * are refused at once, surely never applied.
 */
async function blip(gw: TestGateway, proxy: FreezableProxy): Promise<void> {
  proxy.freeze()
  expect(await call(gw, KEYS.probe, 'fast')).toBe(200)
  await expect.poll(async () => (await readyz(gw)).redis, { timeout: 5000, interval: 50 }).toBe('down')
}

async function recover(gw: TestGateway, proxy: FreezableProxy): Promise<void> {
  proxy.thaw()
  await expect.poll(async () => (await readyz(gw)).redis, { timeout: 10_000, interval: 50 }).toBe('ok')
}

describe.skipIf(!redisAvailable)('concurrency slots and token corrections that end during a Redis blip', () => {
  // The slow streams end when the test says (whatever the machine's load): after the blip began.
  let gate = Promise.withResolvers<void>()
  let vendor: StandIn
  let proxy: FreezableProxy
  let gw: TestGateway | undefined
  let client: Redis
  const prefix = `sbtest:${runId()}:`

  beforeAll(async () => {
    client = new Redis(REDIS_URL)
    vendor = await startStandIn(async (req, res) => {
      // `slow`: a stream that starts at once and ends when the test opens the gate.
      if (req.json?.model !== 'slow') return json(200, chatCompletion('ok', String(req.json?.model), USAGE))(req, res)
      const [first, ...rest] = chatChunks(['a ', 'b'], 'slow', USAGE)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`data: ${JSON.stringify(first)}\n\n`)
      await gate.promise
      for (const e of rest) res.write(`data: ${JSON.stringify(e)}\n\n`)
      res.end('data: [DONE]\n\n')
    })
    proxy = await startFreezableProxy(6379)
    // Small limits, so nothing is leased: every slot and token is counted in Redis itself.
    gw = await startTestGateway(`
redis: { url: "redis://127.0.0.1:${proxy.port}", key_prefix: "${prefix}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  slow: { targets: [{ provider: up, model: slow }] }
  fast: { targets: [{ provider: up, model: fast }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    limits: { concurrency: 2, tpm: 20000 }
    keys: { k: { key: ${KEYS.team} } }
  p:
    limits: { rpm: 10 }
    keys: { k: { key: ${KEYS.probe} } }
`)
  })
  afterAll(async () => {
    proxy?.thaw()
    await gw?.stop()
    await vendor?.close()
    await proxy?.close()
    const keys = await client.keys(`*${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
    client?.disconnect()
  })

  it('frees the slots and applies the token corrections once Redis answers again', { timeout: 40_000 }, async () => {
    await awayFromBoundary(60_000, 20_000)
    const streams = [call(gw!, KEYS.team, 'slow', true), call(gw!, KEYS.team, 'slow', true)]
    const hash = `{${prefix}t:t}:t`
    const slots = `${hash}:c`
    // Both calls hold a slot and reserve their prompt estimate plus max_tokens in Redis.
    await expect.poll(() => client.zcard(slots), { timeout: 5000, interval: 20 }).toBe(2)
    expect(Number(await client.hget(hash, 'mt'))).toBeGreaterThan(2000)

    await blip(gw!, proxy)
    // The streams end while Redis is unreachable: their settlements cannot reach it.
    gate.resolve()
    expect(await Promise.all(streams)).toEqual([200, 200])
    expect(await client.zcard(slots)).toBe(2)
    await recover(gw!, proxy)

    // Sent again on reconnection: the slots are free and the tokens are what the vendor reported.
    await expect.poll(() => client.zcount(slots, Date.now(), '+inf'), { timeout: 5000, interval: 50 }).toBe(0)
    expect(Number(await client.hget(hash, 'mt'))).toBe(2 * (USAGE.prompt_tokens + USAGE.completion_tokens))
    // And the team has its concurrency back at once, not in ten minutes.
    gate = Promise.withResolvers<void>()
    const again = [call(gw!, KEYS.team, 'slow', true), call(gw!, KEYS.team, 'slow', true)]
    await expect.poll(() => client.zcount(slots, Date.now(), '+inf'), { timeout: 5000, interval: 20 }).toBe(2)
    gate.resolve()
    expect(await Promise.all(again)).toEqual([200, 200])
    // (Settled just after the responses, as always.)
    await expect.poll(() => client.zcount(slots, Date.now(), '+inf'), { timeout: 5000, interval: 50 }).toBe(0)
  })
})

describe.skipIf(!redisAvailable)('a lease handed back during a Redis blip', () => {
  let vendor: StandIn
  let proxy: FreezableProxy
  let gw: TestGateway | undefined
  let client: Redis
  const prefix = `sbtest:${runId()}:`

  beforeAll(async () => {
    client = new Redis(REDIS_URL)
    vendor = await startStandIn(json(200, chatCompletion('ok', 'm', USAGE)))
    proxy = await startFreezableProxy(6379)
    // A daily limit large enough to be leased; renewal ticks every 4 s, so the idle hand-back
    // (4 to 8 s after the last call) comes after the blip has been noticed (about 1 s).
    gw = await startTestGateway(`
redis: { url: "redis://127.0.0.1:${proxy.port}", key_prefix: "${prefix}", leases: { ttl_ms: 12000 } }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  fast: { targets: [{ provider: up, model: fast }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    keys: { k: { key: ${KEYS.daily}, limits: { rpd: 100000 } } }
  p:
    limits: { rpm: 10 }
    keys: { k: { key: ${KEYS.probe} } }
`)
  })
  afterAll(async () => {
    proxy?.thaw()
    await gw?.stop()
    await vendor?.close()
    await proxy?.close()
    const keys = await client.keys(`*${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
    client?.disconnect()
  })

  it('returns its unused credit once Redis answers again, not at the end of the day', { timeout: 40_000 }, async () => {
    await awayFromBoundary(86_400_000, 60_000)
    for (let i = 0; i < 5; i++) expect(await call(gw!, KEYS.daily, 'fast')).toBe(200)
    const [limits] = await client.keys(`{${prefix}t:t}:k:*`)
    // The first call claimed a block of the day's limit: Redis counts it as used.
    expect(Number(await client.hget(limits!, 'dn'))).toBeGreaterThan(5)

    const lastCall = Date.now()
    await blip(gw!, proxy)
    // Idle for two ticks: the hand-back was due, and Redis could not take it.
    await sleep(lastCall + 8500 - Date.now())
    expect(Number(await client.hget(limits!, 'dn'))).toBeGreaterThan(5)
    await recover(gw!, proxy)

    await expect.poll(async () => Number(await client.hget(limits!, 'dn')), { timeout: 5000, interval: 50 }).toBe(5)
  })
})
