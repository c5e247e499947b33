/**
 * Audit F, point 3: the content refusals vendors really send reach content_policy_fallbacks.
 * OpenAI's reasoning models (o-series, gpt-5, Codex) refuse a flagged prompt with a 400
 * `invalid_prompt`; Gemini blocks a prompt with HTTP 200, `promptFeedback.blockReason` and no
 * candidates, which the gateway used to pass on as an empty, charged answer. Both now fall back;
 * without a fallback the client gets a 400 `content_filter` (Gemini) or OpenAI's own 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { chatCompletion, json, sse, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-audit-f-refusals-001'
const flagged = { error: { message: 'Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again with a different prompt: https://platform.openai.com/docs/guides/reasoning#advice-on-prompting', type: 'invalid_request_error', param: null, code: 'invalid_prompt' } }
const blocked = { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 12559, totalTokenCount: 12559 }, modelVersion: 'gemini-2.5-flash' }

let openai: StandIn
let gemini: StandIn
let lenient: StandIn
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  openai = await startStandIn(json(400, flagged))
  gemini = await startStandIn((req, res) => (req.path.includes('streamGenerateContent') ? sse([blocked], { done: false })(req, res) : json(200, blocked)(req, res)))
  lenient = await startStandIn((req, res) => (req.json?.stream
    ? sse([{ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'l', choices: [{ index: 0, delta: { role: 'assistant', content: 'from lenient' }, finish_reason: 'stop' }] }])(req, res)
    : json(200, chatCompletion('from lenient', 'l'))(req, res)))
  gw = await startTestGateway(`
logging: { level: silent }
providers:
  openai: { type: openai, base_url: "${openai.url}/v1", keys: ["sk-oai-vendor-0001"] }
  gem: { type: gemini, base_url: "${gemini.url}", keys: ["gm-vendor-0001"] }
  len: { type: openai-compatible, base_url: "${lenient.url}/v1", responses: translate }
models:
  o3: { targets: [{ provider: openai, model: o3 }], content_policy_fallbacks: [lenient] }
  o3-alone: { targets: [{ provider: openai, model: o3 }] }
  gem: { targets: [{ provider: gem, model: gemini-2.5-flash }], content_policy_fallbacks: [lenient] }
  gem-alone: { targets: [{ provider: gem, model: gemini-2.5-flash }] }
  lenient: { targets: [{ provider: len, model: l }] }
routing: { retries: { max_attempts: 3, backoff_ms: 1, max_backoff_ms: 5 } }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await Promise.all([openai?.close(), gemini?.close(), lenient?.close()])
})

describe('content_policy_fallbacks on the refusals vendors send', () => {
  it("OpenAI's invalid_prompt goes to the content-policy fallback", async () => {
    const { data, response } = await client.chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'x' }] }).withResponse()
    expect(data.choices[0]?.message.content).toBe('from lenient')
    expect(response.headers.get('x-switchboard-attempts')).toBe('2')
  })

  it("without a fallback, OpenAI's 400 stands as OpenAI sent it", async () => {
    await expect(client.chat.completions.create({ model: 'o3-alone', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 400, code: 'invalid_prompt' })
  })

  it("Gemini's blocked prompt goes to the content-policy fallback: chat and Responses, streamed or not", async () => {
    const r1 = await client.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'x' }] })
    expect(r1.choices[0]?.message.content).toBe('from lenient')
    const chunks: string[] = []
    for await (const c of await client.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'x' }], stream: true })) chunks.push(c.choices[0]?.delta.content ?? '')
    expect(chunks.join('')).toBe('from lenient')
    expect((await client.responses.create({ model: 'gem', input: 'x' })).output_text).toBe('from lenient')
    expect((await client.responses.stream({ model: 'gem', input: 'x' }).finalResponse()).output_text).toBe('from lenient')
  })

  it('without a fallback, a blocked Gemini prompt is a 400 content_filter, not an empty charged answer', async () => {
    for (const stream of [false, true]) {
      const err = await client.chat.completions.create({ model: 'gem-alone', messages: [{ role: 'user', content: 'x' }], stream }).catch((e: unknown) => e)
      expect(err).toMatchObject({ status: 400, code: 'content_filter', type: 'invalid_request_error' })
      expect((err as Error).message).toContain('Gemini blocked the prompt (blockReason PROHIBITED_CONTENT)')
      expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-switchboard-cost-usd')).toBeNull()
    }
    await expect(client.responses.create({ model: 'gem-alone', input: 'x' })).rejects.toMatchObject({ status: 400, code: 'content_filter' })
  })
})
