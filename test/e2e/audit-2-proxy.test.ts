/**
 * Issue 2 acceptance gaps: Azure deployment URLs (api-version, api-key header), openai-compatible
 * hosts under a path prefix, several vendor keys used in turn, /v1/completions, other /v1/* paths
 * forwarded verbatim, non-streamed bodies relayed byte for byte, streams relayed event by event
 * (not buffered) and with backpressure (a client that stops reading stops the vendor's writes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import OpenAI, { toFile } from 'openai'
import { chatChunks, json, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const CLIENT_KEY = 'sk-sb-audit-proxy-client-key-00000001'
const AZ_KEY = 'az-vendor-key-audit-00000000000001'
const RR = ['sk-rr-key-one-000000000001', 'sk-rr-key-two-000000000002', 'sk-rr-key-three-0000000003']

let vendor: StandIn
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(`
providers:
  az: { type: azure, base_url: "${vendor.url}", api_version: 2024-06-01, keys: ["${AZ_KEY}"] }
  az-preview: { type: azure, base_url: "${vendor.url}", api_version: 2025-04-01-preview, keys: ["${AZ_KEY}"] }
  compat: { type: openai-compatible, base_url: "${vendor.url}/compat/v1" }
  rr: { type: openai, base_url: "${vendor.url}/v1", keys: ["${RR[0]}", "${RR[1]}", "${RR[2]}"] }
models:
  az-chat: { targets: [{ provider: az, model: my-deployment }] }
  az-emb: { targets: [{ provider: az, model: emb-deployment }] }
  az-preview-chat: { targets: [{ provider: az-preview, model: my-deployment }] }
  compat-chat: { targets: [{ provider: compat, model: llama-3-8b }] }
  rr-chat: { targets: [{ provider: rr, model: up-rr }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${CLIENT_KEY}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

const msgs: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }]

describe('azure', () => {
  it('chat goes to the deployment URL with api-version and the api-key header, never a bearer', async () => {
    const r = await client.chat.completions.create({ model: 'az-chat', messages: msgs })
    expect(r.choices[0]?.message.content).toBe('Hello from the stand-in')
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/openai/deployments/my-deployment/chat/completions?api-version=2024-06-01')
    expect(seen.headers['api-key']).toBe(AZ_KEY)
    expect(seen.headers.authorization).toBeUndefined()
    expect(seen.json).toEqual({ model: 'my-deployment', messages: msgs })
  })

  it('streamed chat on azure', async () => {
    const stream = await client.chat.completions.create({ model: 'az-chat', stream: true, messages: msgs })
    let text = ''
    for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
    expect(text).toBe('Hello from the stand-in')
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/openai/deployments/my-deployment/chat/completions?api-version=2024-06-01')
    expect(seen.headers['api-key']).toBe(AZ_KEY)
  })

  it("the Responses API goes to Azure's v1 surface (deployment in the body), or to /openai/responses with a dated preview version", async () => {
    const answer = { id: 'resp_az', object: 'response', created_at: 1, status: 'completed', model: 'my-deployment', output: [], usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } }
    vendor.queue.push(json(200, answer), json(200, answer))
    await client.responses.create({ model: 'az-chat', input: 'hi', store: false })
    let seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/openai/v1/responses')
    expect(seen.headers['api-key']).toBe(AZ_KEY)
    expect(seen.json).toEqual({ model: 'my-deployment', input: 'hi', store: false })
    await client.responses.create({ model: 'az-preview-chat', input: 'hi', store: false })
    seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/openai/responses?api-version=2025-04-01-preview')
  })

  it('embeddings on azure use their own deployment', async () => {
    vendor.queue.push(json(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.5] }], model: 'emb', usage: { prompt_tokens: 1, total_tokens: 1 } }))
    const r = await client.embeddings.create({ model: 'az-emb', input: 'x', encoding_format: 'float' })
    expect(r.data[0]?.embedding).toEqual([0.5])
    expect(vendor.received.at(-1)!.path).toBe('/openai/deployments/emb-deployment/embeddings?api-version=2024-06-01')
  })
})

describe('openai-compatible', () => {
  it('keeps the base URL path prefix; without configured keys no credential goes upstream', async () => {
    const r = await client.chat.completions.create({ model: 'compat-chat', messages: msgs })
    expect(r.choices[0]?.message.content).toBe('Hello from the stand-in')
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/compat/v1/chat/completions')
    expect(seen.json?.model).toBe('llama-3-8b')
    expect(seen.headers.authorization).toBeUndefined()
    expect(JSON.stringify(seen.headers)).not.toContain(CLIENT_KEY)
  })
})

describe('vendor keys', () => {
  it('several keys per provider are used in turn', async () => {
    const before = vendor.received.length
    for (let i = 0; i < 6; i++) await client.chat.completions.create({ model: 'rr-chat', messages: msgs })
    const used = vendor.received.slice(before).map((r) => r.headers.authorization)
    const order = used.map((h) => RR.findIndex((k) => h === `Bearer ${k}`))
    expect(order.every((i) => i >= 0)).toBe(true)
    // Each key once per round, in the same order both rounds.
    expect(new Set(order.slice(0, 3)).size).toBe(3)
    expect(order.slice(3)).toEqual(order.slice(0, 3))
  })
})

describe('other endpoints', () => {
  it('/v1/completions maps the model and returns the vendor body', async () => {
    vendor.queue.push(json(200, { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'up-rr', choices: [{ index: 0, text: ' world', logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }))
    const r = await client.completions.create({ model: 'rr-chat', prompt: 'hello' })
    expect(r.choices[0]?.text).toBe(' world')
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/v1/completions')
    expect(seen.json).toEqual({ model: 'up-rr', prompt: 'hello' })
  })

  it('a POST to another /v1/* path is forwarded verbatim with the vendor key', async () => {
    const raw = '{"model":"rr-chat",  "input":"is this ok?" }'
    vendor.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"id":"modr-1" , "results":[{"flagged":false}]}')
    })
    const r = await fetch(`${gw.url}/v1/moderations`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' }, body: raw })
    expect(r.status).toBe(200)
    expect(await r.text()).toBe('{"id":"modr-1" , "results":[{"flagged":false}]}')
    const seen = vendor.received.at(-1)!
    expect(seen.method).toBe('POST')
    expect(seen.path).toBe('/v1/moderations')
    expect(seen.body).toBe(raw)
    expect(String(seen.headers.authorization)).toMatch(/^Bearer sk-rr-key-/)
  })

  it('a GET with a query, its model named in x-switchboard-model, is forwarded verbatim', async () => {
    vendor.queue.push(json(200, { object: 'list', data: [] }))
    const r = await fetch(`${gw.url}/v1/files?purpose=batch&limit=2`, { headers: { authorization: `Bearer ${CLIENT_KEY}`, 'x-switchboard-model': 'rr-chat' } })
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ object: 'list', data: [] })
    const seen = vendor.received.at(-1)!
    expect(seen.method).toBe('GET')
    expect(seen.path).toBe('/v1/files?purpose=batch&limit=2')
    expect(String(seen.headers.authorization)).toMatch(/^Bearer sk-rr-key-/)
  })

  it('a multipart upload (audio transcription through the SDK) is routed by its model field and forwarded byte for byte', async () => {
    vendor.queue.push(json(200, { text: 'the quick brown fox', usage: { type: 'duration', seconds: 3 } }))
    const audio = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256))
    const r = await client.audio.transcriptions.create({ model: 'rr-chat', file: await toFile(audio, 'clip.wav', { type: 'audio/wav' }), language: 'en' })
    expect(r.text).toBe('the quick brown fox')
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/v1/audio/transcriptions')
    expect(String(seen.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/)
    expect(String(seen.headers.authorization)).toMatch(/^Bearer sk-rr-key-/)
    // The file's bytes arrive unchanged inside the form, and the form still names the public model (verbatim).
    expect(seen.raw.indexOf(audio)).toBeGreaterThan(0)
    expect(seen.raw.toString('latin1')).toMatch(/name="model"\r\n\r\nrr-chat\r\n/)
  })

  it('a multipart body naming an unknown model is a 404 naming it; one without a model field asks for one', async () => {
    const form = new FormData()
    form.append('model', 'no-such-model')
    form.append('file', new Blob([new Uint8Array([1, 2, 3])]), 'a.bin')
    const r = await fetch(`${gw.url}/v1/audio/translations`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}` }, body: form })
    expect(r.status).toBe(404)
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain("'no-such-model'")
    const bare = new FormData()
    bare.append('file', new Blob([new Uint8Array([1, 2, 3])]), 'a.bin')
    const r2 = await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}` }, body: bare })
    expect(r2.status).toBe(400)
    expect(((await r2.json()) as { error: { message: string } }).error.message).toContain('x-switchboard-model')
    // A file upload has no model field (OpenAI's files API takes none): the header names it.
    vendor.queue.push(json(200, { id: 'file-1', object: 'file' }))
    const r3 = await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'x-switchboard-model': 'rr-chat' }, body: bare })
    expect(r3.status).toBe(200)
    expect(vendor.received.at(-1)!.raw.includes(Buffer.from([1, 2, 3]))).toBe(true)
  })

  it('on azure a forwarded path gets the api-version and api-key', async () => {
    vendor.queue.push(json(200, { object: 'list', data: [] }))
    const r = await fetch(`${gw.url}/v1/files?purpose=batch`, { headers: { authorization: `Bearer ${CLIENT_KEY}`, 'x-switchboard-model': 'az-chat' } })
    expect(r.status).toBe(200)
    const seen = vendor.received.at(-1)!
    expect(seen.path).toBe('/openai/files?purpose=batch&api-version=2024-06-01')
    expect(seen.headers['api-key']).toBe(AZ_KEY)
  })
})

describe('bodies and streams', () => {
  it("a non-streamed body reaches the client as the vendor's exact bytes (whitespace, key order, unknown fields)", async () => {
    const raw = '{\n  "usage" : {"total_tokens":15,"prompt_tokens":10,  "completion_tokens":5},\n\t"zz_vendor_extra": [1, 2.50, "\\u00e9"],\n  "id":"chatcmpl-raw", "object":"chat.completion","created":1,"model":"up-rr",\n  "choices":[{"index":0,"message":{"role":"assistant","content":"caf\\u00e9"},"finish_reason":"stop"}]\n}\n'
    vendor.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(raw)
    })
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'rr-chat', messages: msgs }) })
    expect(r.status).toBe(200)
    expect(await r.text()).toBe(raw)
  })

  it('a non-streamed embeddings body is relayed byte for byte too', async () => {
    const raw = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.10,-2e-3]}],"model":"emb","usage":{"prompt_tokens":1,"total_tokens":1}}'
    vendor.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(raw)
    })
    const r = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'az-emb', input: 'x' }) })
    expect(await r.text()).toBe(raw)
  })

  it('stream events are relayed as they arrive: the client reads the first before the vendor writes the second', async () => {
    let release: () => void = () => {}
    const released = new Promise<void>((r) => (release = r))
    const chunks = chatChunks(['first ', 'second'], 'up-rr')
    vendor.queue.push(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`data: ${JSON.stringify(chunks[0])}\n\n`)
      res.write(`data: ${JSON.stringify(chunks[1])}\n\n`)
      await released
      for (const c of chunks.slice(2)) res.write(`data: ${JSON.stringify(c)}\n\n`)
      res.end('data: [DONE]\n\n')
    })
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'rr-chat', stream: true, messages: msgs }) })
    const reader = r.body!.getReader()
    const dec = new TextDecoder()
    let seen = ''
    // Bounded: the vendor holds back everything after 'first ' until we release it.
    for (let i = 0; i < 100 && !seen.includes('first '); i++) {
      const { value, done } = await reader.read()
      if (done) break
      seen += dec.decode(value, { stream: true })
    }
    expect(seen).toContain('"content":"first "')
    expect(seen).not.toContain('second')
    release()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      seen += dec.decode(value, { stream: true })
    }
    expect(seen).toContain('"content":"second"')
    expect(seen.trimEnd().endsWith('data: [DONE]')).toBe(true)
  })

  it('events arriving in one vendor chunk reach the client as their exact bytes, less the comment and the usage chunk it did not ask for', async () => {
    const [role, a, b, stop, usage] = chatChunks(['a ', 'b'], 'up-rr').map((c) => `data: ${JSON.stringify(c)}\n\n`)
    // Odd spacing and a CRLF blank line are the vendor's; the gateway relays them untouched. The
    // usage chunk (added because the gateway asks for usage) sits between two events it relays.
    const odd = `data:${a!.slice(5, -2)}\r\n\r\n`
    vendor.queue.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(`${role}${odd}: keep-alive\n\n${b}${usage}${stop}data: [DONE]\n\n`)
    })
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'rr-chat', stream: true, messages: msgs }) })
    expect(await r.text()).toBe(`${role}${odd}${b}${stop}data: [DONE]\n\n`)
  })

  it('backpressure: a client that stops reading stops the vendor writing; resumed, every byte arrives', async () => {
    const EVENT = `data: ${JSON.stringify(chatChunks(['x'.repeat(64 * 1024)], 'up-rr')[1])}\n\n`
    const TOTAL_EVENTS = 1024 // 64 MiB if nothing pushed back
    let written = 0
    let finished = false
    vendor.queue.push(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (let i = 0; i < TOTAL_EVENTS && !res.destroyed; i++) {
        written += EVENT.length
        if (!res.write(EVENT)) {
          await new Promise<void>((r) => {
            const go = () => { res.off('drain', go); res.off('close', go); r() }
            res.on('drain', go)
            res.on('close', go)
          })
        }
      }
      res.end('data: [DONE]\n\n')
      finished = true
    })
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' } }, resolve)
      req.on('error', reject)
      req.end(JSON.stringify({ model: 'rr-chat', stream: true, messages: msgs }))
    })
    expect(res.statusCode).toBe(200)
    res.pause()
    // Wait (bounded) until the vendor's writes stop advancing while the client reads nothing.
    let last = -1
    let still = 0
    for (let i = 0; i < 400 && still < 10 && !finished; i++) {
      await new Promise((r) => setTimeout(r, 25))
      still = written === last ? still + 1 : 0
      last = written
    }
    expect(finished).toBe(false)
    expect(written).toBeLessThan(TOTAL_EVENTS * EVENT.length / 2)
    let received = 0
    res.on('data', (c: Buffer) => { received += c.length })
    await new Promise<void>((resolve) => { res.on('end', resolve); res.resume() })
    expect(finished).toBe(true)
    // Every vendor event reached the client (usage-less chunks pass as they are).
    expect(received).toBeGreaterThanOrEqual(TOTAL_EVENTS * EVENT.length)
  })
})
