/**
 * A vendor 200 that carries no answer: a non-streamed body that is empty, cut short or not JSON,
 * or an event stream that ends without a single event. Nothing has reached the client yet, so each
 * is a failed attempt (another target, a fallback, the circuit breaker), else a 502 naming it;
 * never a 200 the client's SDK cannot read, or an empty stream reported as a success.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-empty-success'

/** A 200 with exactly these bytes (a vendor, or a proxy in front of it, misbehaving). */
const bytes200 = (body: string, contentType = 'application/json'): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}
/** A 200 event stream that ends with no event: nothing at all, or keep-alive comments only. */
const emptyStream = (body = ''): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.end(body)
}

const BAD_BODIES: Array<[string, Handler]> = [
  ['cut short', bytes200('{"id": "x", "choices": [')],
  ['empty', bytes200('')],
  ['HTML', bytes200('<html>oops</html>', 'text/html')],
]

let bad: StandIn
let good: StandIn
let gw: TestGateway
let strict: TestGateway

beforeAll(async () => {
  bad = await startStandIn(bytes200(''))
  good = await startStandIn()
  gw = await startTestGateway(`
providers:
  bad: { type: openai-compatible, base_url: ${bad.url}/v1 }
  good: { type: openai-compatible, base_url: ${good.url}/v1 }
models:
  only-bad: { targets: [{ provider: bad, model: x }] }
  with-fallback: { targets: [{ provider: bad, model: x }], fallbacks: [good-model] }
  good-model: { targets: [{ provider: good, model: y }] }
routing:
  retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 2 }
  circuit_breaker: { failures: 1000 }
teams: { t: { keys: { k: { key: ${KEY} } } } }
`)
  // Its own breaker settings: two failures open a circuit.
  strict = await startTestGateway(`
providers:
  bad: { type: openai-compatible, base_url: ${bad.url}/v1 }
models:
  breaker: { targets: [{ provider: bad, model: z }] }
routing:
  retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 2 }
  circuit_breaker: { failures: 2, window_ms: 60000, cooldown_ms: 60000 }
teams: { t: { keys: { k: { key: ${KEY} } } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await strict?.stop()
  await bad?.close()
  await good?.close()
})

// Each test scripts the bad vendor's answers itself: none left over from another.
beforeEach(() => { bad.queue.length = 0 })

const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
const post = (model: string, stream = false, url = gw.url) => fetch(`${url}/v1/chat/completions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'x' }] }),
})

describe('a non-streamed 200 without a JSON object', () => {
  for (const [name, handler] of BAD_BODIES) {
    it(`(${name}) falls back to a target that answers`, async () => {
      bad.queue.push(handler)
      const r = await post('with-fallback')
      expect(r.status).toBe(200)
      expect(r.headers.get('x-switchboard-provider')).toBe('good')
      expect(r.headers.get('x-switchboard-attempts')).toBe('2')
      expect((await r.json() as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('Hello from the stand-in')
    })

    it(`(${name}) is a 502 naming the problem when nothing else can serve`, async () => {
      bad.queue.push(handler, handler)
      const err = await client().chat.completions.create({ model: 'only-bad', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.APIError)
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502)
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_error')
      expect((err as Error).message).toContain('not a JSON object')
    })
  }

  it('counts as a failure of the target for its circuit breaker', async () => {
    bad.queue.push(bytes200(''), bytes200('<html>oops</html>', 'text/html'))
    const asked = bad.received.length
    expect((await post('breaker', false, strict.url)).status).toBe(502)
    expect(bad.received.length).toBe(asked + 2)
    // Both attempts failed: the circuit is open and the vendor is not asked again.
    const r = await post('breaker', false, strict.url)
    expect(r.status).toBe(503)
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('no_healthy_upstream')
    expect(bad.received.length).toBe(asked + 2)
  })
})

describe('an event stream that ends without an event', () => {
  for (const [name, body] of [['nothing at all', ''], ['keep-alive comments only', ': ping\n\n: ping\n\n']] as const) {
    it(`(${name}) falls back to a target that streams`, async () => {
      bad.queue.push(emptyStream(body))
      const stream = await client().chat.completions.create({ model: 'with-fallback', stream: true, messages: [{ role: 'user', content: 'x' }] })
      let text = ''
      for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
      expect(text).toBe('Hello from the stand-in')
    })

    it(`(${name}) is a 502 before any byte when nothing else can serve`, async () => {
      bad.queue.push(emptyStream(body), emptyStream(body))
      const r = await post('only-bad', true)
      expect(r.status).toBe(502)
      expect(r.headers.get('content-type')).toContain('application/json')
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain('without sending a single event')
    })
  }

  it('a stream with events is still relayed as before', async () => {
    const r = await post('good-model', true)
    expect(r.status).toBe(200)
    const text = await r.text()
    expect(text).toContain('Hello')
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
  })
})
