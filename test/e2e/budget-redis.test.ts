/**
 * Two gateway instances on the real Redis share one budget: 50 concurrent requests spread over
 * both admit exactly what fits, and the spend both see is the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, REDIS_URL, admin, chat } from './ledger-support.ts'
import { redisAvailable } from '../helpers/services.ts'

const available = redisAvailable
const KEY = 'sk-sb-budget-redis-key-001'

describe.skipIf(!available)('budgets shared through Redis', () => {
  let vendor: StandIn
  const gws: TestGateway[] = []
  const prefix = `sbtest:${runId()}:`
  const config = () => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite::memory:" }
redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: priced }], pricing: { input: 0, output: 1000 } }
routing: { retries: { max_attempts: 1 } }
teams:
  shared:
    budget: { usd: 0.10, period: daily }
    keys: { k: { key: "${KEY}" } }
`
  beforeAll(async () => {
    vendor = await startStandIn(async (req, res) => {
      await new Promise((r) => setTimeout(r, 20))
      return json(200, chatCompletion('ok', 'priced', { prompt_tokens: 7, completion_tokens: 10, total_tokens: 17 }))(req, res)
    })
    gws.push(await startTestGateway(config()), await startTestGateway(config()))
  })
  afterAll(async () => {
    for (const g of gws) await g.stop()
    await vendor?.close()
  })

  it('50 concurrent requests over two replicas admit exactly 10', async () => {
    const body = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => chat(gws[i % 2]!.url, KEY, body)))
    expect(results.filter((r) => r.status === 200)).toHaveLength(10)
    expect(results.filter((r) => r.status === 429 && r.body.error?.code === 'budget_exceeded')).toHaveLength(40)
    expect(vendor.received).toHaveLength(10)
    // Both replicas admitted some: the budget really was shared, not split.
    expect(results.filter((r, i) => i % 2 === 0 && r.status === 200).length).toBeGreaterThan(0)
    expect(results.filter((r, i) => i % 2 === 1 && r.status === 200).length).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 100))
    for (const g of gws) {
      const t = await admin<{ spend_this_period_usd: number }>(g.url, '/admin/v1/teams/shared')
      expect(t.body.spend_this_period_usd).toBe(0.1)
    }
  })

  it('a third replica started later sees the spend at once (counters live in Redis)', async () => {
    gws.push(await startTestGateway(config()))
    const r = await chat(gws[2]!.url, KEY, { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    expect(r.status).toBe(429)
    expect(r.body.error?.message).toMatch(/^Budget exceeded: team 'shared' has spent \$0\.10 of its \$0\.10 daily budget\. It resets at \d{4}-\d{2}-\d{2}T00:00:00\.000Z\.$/)
  })
})
