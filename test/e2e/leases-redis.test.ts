/**
 * Leases end to end: two gateways on the real Redis share a rate limit and a budget large enough to
 * be leased. Together they admit exactly the limit, and once both have shut down (handing their
 * leases back) Redis holds exactly what was admitted and spent, nothing held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { REDIS_URL, chat } from './ledger-support.ts'
import { redisAvailable } from '../helpers/services.ts'
import { awayFromBoundary } from '../unit/limits/support.ts'

const KEY = 'sk-sb-leases-key-000001'

describe.skipIf(!redisAvailable)('leases across two gateways (real Redis)', () => {
  let vendor: StandIn
  let gws: TestGateway[] = []
  let client: Redis
  const prefix = `sbtest:${runId()}:`
  const config = () => `
redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: priced }], pricing: { input: 0, output: 1000 } }
routing: { retries: { max_attempts: 1 } }
teams:
  shared:
    budget: { usd: 100, period: daily }
    keys: { k: { key: "${KEY}", limits: { rpm: 300 } } }
`
  beforeAll(async () => {
    client = new Redis(REDIS_URL)
    vendor = await startStandIn(json(200, chatCompletion('ok', 'priced', { prompt_tokens: 7, completion_tokens: 10, total_tokens: 17 })))
    gws = [await startTestGateway(config()), await startTestGateway(config())]
  })
  afterAll(async () => {
    for (const g of gws) await g.stop()
    await vendor?.close()
    client?.disconnect()
  })

  it('admit exactly the limit, and leave Redis exact after shutdown', { timeout: 30_000 }, async () => {
    await awayFromBoundary(60_000, 15_000)
    const body = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }
    const statuses: number[] = []
    // One at a time, alternating: each gateway spends its own lease on its turns.
    for (let i = 0; i < 4; i++) statuses.push((await chat(gws[i % 2]!.url, KEY, body)).status)
    // Each gateway has claimed a block (a sixteenth of what was left): Redis counts it already.
    const [limits] = await client.keys(`{${prefix}t:shared}:k:*`)
    expect(Number(await client.hget(limits!, 'mn'))).toBeGreaterThan(30)
    for (let i = 4; i < 400; i++) statuses.push((await chat(gws[i % 2]!.url, KEY, body)).status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(300)
    expect(statuses.filter((s) => s === 429)).toHaveLength(100)
    expect(vendor.received).toHaveLength(300)
    for (const g of gws) await g.stop()
    gws = []
    expect(Number(await client.hget(limits!, 'mn'))).toBe(300)
    const [budget] = (await client.keys(`${prefix}budget:*`)).filter((k) => !k.endsWith(':r') && !k.endsWith(':alerted'))
    const [spent, reserved] = await client.hmget(budget!, 'spent', 'reserved')
    // 300 calls of 10 output tokens at $1000 per million: $3.00, in nano-dollars.
    expect([Number(spent), Number(reserved)]).toEqual([3e9, 0])
  })
})

describe.skipIf(!redisAvailable)('a lease on a request-count limit alone (real Redis)', () => {
  let vendor: StandIn
  let gw: TestGateway | undefined
  let client: Redis
  const prefix = `sbtest:${runId()}:`
  beforeAll(async () => {
    client = new Redis(REDIS_URL)
    vendor = await startStandIn(json(200, chatCompletion('ok', 'm', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 })))
    gw = await startTestGateway(`
redis: { url: "${REDIS_URL}", key_prefix: "${prefix}", leases: { ttl_ms: 600 } }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: m }] }
teams:
  t:
    keys: { k: { key: "${KEY}", limits: { rpd: 100000 } } }
`)
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
    client?.disconnect()
  })

  it('is handed back once idle, though its calls settle nothing (no tokens, no concurrency)', async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] }
    for (let i = 0; i < 5; i++) expect((await chat(gw!.url, KEY, body)).status).toBe(200)
    const [limits] = await client.keys(`{${prefix}t:t}:k:*`)
    // The first call claimed a block: Redis counts it as used.
    expect(Number(await client.hget(limits!, 'dn'))).toBeGreaterThan(5)
    // Two renewal ticks (a third of the ttl each) with nothing in flight: the unused credit goes back.
    await new Promise((r) => setTimeout(r, 1000))
    expect(Number(await client.hget(limits!, 'dn'))).toBe(5)
  })
})

describe.skipIf(!redisAvailable)('a token overshoot beyond the leased credit (real Redis)', () => {
  let vendor: StandIn
  let memory: TestGateway | undefined
  let leased: TestGateway | undefined
  let client: Redis
  const prefix = `sbtest:${runId()}:`
  const config = (redis: string) => `
${redis}
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: m }] }
teams:
  t:
    limits: { tpm: 200000 }
    keys: { k: { key: "${KEY}" } }
`
  beforeAll(async () => {
    client = new Redis(REDIS_URL)
    // Each call reserves about 1k tokens (a short prompt, max_tokens 1000) and the vendor bills 30.5k.
    vendor = await startStandIn(json(200, chatCompletion('ok', 'm', { prompt_tokens: 30000, completion_tokens: 500, total_tokens: 30500 })))
    memory = await startTestGateway(config(''))
    leased = await startTestGateway(config(`redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }`)) // leases on: the default
  })
  afterAll(async () => {
    await memory?.stop()
    await leased?.stop()
    await vendor?.close()
    client?.disconnect()
  })

  it('is charged to Redis at once: the same calls admitted, and the same headers, as in memory', { timeout: 30_000 }, async () => {
    await awayFromBoundary(60_000, 15_000)
    const body = { model: 'm', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }
    const run = async (gw: TestGateway) => {
      const seen: string[] = []
      for (let i = 0; i < 9; i++) {
        const r = await chat(gw.url, KEY, body)
        seen.push(`${r.status} ${r.headers.get('x-ratelimit-remaining-tokens')} ${r.body.error?.message.replace(/Retry after \d+ s\./, '') ?? ''}`)
      }
      return seen
    }
    const inMemory = await run(memory!)
    // 7 calls (213,500 tokens): the 8th's reservation would take the minute past 200,000.
    expect(inMemory.filter((s) => s.startsWith('200 '))).toHaveLength(7)
    expect(inMemory[7]).toContain('213500 used')
    // The leased credit used to absorb the overshoot where the requests decided in Redis did not
    // see it: an 8th call was admitted (244,000 tokens) and Redis said 219,969 used.
    const inRedis = await run(leased!)
    expect(inRedis.filter((s) => s.startsWith('200 '))).toHaveLength(7)
    expect(inRedis).toEqual(inMemory)
    // Redis holds the usage, not waiting for the credit to be handed back.
    expect(Number(await client.hget(`{${prefix}t:t}:t`, 'mt'))).toBe(213_500)
    expect(vendor.received).toHaveLength(14)
  })
})
