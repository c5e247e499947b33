/**
 * Budgets through the real gateway (memory counters, SQLite ledger): reserve-then-settle under 50
 * concurrent requests, the refusal's exact body, per-run caps, the alert webhook once per period,
 * and a restart that keeps spend (same SQLite file).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, chat } from './ledger-support.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()

const TEAM_KEY = 'sk-sb-budget-team-key-0001'
const RUN_KEY = 'sk-sb-budget-run-key-00001'
const DAILY_KEY = 'sk-sb-budget-daily-key-001'

let vendor: StandIn
let hook: Server
let hookUrl: string
const alerts: Array<Record<string, unknown>> = []
let dbFile: string
let gw: TestGateway

// Output at $1000 per million tokens, input free: 10 output tokens cost exactly $0.01, and a
// request with max_tokens 10 reserves exactly $0.01 (its worst case).
const config = () => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite://${dbFile}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: priced }], pricing: { input: 0, output: 1000 } }
routing: { retries: { max_attempts: 1 } }
teams:
  capped:
    budget: { usd: 0.10, period: monthly, alert_at: 0.5, alert_webhook: "${hookUrl}" }
    keys: { k: { key: "${TEAM_KEY}" } }
  runs:
    keys:
      r: { key: "${RUN_KEY}", budget: { usd: 100, period: total, per_run_usd: 0.02 } }
      d: { key: "${DAILY_KEY}", budget: { usd: 0.015, period: daily, timezone: "Europe/Paris" } }
`

const body = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }
const tenTokens = () => json(200, chatCompletion('ok', 'priced', { prompt_tokens: 7, completion_tokens: 10, total_tokens: 17 }))

function nextMonthUtc(): string {
  const n = new Date()
  return new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth() + 1, 1)).toISOString()
}

beforeAll(async () => {
  vendor = await startStandIn(async (req, res) => {
    await new Promise((r) => setTimeout(r, 20))
    return tenTokens()(req, res)
  })
  hook = createServer((req, res) => {
    let data = ''
    req.on('data', (c: Buffer) => (data += c.toString()))
    req.on('end', () => {
      alerts.push(JSON.parse(data) as Record<string, unknown>)
      res.end('ok')
    })
  })
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r))
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/budget-alerts`
  dbFile = join(tempDir('sb-budget-'), 'budget.db')
  gw = await startTestGateway(config())
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
  await new Promise((r) => hook?.close(r))
})

describe('team budget', () => {
  it('50 concurrent requests against a budget that fits 10 admit exactly 10', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => chat(gw.url, TEAM_KEY, body)))
    const ok = results.filter((r) => r.status === 200)
    const refused = results.filter((r) => r.status === 429)
    expect(ok).toHaveLength(10)
    expect(refused).toHaveLength(40)
    for (const r of refused) {
      expect(r.body.error?.code).toBe('budget_exceeded')
      expect(r.body.error?.type).toBe('insufficient_quota')
      expect(r.body.error?.message).toMatch(/^Budget exceeded: team 'capped' has /)
    }
    expect(vendor.received).toHaveLength(10)
  })

  it('once spent, the refusal names the scope, the limit and the reset time', async () => {
    const r = await chat(gw.url, TEAM_KEY, body)
    expect(r.status).toBe(429)
    expect(r.body).toEqual({ error: { message: `Budget exceeded: team 'capped' has spent $0.10 of its $0.10 monthly budget. It resets at ${nextMonthUtc()}.`, type: 'insufficient_quota', param: null, code: 'budget_exceeded' } })
    const retryAfter = Number(r.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(Math.abs(Date.now() / 1000 + retryAfter - Date.parse(nextMonthUtc()) / 1000)).toBeLessThan(5)
    expect(r.headers.get('x-should-retry')).toBe('false')
  })

  it('the official SDKs give up at once on a spent budget instead of sleeping until it resets', async () => {
    // With their default retries, both SDKs honour x-should-retry; without it the Anthropic SDK
    // sleeps for the retry-after (days here) and the OpenAI SDK sends the refused call twice more.
    let calls = 0
    const counting: typeof fetch = (input, init) => {
      calls++
      return fetch(input, init)
    }
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: TEAM_KEY, fetch: counting })
    await expect(anthropic.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 429 })
    expect(calls).toBe(1)
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TEAM_KEY, fetch: counting })
    await expect(openai.chat.completions.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 429, code: 'budget_exceeded' })
    expect(calls).toBe(2)
  }, 15_000)

  it('the alert webhook fired exactly once, with the scope and spend', async () => {
    for (let i = 0; i < 50 && alerts.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 200))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ type: 'budget.alert', scope: 'team', id: 'capped', team: 'capped', period: 'monthly', limit_usd: 0.1, alert_at: 0.5, resets_at: nextMonthUtc() })
    expect(alerts[0]!.spent_usd as number).toBeGreaterThanOrEqual(0.05)
    expect(gw.logs.filter((l) => l.includes('budget alert: team'))).toHaveLength(1)
  })

  it('the teams and budget reads report spend this period', async () => {
    const t = await admin<{ spend_this_period_usd: number }>(gw.url, '/admin/v1/teams/capped')
    expect(t.status).toBe(200)
    expect(t.body.spend_this_period_usd).toBe(0.1)
  })
})

describe('key and run budgets', () => {
  it('a per-run cap refuses the third $0.01 call of a run, and leaves other runs alone', async () => {
    const run = (id: string) => chat(gw.url, RUN_KEY, body, { 'x-switchboard-run-id': id })
    expect((await run('agent-run-1')).status).toBe(200)
    expect((await run('agent-run-1')).status).toBe(200)
    const third = await run('agent-run-1')
    expect(third.status).toBe(429)
    expect(third.body.error?.message).toBe("Budget exceeded: agent run 'agent-run-1' of key 'cfg:runs/r' has spent $0.02 of its $0.02 per-run budget. A run budget does not reset; start a new run.")
    expect((await run('agent-run-2')).status).toBe(200)
  })

  it('a daily key budget in a time zone: a call that may not fit what is left is refused', async () => {
    expect((await chat(gw.url, DAILY_KEY, body)).status).toBe(200)
    const r = await chat(gw.url, DAILY_KEY, body)
    expect(r.status).toBe(429)
    expect(r.body.error?.message).toMatch(/^Budget exceeded: key 'cfg:runs\/d' has \$0\.005 left of its \$0\.015 daily budget \(\$0\.01 spent\), less than this call may cost \(up to \$0\.01; a lower max_tokens asks for less\)\. It resets at \d{4}-\d{2}-\d{2}T(22|23):00:00\.000Z\.$/)
    // max_tokens 5 reserves $0.005: fits in the $0.005 left.
    expect((await chat(gw.url, DAILY_KEY, { ...body, max_tokens: 5 })).status).toBe(200)
  })
})

describe('restart', () => {
  it('a restarted gateway on the same SQLite file keeps the spend', async () => {
    await gw.stop()
    gw = await startTestGateway(config())
    const r = await chat(gw.url, TEAM_KEY, body)
    expect(r.status).toBe(429)
    expect(r.body.error?.message).toBe(`Budget exceeded: team 'capped' has spent $0.10 of its $0.10 monthly budget. It resets at ${nextMonthUtc()}.`)
    const run = await chat(gw.url, RUN_KEY, body, { 'x-switchboard-run-id': 'agent-run-1' })
    expect(run.status).toBe(429)
    expect(run.body.error?.message).toContain("agent run 'agent-run-1' of key 'cfg:runs/r' has spent $0.02")
  })

  it('refusals are in the ledger at zero cost with their code', async () => {
    const r = await admin<{ data: Array<{ status: number; error_code: string; cost_usd: number; team: string; attempts: number }> }>(gw.url, '/admin/v1/requests?team=capped&status=429&limit=1000')
    expect(r.body.data.length).toBeGreaterThanOrEqual(41)
    for (const rec of r.body.data) expect(rec).toMatchObject({ status: 429, error_code: 'budget_exceeded', cost_usd: 0, attempts: 0 })
  })
})

describe('limits and budgets together', () => {
  // Limits and budgets reserve at the same time (their Redis commands share a round trip): a call
  // the rate limiter refuses must give back what the budget reserved for it.
  const BOTH_KEY = 'sk-sb-budget-both-key-0001'
  let both: TestGateway
  let slowVendor: StandIn
  beforeAll(async () => {
    slowVendor = await startStandIn(tenTokens())
    both = await startTestGateway(`
store: { url: "sqlite::memory:" }
providers:
  up: { type: openai, base_url: ${slowVendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: priced }], pricing: { input: 0, output: 1000 } }
routing: { retries: { max_attempts: 1 } }
teams:
  both:
    limits: { concurrency: 1 }
    budget: { usd: 0.025, period: monthly }
    keys: { k: { key: "${BOTH_KEY}" } }
`)
  })
  afterAll(async () => {
    await both?.stop()
    await slowVendor?.close()
  })

  it('a call refused by the concurrency limit leaves no budget reservation behind', async () => {
    // A holds the one concurrency slot and $0.01 of the $0.025 budget for 300 ms.
    slowVendor.queue.push(async (req, res) => {
      await new Promise((r) => setTimeout(r, 300))
      await tenTokens()(req, res)
    })
    const a = chat(both.url, BOTH_KEY, body)
    await new Promise((r) => setTimeout(r, 100))
    // B fits the budget ($0.02 of $0.025 reserved) but not the concurrency limit.
    const b = await chat(both.url, BOTH_KEY, body)
    expect(b.status).toBe(429)
    expect(b.body.error?.code).toBe('rate_limit_exceeded')
    expect((await a).status).toBe(200)
    // Spent $0.01; C's $0.01 fits only if B's reservation was given back ($0.03 > $0.025 otherwise).
    const c = await chat(both.url, BOTH_KEY, body)
    expect(c.status).toBe(200)
  })
})
