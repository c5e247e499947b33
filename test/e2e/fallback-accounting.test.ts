/**
 * Budgets and per-model limits follow a call to whichever model the routing plan moves it to.
 * The budget reservation priced only the model's targets and its `fallbacks`: calls that moved to
 * a dear model through `context_window_fallbacks`, `content_policy_fallbacks` or the client's
 * x-switchboard-fallbacks spent a $0.50 budget to $1.80. And the limits guard reserved only for
 * the model asked for, so a fallback model's rpm (team model_limits, models.<m>.limits) admitted
 * every call that fell back to it. Through the real gateway and a stand-in vendor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatCompletion, json, startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin } from './ledger-support.ts'
import { awayFromBoundary, REDIS_URL, redisAvailable } from '../unit/limits/support.ts'

const DEAR_USAGE = { prompt_tokens: 10, completion_tokens: 1000, total_tokens: 1010 }

// The cheap models' targets fail in the way that sends the plan to its fallbacks; the dear ones answer slowly,
// so concurrent calls are all in flight together.
const vendor: Handler = async (req, res) => {
  const model = String(req.json?.model)
  if (model === 'cheap-500') return json(500, { error: { message: 'boom', type: 'server_error' } })(req, res)
  if (model === 'cheap-ctx') return json(400, { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } })(req, res)
  if (model === 'cheap-cp') return json(400, { error: { message: 'The response was filtered.', type: 'invalid_request_error', param: null, code: 'content_filter' } })(req, res)
  await new Promise((r) => setTimeout(r, 300))
  return json(200, chatCompletion('ok', model, DEAR_USAGE))(req, res)
}

const key = (team: string) => `sk-sb-fallback-acct-${team}-0001`

for (const backend of ['memory', 'redis'] as const) {
  describe.skipIf(backend === 'redis' && !redisAvailable)(`fallbacks and accounting (${backend})`, () => {
    let up: StandIn
    let gw: TestGateway

    beforeAll(async () => {
      up = await startStandIn(vendor)
      gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN_KEY}"] }
redis: { url: "${backend === 'redis' ? REDIS_URL : ''}", key_prefix: "sbtest:${runId()}:" }
providers: { up: { type: openai, base_url: ${up.url}/v1, keys: ["sk-vendor"] } }
models:
  cheap: { targets: [{ provider: up, model: cheap-500 }], pricing: { input: 0.1, output: 0.4 } }
  cheap-ctx: { targets: [{ provider: up, model: cheap-ctx }], pricing: { input: 0.1, output: 0.4 }, context_window_fallbacks: [dear] }
  cheap-cp: { targets: [{ provider: up, model: cheap-cp }], pricing: { input: 0.1, output: 0.4 }, content_policy_fallbacks: [dear] }
  cheap-fb: { targets: [{ provider: up, model: cheap-500 }], pricing: { input: 0.1, output: 0.4 }, fallbacks: [dear-keyed] }
  dear: { targets: [{ provider: up, model: dear-up }], pricing: { input: 15, output: 75 } }
  dear-keyed: { targets: [{ provider: up, model: dear-up }], pricing: { input: 15, output: 75 }, limits: { rpm: 2 } }
routing: { retries: { max_attempts: 3, backoff_ms: 1, max_backoff_ms: 2 }, circuit_breaker: { failures: 1000 } }
teams:
  hdr: { budget: { usd: 0.5, period: total }, keys: { k: { key: ${key('hdr')} } } }
  ctx: { budget: { usd: 0.5, period: total }, keys: { k: { key: ${key('ctx')} } } }
  cp: { budget: { usd: 0.5, period: total }, keys: { k: { key: ${key('cp')} } } }
  lim: { model_limits: { dear: { rpm: 3 } }, keys: { k: { key: ${key('lim')} } } }
  klim: { keys: { k: { key: ${key('klim')} } } }
`)
    })
    afterAll(async () => {
      await gw?.stop()
      await up?.close()
    })

    async function call(team: string, model: string, headers: Record<string, string> = {}): Promise<{ status: number; code?: string; message?: string; served: string | null }> {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key(team)}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model, max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }),
      })
      const body = (await res.json()) as { error?: { code: string; message: string } }
      return { status: res.status, code: body.error?.code, message: body.error?.message, served: res.headers.get('x-switchboard-model') }
    }

    /** The team's ledger spend once all `n` of its calls are written. */
    async function teamSpend(team: string, n: number): Promise<number> {
      for (let i = 0; i < 50; i++) {
        const r = await admin<{ rows: Array<{ team: string; requests: number; cost_usd: number }> }>(gw.url, '/admin/v1/spend?group_by=team&from=2000-01-01')
        const row = r.body.rows.find((x) => x.team === team)
        if (row && row.requests >= n) return row.cost_usd
        await new Promise((res) => setTimeout(res, 100))
      }
      throw new Error(`team ${team}: ${n} ledger rows never arrived`)
    }

    describe('budgets price every model the plan can reach', () => {
      // Worst case on dear: ~18 estimated prompt tokens x $15 + 1000 x $75 per million = ~$0.0753, so
      // $0.50 admits six concurrent calls (each really costs $0.07515). Priced at cheap (~$0.0004), all 20 were.
      for (const [team, model, headers, route] of [
        ['hdr', 'cheap', { 'x-switchboard-fallbacks': 'dear' }, "the client's x-switchboard-fallbacks"],
        ['ctx', 'cheap-ctx', {}, 'context_window_fallbacks'],
        ['cp', 'cheap-cp', {}, 'content_policy_fallbacks'],
      ] as const) {
        it(`20 concurrent calls that move to a dear model through ${route} stay within a $0.50 budget`, async () => {
          const results = await Promise.all(Array.from({ length: 20 }, () => call(team, model, headers)))
          const served = results.filter((r) => r.status === 200)
          const refused = results.filter((r) => r.status === 429)
          expect(served.length + refused.length).toBe(20)
          expect(served.every((r) => r.served === 'dear-up')).toBe(true)
          expect(served.length).toBe(6)
          expect(refused.every((r) => r.code === 'budget_exceeded')).toBe(true)
          const spent = await teamSpend(team, 20)
          expect(spent).toBeLessThanOrEqual(0.5)
          expect(spent).toBeCloseTo(6 * 0.07515, 6)
        })
      }
    })

    describe("a fallback model's own limits apply when the plan moves to it", () => {
      it("team model_limits of the fallback (rpm 3): three calls fall back, the rest get that limit's 429", async () => {
        await awayFromBoundary(60_000, 10_000)
        const results: Array<Awaited<ReturnType<typeof call>>> = []
        for (let i = 0; i < 6; i++) results.push(await call('lim', 'cheap', { 'x-switchboard-fallbacks': 'dear' }))
        expect(results.slice(0, 3).map((r) => [r.status, r.served])).toEqual([[200, 'dear-up'], [200, 'dear-up'], [200, 'dear-up']])
        for (const r of results.slice(3)) {
          expect(r.status).toBe(429)
          expect(r.code).toBe('rate_limit_exceeded')
          expect(r.message).toContain('Rate limit of 3 requests per minute reached for team lim on model dear')
        }
        // The fallback calls count in the same counter as calls that ask for dear itself.
        expect((await call('lim', 'dear')).status).toBe(429)
      })

      it('models.<m>.limits of a configured fallback (rpm 2 per key) applies to the calls that reach it', async () => {
        await awayFromBoundary(60_000, 10_000)
        const results = await Promise.all(Array.from({ length: 5 }, () => call('klim', 'cheap-fb')))
        expect(results.filter((r) => r.status === 200 && r.served === 'dear-up')).toHaveLength(2)
        const refused = results.filter((r) => r.status === 429)
        expect(refused).toHaveLength(3)
        for (const r of refused) expect(r.message).toContain('key k (team klim) on model dear-keyed')
      })

      it("a call that never leaves its model does not touch its fallbacks' limits", async () => {
        // dear-keyed's rpm 2 is spent for this key this minute (above); dear's own target answers.
        const ok = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key('klim')}`, 'content-type': 'application/json', 'x-switchboard-fallbacks': 'dear-keyed' },
          body: JSON.stringify({ model: 'dear', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
        })
        expect(ok.status).toBe(200)
        expect(ok.headers.get('x-switchboard-model')).toBe('dear-up')
      })
    })
  })
}
