/**
 * Issue 11, point 4: without x-switchboard-run-id, a client's own session id (Claude Code's
 * x-claude-code-session-id, Codex's session-id) is the run id for the ledger and for budgets, not
 * only echoed in a response header: the ledger records it, and a per-run cap counts it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, ledgerRecord } from './ledger-support.ts'

const KEY = 'sk-sb-audit11-session-key-001'

// Output at $1000 per million: 10 output tokens cost exactly $0.01, and max_tokens 10 reserves $0.01.
const anthropicVendor: Handler = (req, res) => {
  const body = JSON.stringify({ id: 'msg_s1', type: 'message', role: 'assistant', model: String(req.json?.model), content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 10 } })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
}
const openaiVendor: Handler = (req, res) => {
  const body = JSON.stringify({
    id: 'resp_s1', object: 'response', created_at: 1, status: 'completed', model: String(req.json?.model),
    output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'ok', annotations: [] }] }],
    usage: { input_tokens: 3, output_tokens: 10, total_tokens: 13, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
  })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
}

let ant: StandIn
let oai: StandIn
let gw: TestGateway

beforeAll(async () => {
  ant = await startStandIn(anthropicVendor)
  oai = await startStandIn(openaiVendor)
  gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite::memory:" }
providers:
  anthropic: { type: anthropic, base_url: "${ant.url}", keys: ["sk-ant-vendor"] }
  openai: { type: openai, base_url: "${oai.url}/v1", keys: ["sk-oai-vendor"] }
models:
  claude: { targets: [{ provider: anthropic, model: claude-x }], pricing: { input: 0, output: 1000 } }
  gpt: { targets: [{ provider: openai, model: gpt-x }], pricing: { input: 0, output: 1000 } }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${KEY}", budget: { usd: 100, period: total, per_run_usd: 0.02 } } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await ant?.close()
  await oai?.close()
})

const claude = (headers: Record<string, string>) => fetch(`${gw.url}/v1/messages?beta=true`, {
  method: 'POST',
  headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
})
const codex = (headers: Record<string, string>) => fetch(`${gw.url}/v1/responses`, {
  method: 'POST',
  headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ model: 'gpt', max_output_tokens: 10, input: 'hi' }),
})

describe('client session ids as run ids', () => {
  it("Claude Code's session id: in the ledger, and the per-run cap counts it", async () => {
    const session = randomUUID()
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const r = await claude({ 'x-claude-code-session-id': session, 'x-request-id': `a11-cc-${i}` })
      await r.text()
      statuses.push(r.status)
    }
    expect(statuses).toEqual([200, 200, 429])
    expect(await ledgerRecord(gw.url, 'a11-cc-0')).toMatchObject({ run_id: session, cost_usd: 0.01, status: 200 })
    expect(await ledgerRecord(gw.url, 'a11-cc-2')).toMatchObject({ run_id: session, status: 429, error_code: 'budget_exceeded' })
    // Another session is another run, with its own cap.
    const other = await claude({ 'x-claude-code-session-id': randomUUID() })
    expect(other.status).toBe(200)
  })

  it("Codex's session-id on /v1/responses: the same", async () => {
    const session = randomUUID()
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const r = await codex({ 'session-id': session, 'x-request-id': `a11-cx-${i}` })
      await r.text()
      statuses.push(r.status)
    }
    expect(statuses).toEqual([200, 200, 429])
    expect(await ledgerRecord(gw.url, 'a11-cx-1')).toMatchObject({ run_id: session, cost_usd: 0.01, status: 200, requested_model: 'gpt' })
  })

  it('an explicit x-switchboard-run-id wins over the session id', async () => {
    const run = `explicit-${randomUUID()}`
    const r = await claude({ 'x-switchboard-run-id': run, 'x-claude-code-session-id': randomUUID(), 'x-request-id': 'a11-explicit' })
    expect(r.status).toBe(200)
    await r.text()
    expect(await ledgerRecord(gw.url, 'a11-explicit')).toMatchObject({ run_id: run })
  })

  it('runs stay out of switchboard_budget_remaining_usd (a series per client session would grow without bound)', async () => {
    for (let i = 0; i < 3; i++) await (await claude({ 'x-claude-code-session-id': randomUUID() })).text()
    const text = await (await fetch(`${gw.url}/metrics`)).text()
    const series = text.split('\n').filter(l => l.startsWith('switchboard_budget_remaining_usd{'))
    expect(series.some(l => l.includes('scope="key"'))).toBe(true)
    expect(series.filter(l => l.includes('scope="run"'))).toEqual([])
  })
})
