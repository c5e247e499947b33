/** A vendor answering a streamed request with a plain JSON body is a vendor failure, not an empty stream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startStandIn, json, chatCompletion, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

let bad: StandIn
let good: StandIn
let gw: TestGateway

beforeAll(async () => {
  bad = await startStandIn(json(200, chatCompletion('not a stream')))
  good = await startStandIn()
  gw = await startTestGateway(`
providers:
  bad: { type: openai, base_url: ${bad.url}/v1, keys: [k] }
  good: { type: openai, base_url: ${good.url}/v1, keys: [k] }
models:
  only-bad: { targets: [{ provider: bad, model: x }] }
  with-fallback: { targets: [{ provider: bad, model: x }], fallbacks: [good-model] }
  good-model: { targets: [{ provider: good, model: y }] }
routing: { retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 2 } }
teams: { t: { keys: { k: { key: sk-sb-nostream } } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await bad?.close()
  await good?.close()
})

describe('a non-stream answer to a streamed request', () => {
  const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-sb-nostream', maxRetries: 0 })

  it('falls back to a target that streams', async () => {
    const stream = await client().chat.completions.create({ model: 'with-fallback', stream: true, messages: [{ role: 'user', content: 'x' }] })
    let text = ''
    for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
    expect(text).toBe('Hello from the stand-in')
  })

  it('is a 502 naming the problem when nothing else can serve', async () => {
    const err = await client().chat.completions.create({ model: 'only-bad', stream: true, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502)
    expect((err as Error).message).toContain('instead of an event stream')
  })
})
