/**
 * Budgets when Redis goes away and comes back (fail-open): the spend counted in this replica's
 * memory during the outage, and that of a call whose settlement in Redis failed, is added to the
 * Redis counter once Redis is back, so the counter matches the ledger; and a second outage starts
 * from the ledger, not from the first one's stale totals. Redis is the shared one, behind a proxy
 * that is cut (connections closed and refused) and restored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, sse, chatChunks, openAIChat, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startFreezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.ts'
import { redisAvailable } from '../helpers/services.ts'
import { ADMIN_KEY, admin, chat } from './ledger-support.ts'

const KEY = 'sk-sb-budget-outage-key-01'
const body = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }

describe.skipIf(!redisAvailable).each([
  { leases: true },
  { leases: false },
])('budget spend made while Redis is unreachable (leases $leases)', ({ leases }) => {
  let vendor: StandIn
  let proxy: FreezableProxy
  let gw: TestGateway

  beforeAll(async () => {
    vendor = await startStandIn(openAIChat('ok'))
    proxy = await startFreezableProxy(6379)
    gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite::memory:" }
redis: { url: "redis://127.0.0.1:${proxy.port}", key_prefix: "sbtest:${runId()}:", leases: { enabled: ${leases} } }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  # $1000 per million tokens: the stand-in's usual 10 + 5 tokens cost $0.015.
  m: { targets: [{ provider: up, model: up-m }], pricing: { input: 1000, output: 1000 } }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    # monthly: its keys in the shared Redis expire (a total budget's never do)
    budget: { usd: 100, period: monthly }
    keys: { k: { key: "${KEY}" } }
`)
    await redisIs('ok')
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
    await proxy?.close()
  })

  const redisIs = async (want: 'ok' | 'down') => {
    for (let i = 0; i < 200; i++) {
      if ((await (await fetch(`${gw.url}/readyz`)).json() as { redis: string }).redis === want) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`the gateway never saw redis ${want}`)
  }
  const spent = async () => (await admin<{ spend_this_period_usd: number }>(gw.url, '/admin/v1/teams/t')).body.spend_this_period_usd
  const ledgerTotal = async () => (await admin<{ total_cost_usd: number }>(gw.url, '/admin/v1/spend?group_by=team&from=2000-01-01')).body.total_cost_usd
  const calls = async (n: number) => {
    for (let i = 0; i < n; i++) expect((await chat(gw.url, KEY, body)).status).toBe(200)
  }

  it('is added to the Redis counter when Redis is back; a second outage starts from the ledger', async () => {
    await calls(5)
    await expect.poll(spent).toBe(0.075)

    // A slow stream reserved in Redis that ends while Redis is cut: its settlement fails there.
    vendor.queue.push(sse(chatChunks(Array.from({ length: 6 }, (_, i) => `w${i} `), 'up-m'), { delayMs: 100 }))
    const seen = vendor.received.length
    const stream = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true }),
    }).then((r) => r.text())
    await expect.poll(() => vendor.received.length).toBe(seen + 1)
    await proxy.cut()
    await redisIs('down')
    await calls(10)
    expect(await stream).toContain('data: [DONE]')

    await proxy.restore()
    await redisIs('ok')
    // 5 + 10 calls and the stream, $0.015 each: the counter in Redis has the outage's $0.165.
    await expect.poll(spent, { timeout: 5000 }).toBe(0.24)
    await expect.poll(ledgerTotal, { timeout: 5000 }).toBe(0.24)
    expect(gw.logs.some((l) => l.includes('spend counted in this replica while redis was unreachable added to the shared counters'))).toBe(true)

    // Spend through Redis between the outages, then a second outage: its memory counters start
    // from the ledger (every call so far), not from the first outage's totals.
    await calls(3)
    await expect.poll(ledgerTotal, { timeout: 5000 }).toBe(0.285)
    await proxy.cut()
    await redisIs('down')
    expect(await spent()).toBe(0.285)
    await calls(1)
    await proxy.restore()
    await redisIs('ok')
    await expect.poll(spent, { timeout: 5000 }).toBe(0.3)
    await expect.poll(ledgerTotal, { timeout: 5000 }).toBe(0.3)
  }, 60_000)

  // Only without leases, where every call asks Redis (with them, a lease flush lost to the freeze
  // would be written again after the thaw and delivered late too: counted twice, as docs/costs.md says).
  if (!leases) it('a call whose reservation Redis never answered (frozen) counts in memory, and is added too', async () => {
    const before = await ledgerTotal()
    proxy.freeze()
    try {
      // The first waits for Redis' reply deadline and is admitted on the fail-open policy; the
      // others find Redis down at once.
      await calls(3)
      await redisIs('down')
    } finally {
      proxy.thaw()
    }
    await redisIs('ok')
    const after = Math.round((before + 0.045) * 1e8) / 1e8
    await expect.poll(ledgerTotal, { timeout: 5000 }).toBe(after)
    await expect.poll(spent, { timeout: 5000 }).toBe(after)
  }, 30_000)
})
