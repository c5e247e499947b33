/**
 * /v1/messages/count_tokens on a vendor without it is answered by the gateway's estimate; OpenAI
 * embeddings reach Gemini as batchEmbedContents and come back in OpenAI's shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { startStandIn, json, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { estimatePromptTokens } from '../../src/pipeline/estimate.ts'

let vendor: StandIn
let gw: TestGateway
const KEY = 'sk-sb-ct'

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(`
providers:
  oa: { type: openai, base_url: ${vendor.url}/v1, keys: [k] }
  gem: { type: gemini, base_url: ${vendor.url}, keys: [gkey-123] }
models:
  gpt: { targets: [{ provider: oa, model: gpt-4o-mini }] }
  gem-embed: { targets: [{ provider: gem, model: text-embedding-004 }] }
teams: { t: { keys: { k: { key: ${KEY} } } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

describe('count_tokens on a foreign vendor', () => {
  it('answers locally with the estimate, without calling the vendor', async () => {
    const before = vendor.received.length
    const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 })
    const body = { model: 'gpt', messages: [{ role: 'user' as const, content: 'How many tokens is this sentence, roughly?' }] }
    const r = await client.messages.countTokens(body)
    expect(r.input_tokens).toBe(estimatePromptTokens(Buffer.from(JSON.stringify(body))))
    expect(r.input_tokens).toBeGreaterThan(0)
    expect(vendor.received.length).toBe(before)
  })
})

describe('embeddings on Gemini', () => {
  it('batchEmbedContents out, OpenAI list back', async () => {
    vendor.queue.push(json(200, { embeddings: [{ values: [0.1, 0.2, 0.3] }, { values: [0.4, 0.5, 0.6] }] }))
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
    const r = await client.embeddings.create({ model: 'gem-embed', input: ['first text', 'second'], encoding_format: 'float' })
    expect(r.data.map((d) => [d.index, d.embedding])).toEqual([[0, [0.1, 0.2, 0.3]], [1, [0.4, 0.5, 0.6]]])
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/v1beta/models/text-embedding-004:batchEmbedContents')
    expect(seen.headers['x-goog-api-key']).toBe('gkey-123')
    expect(seen.json).toEqual({
      requests: [
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'first text' }] } },
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'second' }] } },
      ],
    })
    expect(r.usage.prompt_tokens).toBeGreaterThan(0)
  })
})
