/**
 * Audit F, point 2: a request one target cannot take (an OpenAI previous_response_id, an image by
 * file_id or background: true on a translated target; n > 1 on Claude) skips that target instead
 * of ending the request with 400. A mixed OpenAI + Anthropic group serves every such request; a
 * vendor failure seen first (OpenAI's 429) reaches the client rather than the fallback's "cannot
 * translate"; and only when no target can take the request is that 400 the answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { chatCompletion, json, sse, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-audit-f-unservable-01'
const OPENAI_ID = 'resp_68af0c1e2b3c4d5e6f7a8b9c0d1e2f3a'
const openAIResponse = {
  id: 'resp_0123abcd', object: 'response', created_at: 1_700_000_000, status: 'completed', model: 'gpt-4o',
  output: [{ id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'from openai', annotations: [] }] }],
  usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
}
const claudeMessage = { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'from claude' }], stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 2 } }

let limited: StandIn
let openai: StandIn
let claude: StandIn
let compat: StandIn
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  limited = await startStandIn(json(429, { error: { message: 'Rate limit reached for gpt-4o', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '7' }))
  openai = await startStandIn((req, res) => req.json?.stream
    ? sse([{ type: 'response.created', response: { ...openAIResponse, status: 'in_progress', output: [] } }, { type: 'response.completed', response: openAIResponse }], { eventNames: true, done: false })(req, res)
    : json(200, openAIResponse)(req, res))
  claude = await startStandIn(json(200, claudeMessage))
  compat = await startStandIn((req, res) => json(200, chatCompletion('from compat', String(req.json?.model)))(req, res))
  gw = await startTestGateway(`
logging: { level: silent }
providers:
  limited: { type: openai, base_url: "${limited.url}/v1", keys: ["sk-oai-limited-0001"] }
  openai: { type: openai, base_url: "${openai.url}/v1", keys: ["sk-oai-healthy-0001"] }
  ant: { type: anthropic, base_url: "${claude.url}", keys: ["sk-ant-vendor-0001"] }
  compat: { type: openai-compatible, base_url: "${compat.url}/v1" }
models:
  gpt: { targets: [{ provider: limited, model: gpt-4o }], fallbacks: [claude] }
  mixed: { targets: [{ provider: openai, model: gpt-4o, weight: 1 }, { provider: ant, model: claude-x, weight: 1 }] }
  claude: { targets: [{ provider: ant, model: claude-x }] }
  chat-mixed: { targets: [{ provider: ant, model: claude-x, weight: 1 }, { provider: compat, model: qwen, weight: 1 }] }
routing: { retries: { max_attempts: 3, backoff_ms: 10, max_backoff_ms: 100 }, circuit_breaker: { failures: 1000 } }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await Promise.all([limited?.close(), openai?.close(), claude?.close(), compat?.close()])
})

describe('a target that cannot take the request is skipped', () => {
  it('a mixed OpenAI + Anthropic group serves every continuation of an OpenAI response, streamed or not', async () => {
    const before = claude.received.length
    for (let i = 0; i < 12; i++) {
      const { data, response } = await client.responses.create({ model: 'mixed', input: 'next', previous_response_id: OPENAI_ID }).withResponse()
      expect(data.output_text).toBe('from openai')
      expect(response.headers.get('x-switchboard-provider')).toBe('openai')
      expect(response.headers.get('x-switchboard-attempts')).toBe('1')
    }
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${gw.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mixed', input: 'next', previous_response_id: OPENAI_ID, stream: true }),
      })
      expect(r.status).toBe(200)
      expect(r.headers.get('x-switchboard-provider')).toBe('openai')
      expect(await r.text()).toContain('event: response.completed')
    }
    expect(claude.received.length).toBe(before) // nothing was sent to Claude
    expect(openai.received.at(-1)?.json?.previous_response_id).toBe(OPENAI_ID)
  })

  it('an image by file_id and background: true also go to the target that can take them', async () => {
    for (let i = 0; i < 6; i++) {
      const byFile = await client.responses.create({ model: 'mixed', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-abc', detail: 'auto' }] }] })
      expect(byFile.output_text).toBe('from openai')
      const background = await client.responses.create({ model: 'mixed', input: 'later', background: true })
      expect(background.output_text).toBe('from openai')
    }
  })

  it("OpenAI's 429 reaches the client with its retry-after, not the fallback's translation refusal", async () => {
    const err = await client.responses.create({ model: 'gpt', input: 'next', previous_response_id: OPENAI_ID }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    const apiErr = err as InstanceType<typeof OpenAI.APIError>
    expect(apiErr.status).toBe(429)
    expect(apiErr.headers?.get('retry-after')).toBe('7')
    expect(apiErr.headers?.get('x-switchboard-provider')).toBe('limited')
    expect(apiErr.headers?.get('x-switchboard-attempts')).toBe('1')
  })

  it('when no target can take the request, its 400 names the field', async () => {
    const err = await client.responses.create({ model: 'claude', input: 'next', previous_response_id: OPENAI_ID }).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 400, param: 'previous_response_id' })
    expect((err as Error).message).toContain('only an OpenAI target can continue it')
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-switchboard-attempts')).toBe('0')
  })

  it('a vendor request the adapter refuses (n > 1 on Claude) is served by the group\'s other target', async () => {
    const before = claude.received.length
    for (let i = 0; i < 8; i++) {
      const r = await client.chat.completions.create({ model: 'chat-mixed', n: 2, messages: [{ role: 'user', content: 'hi' }] })
      expect(r.choices[0]?.message.content).toBe('from compat')
    }
    expect(claude.received.length).toBe(before)
  })
})
