/**
 * Base64 images are not prompt text in the reservations. The estimate counted every byte of a
 * request at about four to a token, so four 440 KB screenshots (3,520 tokens at the vendor)
 * reserved 400,188 tokens and were refused forever against tpm 400000 ("Request too large"), and
 * three of them were refused by a $0.50 per-run cap as "up to $0.7837". Through the real gateway,
 * the official OpenAI SDK and a stand-in vendor; Anthropic's base64 image blocks on /v1/messages too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { randomBytes } from 'node:crypto'
import { chatCompletion, json, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-media-estimate-0001'
let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  vendor = await startStandIn(json(200, chatCompletion('I see the screenshots', 'gpt-4o', { prompt_tokens: 3500, completion_tokens: 20, total_tokens: 3520 })))
  gw = await startTestGateway(`
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] } }
models: { gpt-4o: { targets: [{ provider: up, model: gpt-4o }] } }
teams:
  research:
    limits: { rpm: 600, tpm: 400000, concurrency: 32 }
    budget: { usd: 500, period: monthly, per_run_usd: 0.5 }
    keys: { k: { key: ${KEY} } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

// A PNG's worth of random base64: 440 KB each, as the screenshots of the report.
const png = () => randomBytes(330_000).toString('base64')

describe('base64 images in reservations', () => {
  it('four 440 KB screenshots pass a 400,000 tpm team limit, reserving a few thousand tokens', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
    const images = [png(), png(), png(), png()]
    const content = [{ type: 'text' as const, text: 'What changed between these screenshots?' }, ...images.map((b) => ({ type: 'image_url' as const, image_url: { url: `data:image/png;base64,${b}` } }))]
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', max_tokens: 4096, messages: [{ role: 'user', content }] }).withResponse()
    expect(data.usage?.prompt_tokens).toBe(3500)
    // What this call reserved: four images at 1,600 tokens, the text, 4,096 output.
    const reserved = 400_000 - Number(response.headers.get('x-ratelimit-remaining-tokens'))
    expect(reserved).toBeGreaterThan(4 * 1600 + 4096)
    expect(reserved).toBeLessThan(4 * 1600 + 4096 + 200)
    // The vendor got the images as sent.
    expect(vendor.received.at(-1)!.body).toContain(images[3])
  })

  it("three screenshots in an agent run fit its $0.50 cap (priced at their image allowance, not their bytes)", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
    const content = [{ type: 'text' as const, text: 'Compare.' }, ...[png(), png(), png()].map((b) => ({ type: 'image_url' as const, image_url: { url: `data:image/jpeg;base64,${b}` } }))]
    const r = await client.chat.completions.create({ model: 'gpt-4o', max_tokens: 4096, messages: [{ role: 'user', content }] }, { headers: { 'x-switchboard-run-id': 'run-media-a' } })
    expect(r.choices[0]!.message.content).toBe('I see the screenshots')
  })

  it("Anthropic base64 image blocks on /v1/messages are counted the same way", async () => {
    const block = () => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png() } })
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', max_tokens: 4096, messages: [{ role: 'user', content: [block(), block(), block(), block(), { type: 'text', text: 'What changed?' }] }] }),
    })
    expect(res.status).toBe(200)
    // The earlier calls of this minute count too (3,520 each, settled): still far from the bytes' 400,000.
    expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThan(400_000 - 30_000)
    expect(((await res.json()) as { type: string }).type).toBe('message')
  })
})
