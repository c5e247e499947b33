/**
 * Audit F, point 5: a translated call (/v1/responses, /v1/messages) on an OpenAI-compatible server
 * that answers 200 with something other than a chat completion (a JSON error sent with 200, as some
 * servers do, or a proxy's HTML page). That used to escape as a 500 internal_error with no failover,
 * and left the target counted in flight for good, so least-busy never chose it again. Now it is the
 * attempt's failure: the next target serves, or the client gets 502 upstream_error; and the target's
 * count is released, so it is tried again on the next call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { chatCompletion, json, startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-audit-f-not-a-completion'
const errorWith200 = json(200, { object: 'error', message: 'The model does not exist', type: 'NotFoundError', param: null, code: 404 })
const htmlPage: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' })
  res.end('<html><body>Please sign in to the proxy</body></html>')
}

let bad: StandIn
let good: StandIn
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  bad = await startStandIn(errorWith200)
  good = await startStandIn((req, res) => json(200, chatCompletion('from good', String(req.json?.model)))(req, res))
  gw = await startTestGateway(`
logging: { level: silent }
providers:
  bad: { type: openai-compatible, base_url: "${bad.url}/v1", responses: translate }
  good: { type: openai-compatible, base_url: "${good.url}/v1", responses: translate }
models:
  m: { targets: [{ provider: bad, model: x, weight: 1 }, { provider: good, model: y, weight: 0 }] }
  bad-only: { targets: [{ provider: bad, model: x }] }
routing: { strategy: least-busy, retries: { max_attempts: 3, backoff_ms: 1, max_backoff_ms: 5 }, circuit_breaker: { failures: 1000 } }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await Promise.all([bad?.close(), good?.close()])
})

const messages = (model: string) => fetch(`${gw.url}/v1/messages`, {
  method: 'POST',
  headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
  body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
})

describe('a 200 that is not a chat completion, on a translated call', () => {
  it('fails over to the next target (Responses and Messages), for a JSON error or an HTML page', async () => {
    for (const answer of [errorWith200, htmlPage]) {
      bad.fallback = answer
      const { data, response } = await client.responses.create({ model: 'm', input: 'x' }).withResponse()
      expect(data.output_text).toBe('from good')
      expect(response.headers.get('x-switchboard-attempts')).toBe('2')
      const r = await messages('m')
      expect(r.status).toBe(200)
      expect(((await r.json()) as { content: Array<{ text: string }> }).content[0]?.text).toBe('from good')
    }
  })

  it('releases the target: least-busy tries it first again on every later call', async () => {
    bad.fallback = errorWith200
    const before = bad.received.length
    for (let i = 0; i < 5; i++) expect((await client.responses.create({ model: 'm', input: 'x' })).output_text).toBe('from good')
    expect(bad.received.length - before).toBe(5)
  })

  it('without another target, the client gets 502 upstream_error, not 500 internal_error', async () => {
    bad.fallback = errorWith200
    await expect(client.responses.create({ model: 'bad-only', input: 'x' })).rejects.toMatchObject({ status: 502, code: 'upstream_error' })
    const r = await messages('bad-only')
    expect(r.status).toBe(502)
    expect(gw.logs.some((l) => l.includes('internal error'))).toBe(false)
  })
})
