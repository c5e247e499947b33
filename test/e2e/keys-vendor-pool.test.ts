/**
 * Vendor key pools end to end: a stand-in vendor that rejects one of two vendor keys. The bad key
 * leaves the rotation after its first 401 (the request is retried on the other key), every call
 * succeeds, and the log names the key by its last four characters only. A 429 rests a key for
 * the vendor's retry-after while the other serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { chatCompletion, json, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const GOOD = 'sk-vendor-good-key-1111111111111111wxyz'
const BAD = 'sk-vendor-revoked-key-2222222222222abcd'
const RL1 = 'sk-vendor-rl-one-33333333333333333335555'
const RL2 = 'sk-vendor-rl-two-44444444444444444446666'
const CLIENT = 'sk-sb-vendor-pool-suite-client-key-0001'

describe('vendor key pool', () => {
  let vendor: StandIn
  let gw: TestGateway
  let client: OpenAI
  const used = () => vendor.received.map((r) => String(r.headers.authorization).slice('Bearer '.length))

  beforeAll(async () => {
    vendor = await startStandIn((req, res) => {
      if (req.headers.authorization === `Bearer ${BAD}`) return json(401, { error: { message: 'Incorrect API key provided: sk-vend*****abcd.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })(req, res)
      return json(200, chatCompletion('ok', 'up-a'))(req, res)
    })
    gw = await startTestGateway(`
store: { url: "sqlite::memory:" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["${GOOD}", "${BAD}"] }
  rl: { type: openai, base_url: ${vendor.url}/v1, keys: ["${RL1}", "${RL2}"] }
models:
  gpt-a: { targets: [{ provider: up, model: up-a }] }
  gpt-rl: { targets: [{ provider: rl, model: up-rl }] }
routing: { retries: { max_attempts: 3, backoff_ms: 0, max_backoff_ms: 0 } }
teams: { t: { keys: { c: { key: "${CLIENT}" } } } }
`)
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT, maxRetries: 0 })
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  it('a key the vendor rejects (401) leaves the rotation; every call succeeds on the other; logged as ...abcd only', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await client.chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: `call ${i}` }] })
      expect(r.choices[0]?.message.content).toBe('ok')
    }
    // round robin tried the bad key once (second call), then only the good one
    expect(used()).toEqual([GOOD, BAD, GOOD, GOOD, GOOD, GOOD, GOOD])
    const lines = gw.logs.filter((l) => l.includes('...abcd'))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', provider: 'up', msg: 'vendor rejected key ...abcd; it is out of rotation for 5 minutes' })
    const all = gw.logs.join('\n')
    for (const secret of [GOOD, BAD, CLIENT, BAD.slice(0, -4), GOOD.slice(-8)]) expect(all).not.toContain(secret)
  })

  it('a 429 rests that key for its retry-after while the other serves', async () => {
    vendor.received.length = 0
    vendor.queue.push(json(429, { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '30' }))
    for (let i = 0; i < 4; i++) {
      const r = await client.chat.completions.create({ model: 'gpt-rl', messages: [{ role: 'user', content: `call ${i}` }] })
      expect(r.choices[0]?.message.content).toBe('ok')
    }
    // RL1 got the 429 and rests 30 s; the retry and every later call use RL2
    expect(used()).toEqual([RL1, RL2, RL2, RL2, RL2])
    const rested = gw.logs.filter((l) => l.includes('...5555'))
    expect(rested).toHaveLength(1)
    expect(JSON.parse(rested[0]!)).toMatchObject({ level: 'warn', provider: 'rl', msg: 'vendor rate-limited key ...5555 on up-rl; resting it for that model for 30 s' })
    for (const secret of [RL1, RL2]) expect(gw.logs.join('\n')).not.toContain(secret)
  })
})
