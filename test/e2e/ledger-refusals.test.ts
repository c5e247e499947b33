/** Requests the gateway refuses after authentication are ledger rows at zero cost, with the refusal code. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(`
server: { admin_keys: [admin-refusals], max_body_bytes: 4096 }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] } }
models:
  ok: { targets: [{ provider: up, model: x }] }
  secret: { targets: [{ provider: up, model: x }] }
teams: { t: { models: [ok], keys: { k: { key: sk-sb-refusals } } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

const post = (body: string, runId: string) => fetch(`${gw.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { authorization: 'Bearer sk-sb-refusals', 'content-type': 'application/json', 'x-switchboard-run-id': runId },
  body,
})

interface Row { requested_model: string; status: number; error_code: string | null; cost_usd: number | null; team: string; run_id: string | null }

describe('refusals in the ledger', () => {
  it('records 400, 403, 404 and 413 with zero cost and the code', async () => {
    const run = `refusals-${Date.now()}`
    expect((await post('{"model":', run)).status).toBe(400)
    expect((await post(JSON.stringify({ model: 'secret', messages: [{ role: 'user', content: 'x' }] }), run)).status).toBe(403)
    expect((await post(JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }), run)).status).toBe(404)
    expect((await post(JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }), run)).status).toBe(413)
    let rows: Row[] = []
    const deadline = Date.now() + 5000
    while (rows.length < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      const r = await fetch(`${gw.url}/admin/v1/requests?run=${run}`, { headers: { authorization: 'Bearer admin-refusals' } })
      rows = ((await r.json()) as { data: Row[] }).data
    }
    const seen = rows.map((r) => [r.requested_model, r.status, r.error_code, r.cost_usd, r.team]).sort((a, b) => Number(a[1]) - Number(b[1]))
    expect(seen).toEqual([
      ['', 400, 'invalid_request', 0, 't'],
      ['secret', 403, 'model_not_allowed', 0, 't'],
      ['nope', 404, 'model_not_found', 0, 't'],
      ['', 413, 'request_too_large', 0, 't'],
    ])
    expect(vendor.received).toHaveLength(0)
  })
})
