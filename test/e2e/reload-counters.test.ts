/**
 * A config reload keeps every in-memory counter: budget spend (including the spend of a call in
 * flight across the reload, which settles on the runtime it started on), rate-limit windows and
 * concurrency slots. Each reload used to start them afresh: a budget counter then reloaded its
 * baseline from the ledger, which lacks the rows still queued and the calls still in flight, and
 * a $0.20 budget was overspent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.ts'
import { startStandIn, sse, chatChunks, openAIChat, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, chat } from './ledger-support.ts'

const SPENDER = 'sk-sb-reload-spender-0001'
const LIMITED = 'sk-sb-reload-limited-0001'
const NARROW = 'sk-sb-reload-narrow-00001'
const body = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }

describe('a config reload keeps the in-memory counters', () => {
  let vendor: StandIn
  let gw: TestGateway
  const yaml = (comment = '') => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite::memory:" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  # $1000 per million tokens: the stand-in's usual 10 + 5 tokens cost $0.015.
  m: { targets: [{ provider: up, model: up-m }], pricing: { input: 1000, output: 1000 } }
routing: { retries: { max_attempts: 1 } }
teams:
  spender:
    budget: { usd: 0.2, period: total }
    keys: { s: { key: "${SPENDER}" } }
  limited:
    limits: { rpd: 3 }
    keys: { l: { key: "${LIMITED}" } }
  narrow:
    limits: { concurrency: 1 }
    keys: { n: { key: "${NARROW}" } }
${comment}
`
  const reload = async (comment: string) => {
    const r = await gw.reload(parseConfig(yaml(comment), 'test.yaml', {}))
    expect(r).toEqual({ applied: true, ignored: [] })
  }
  const spent = async () => (await admin<{ spend_this_period_usd: number }>(gw.url, '/admin/v1/teams/spender')).body.spend_this_period_usd
  const ledgerTotal = async () => (await admin<{ total_cost_usd: number }>(gw.url, '/admin/v1/spend?group_by=team&from=2000-01-01')).body.total_cost_usd
  const stream = (key: string) => fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  }).then(async (r) => ({ status: r.status, text: await r.text() }))
  const vendorSaw = async (n: number) => { await expect.poll(() => vendor.received.length).toBeGreaterThanOrEqual(n) }

  beforeAll(async () => {
    vendor = await startStandIn(openAIChat('ok'))
    gw = await startTestGateway(yaml())
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  it('budget spend: calls before the reload and a stream in flight across it are all counted', async () => {
    for (let i = 0; i < 5; i++) expect((await chat(gw.url, SPENDER, body)).status).toBe(200)
    // A slow stream that reports 105 tokens ($0.105) at its end, in flight while the config reloads.
    vendor.queue.push(sse(chatChunks(Array.from({ length: 8 }, (_, i) => `w${i} `), 'up-m', { prompt_tokens: 10, completion_tokens: 95, total_tokens: 105 }), { delayMs: 100 }))
    const before = vendor.received.length
    const inFlight = stream(SPENDER)
    await vendorSaw(before + 1)
    await reload('# reloaded once')
    // Read at once: this is when a fresh counter loaded its baseline from the ledger, without the
    // rows still queued and without the stream (its row is written only after it ends).
    expect(await spent()).toBe(0.075)
    const s = await inFlight
    expect(s.status).toBe(200)
    expect(s.text).toContain('data: [DONE]')
    expect(await spent()).toBe(0.18)
    // $0.02 is left, less than a call's worst case (~$0.03): refused. With the counter reset by the
    // reload, calls went on being admitted until the ledger held well over $0.20.
    const next = await chat(gw.url, SPENDER, body)
    expect(next.status).toBe(429)
    expect(next.body.error?.code).toBe('budget_exceeded')
    await expect.poll(ledgerTotal, { timeout: 5000 }).toBe(0.18)
  })

  it('rate-limit windows: requests counted before a reload still count after it', async () => {
    for (let i = 0; i < 3; i++) expect((await chat(gw.url, LIMITED, body)).status).toBe(200)
    await reload('# reloaded twice')
    const r = await chat(gw.url, LIMITED, body)
    expect(r.status).toBe(429)
    expect(r.body.error?.message).toContain('Rate limit of 3 requests per day reached for team limited')
  })

  it('concurrency: a stream in flight across a reload still holds its slot', async () => {
    vendor.queue.push(sse(chatChunks(Array.from({ length: 8 }, (_, i) => `w${i} `), 'up-m'), { delayMs: 100 }))
    const before = vendor.received.length
    const inFlight = stream(NARROW)
    await vendorSaw(before + 1)
    await reload('# reloaded three times')
    const r = await chat(gw.url, NARROW, body)
    expect(r.status).toBe(429)
    expect(r.body.error?.message).toContain('Rate limit of 1 concurrent requests reached for team narrow')
    expect((await inFlight).status).toBe(200)
    // The slot is released on the store the new runtime uses: the next call is admitted.
    expect((await chat(gw.url, NARROW, body)).status).toBe(200)
  })
})
