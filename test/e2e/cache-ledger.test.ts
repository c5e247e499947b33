/**
 * Accounting of hits: a hit costs nothing and the ledger records what it saved; hits still count
 * against the request limit (the limits guard runs before the cache lookup).
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-cache-ledger'
const ADMIN = 'sk-admin-cache-ledger'

interface Row { request_id: string; cache: string; cost_usd: number | null; saved_usd: number | null; input_tokens: number; output_tokens: number; status: number }

describe('cache hits in the ledger and the limits', () => {
  let vendor: StandIn
  let gw: TestGateway
  beforeAll(async () => {
    vendor = await startStandIn()
    gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN}"] }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  gpt: { targets: [{ provider: up, model: upstream-model }], pricing: { input: 1000, output: 2000 } }
routing: { retries: { max_attempts: 1 } }
store: { url: "sqlite::memory:" }
teams:
  led: { keys: { k: { key: "${KEY}", limits: { rpd: 3 } } } }
cache: { enabled: true }
`)
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  const ask = async (n: string) => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: n }] }),
    })
    await r.text()
    return { status: r.status, id: r.headers.get('x-request-id')!, cache: r.headers.get('x-switchboard-cache'), cost: r.headers.get('x-switchboard-cost-usd') }
  }

  it('a hit is recorded at zero cost with the saving; it still counts as a request', async () => {
    const n = randomUUID()
    const miss = await ask(n)
    await new Promise((r) => setTimeout(r, 60))
    const hit = await ask(n)
    expect([miss.cache, hit.cache]).toEqual(['miss', 'hit'])
    // 10 prompt + 5 completion tokens at $1000/$2000 per million.
    expect(miss.cost).toBe('0.02000000')
    expect(hit.cost).toBe('0')

    let rows: Row[] = []
    for (let i = 0; i < 100 && rows.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50))
      const res = await fetch(`${gw.url}/admin/v1/requests?team=led`, { headers: { authorization: `Bearer ${ADMIN}` } })
      rows = ((await res.json()) as { data: Row[] }).data
    }
    const byId = new Map(rows.map((r) => [r.request_id, r]))
    expect(byId.get(miss.id)).toMatchObject({ cache: 'miss', cost_usd: 0.02, status: 200, input_tokens: 10, output_tokens: 5 })
    expect(byId.get(miss.id)?.saved_usd ?? null).toBeNull()
    expect(byId.get(hit.id)).toMatchObject({ cache: 'hit', cost_usd: 0, saved_usd: 0.02, status: 200, input_tokens: 10, output_tokens: 5 })

    // rpd 3 (a day window, so no minute boundary can reset the count mid-test): the third request passes, the fourth is refused even though it would be a hit.
    expect((await ask(n)).status).toBe(200)
    const refused = await ask(n)
    expect(refused.status).toBe(429)
    expect(vendor.received.filter((r) => r.body.includes(n)).length).toBe(1)
  })
})
