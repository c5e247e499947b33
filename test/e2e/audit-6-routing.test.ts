/**
 * Issue 6 acceptance gaps: a content-policy refusal stands unless content_policy_fallbacks are
 * configured; the round-robin and cost strategies through the real gateway; the open circuit in
 * the metrics; the transparency headers on a streamed answer after a failover and on a refusal.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { chatCompletion, json, openAIChat, startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { chat } from './routing-fixtures.ts'

let A: StandIn
let B: StandIn
const ok = (text: string): Handler => (req, res) => json(200, chatCompletion(text, String(req.json?.model)))(req, res)
const refusal = json(400, { error: { message: 'Your request was rejected as a result of our safety system.', type: 'invalid_request_error', param: null, code: 'content_policy_violation' } })
const fail = json(500, { error: { message: 'down', type: 'server_error', param: null, code: null } })

beforeAll(async () => {
  A = await startStandIn(ok('from A'))
  B = await startStandIn(ok('from B'))
})
afterAll(async () => { await Promise.all([A?.close(), B?.close()]) })
beforeEach(() => {
  for (const s of [A, B]) {
    s.queue.length = 0
    s.received.length = 0
  }
})

const providers = () => `
providers:
  a: { type: openai-compatible, base_url: ${A.url}/v1 }
  b: { type: openai-compatible, base_url: ${B.url}/v1 }`

describe('content-policy refusals', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(`
server: { auth: none }
${providers()}
models:
  strict: { targets: [{ provider: a, model: a-strict }], fallbacks: [lenient] }
  strict-cp: { targets: [{ provider: a, model: a-strict }], content_policy_fallbacks: [lenient] }
  lenient: { targets: [{ provider: b, model: b-lenient }] }
routing: { retries: { max_attempts: 4, backoff_ms: 1, max_backoff_ms: 5 } }
`)
  })
  afterAll(async () => { await gw?.stop() })

  it('stands without content_policy_fallbacks: tried once, the plain fallbacks are not used', async () => {
    A.queue.push(refusal)
    const r = await chat(gw, 'strict')
    expect(r.status).toBe(400)
    expect(r.body.error).toMatchObject({ code: 'content_policy_violation', message: 'Your request was rejected as a result of our safety system.' })
    expect(r.h('x-switchboard-attempts')).toBe('1')
    expect(A.received).toHaveLength(1)
    expect(B.received).toHaveLength(0)
  })

  it('goes to content_policy_fallbacks when configured', async () => {
    A.queue.push(refusal)
    const r = await chat(gw, 'strict-cp')
    expect(r.status).toBe(200)
    expect(r.body.choices?.[0]?.message.content).toBe('from B')
    expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model'), r.h('x-switchboard-attempts')]).toEqual(['b', 'b-lenient', '2'])
    expect(A.received).toHaveLength(1)
  })
})

describe('round-robin', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(`
server: { auth: none }
${providers()}
models:
  rr: { targets: [{ provider: a, model: a-rr, weight: 100 }, { provider: b, model: b-rr, weight: 1 }] }
routing: { strategy: round-robin, retries: { max_attempts: 1 } }
`)
  })
  afterAll(async () => { await gw?.stop() })

  it('each request starts one target further along, whatever the weights', async () => {
    const seen: Array<string | null> = []
    for (let i = 0; i < 6; i++) seen.push((await chat(gw, 'rr')).h('x-switchboard-provider'))
    expect(seen.slice(2)).toEqual([...seen.slice(0, 2), ...seen.slice(0, 2)])
    expect([...seen.slice(0, 2)].sort()).toEqual(['a', 'b'])
  })
})

describe('cost', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(`
server: { auth: none }
${providers()}
models:
  cheap: { targets: [{ provider: a, model: gpt-4o, weight: 100 }, { provider: b, model: gpt-4o-mini, weight: 1 }] }
routing: { strategy: cost, retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 5 } }
`)
  })
  afterAll(async () => { await gw?.stop() })

  it('the cheapest target by the catalog serves every request; the dearer one only on failure', async () => {
    for (let i = 0; i < 5; i++) expect((await chat(gw, 'cheap')).h('x-switchboard-model')).toBe('gpt-4o-mini')
    expect(A.received).toHaveLength(0)
    B.queue.push(fail)
    const r = await chat(gw, 'cheap')
    expect([r.h('x-switchboard-model'), r.h('x-switchboard-attempts')]).toEqual(['gpt-4o', '2'])
  })
})

describe('circuit state in the metrics; headers on streams and refusals', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(`
server: { auth: none }
${providers()}
models:
  cb: { targets: [{ provider: a, model: a-cb }] }
  st: { targets: [{ provider: a, model: a-st, weight: 1 }, { provider: b, model: b-st, weight: 0 }] }
routing:
  retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 5 }
  circuit_breaker: { failures: 2, window_ms: 10000, cooldown_ms: 60000 }
`)
  })
  afterAll(async () => { await gw?.stop() })

  const circuitGauge = async (): Promise<string[]> => (await (await fetch(`${gw.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('switchboard_circuit_open{') && l.includes('model="a-cb"'))

  it('switchboard_circuit_open goes from 0 to 1 when the circuit opens', async () => {
    expect(await circuitGauge()).toEqual(['switchboard_circuit_open{provider="a",model="a-cb"} 0'])
    A.queue.push(fail, fail)
    expect((await chat(gw, 'cb')).status).toBe(502)
    expect(await circuitGauge()).toEqual(['switchboard_circuit_open{provider="a",model="a-cb"} 1'])
    const rejected = await chat(gw, 'cb')
    expect(rejected.status).toBe(503)
    expect(rejected.body.error?.code).toBe('no_healthy_upstream')
    expect(rejected.h('x-switchboard-attempts')).toBe('0')
  })

  it('a streamed answer after a failover carries provider, model and attempts', async () => {
    A.queue.push(fail)
    B.queue.push(openAIChat('streamed by B'))
    const r = await chat(gw, 'st', { stream: true })
    expect(r.status).toBe(200)
    expect(r.text).toContain('"content":"streamed "')
    expect(r.text).toContain('"content":"B"')
    expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model'), r.h('x-switchboard-attempts')]).toEqual(['b', 'b-st', '2'])
  })

  it("a vendor's 4xx passed through carries them too", async () => {
    A.queue.push(json(404, { error: { message: 'The model a-st does not exist', type: 'invalid_request_error', param: null, code: 'model_not_found' } }))
    const r = await chat(gw, 'st')
    expect(r.status).toBe(404)
    expect([r.h('x-switchboard-provider'), r.h('x-switchboard-model'), r.h('x-switchboard-attempts')]).toEqual(['a', 'a-st', '1'])
  })
})
