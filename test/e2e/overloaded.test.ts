/**
 * A vendor that stays overloaded through every attempt: OpenAI clients get 502 upstream_error
 * (spec section 5); Anthropic clients get what Anthropic itself sends, 529 overloaded_error, which
 * Claude Code handles apart from other failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { json, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-overloaded-key-00001'
let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  vendor = await startStandIn(json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))
  gw = await startTestGateway(`
providers: { ant: { type: anthropic, base_url: "${vendor.url}", keys: ["sk-ant-vendor-overloaded"] } }
models: { claude: { targets: [{ provider: ant, model: claude-sonnet-4-5 }] } }
routing: { retries: { max_attempts: 2, backoff_ms: 1, max_backoff_ms: 2 }, circuit_breaker: { failures: 1000 } }
teams: { t: { keys: { k: { key: "${KEY}" } } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

describe('a vendor overloaded on every attempt', () => {
  it('an Anthropic client gets 529 overloaded_error', async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 })
    const err = await client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529)
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } })
  })

  it('an OpenAI client gets 502 upstream_error', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
    const err = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502)
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_error')
  })
})
