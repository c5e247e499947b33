/**
 * A client that leaves a stream (or a vendor that cuts it) leaves the gateway to count the prompt
 * itself, with tiktoken, on the event loop. tiktoken's BPE is quadratic in the length of one
 * pre-tokenizer piece: a 150 KB message of one letter held the loop (every tenant, /healthz) for
 * 20 s. Through the real gateway and a stand-in that stalls: what the tokenizer is handed is
 * bounded (no piece over SEGMENT_CHARS, at most SAMPLE_BYTES in all), whatever the prompt, and the
 * ledger still records a sensible estimate.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { readFileSync } from 'node:fs'
import { chatChunks, openAIChat, startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, ledgerRecord } from './ledger-support.ts'
import { preloadEncoder, SAMPLE_BYTES, SEGMENT_CHARS } from '../../src/accounting/estimate-usage.ts'

// Every string the gateway hands the tokenizer, as it hands it.
const handed = vi.hoisted(() => [] as string[])
vi.mock('tiktoken', async (importOriginal) => {
  const real = await importOriginal<typeof import('tiktoken')>()
  return {
    ...real,
    get_encoding: (name: Parameters<typeof real.get_encoding>[0]) => {
      const enc = real.get_encoding(name)
      return {
        encode_ordinary(text: string) {
          handed.push(text)
          return enc.encode_ordinary(text)
        },
      }
    },
  }
})

const KEY = 'sk-sb-estimate-bounded-0001'

const stall: Handler = (req, res) => {
  if (!req.json?.stream) return openAIChat()(req, res)
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.write(`data: ${JSON.stringify(chatChunks(['one '])[0])}\n\ndata: ${JSON.stringify(chatChunks(['one '])[1])}\n\n`)
  // never ends: the client's abort ends the call, with no usage from the vendor
}

let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  vendor = await startStandIn(stall)
  gw = await startTestGateway(`
server: { admin_keys: ["${ADMIN_KEY}"] }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] } }
models: { m: { targets: [{ provider: up, model: gpt-4o }] } }
routing: { retries: { max_attempts: 1 } }
teams: { t: { keys: { k: { key: ${KEY} } } } }
`)
  // As the CLI does at start-up: the one-time load is not what is measured here.
  await preloadEncoder()
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

/** Streams the messages, reads the first chunk, leaves; resolves once the vendor saw the abort. */
async function abandon(requestId: string, messages: unknown[]): Promise<void> {
  const ac = new AbortController()
  const seen = vendor.received.length
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', signal: ac.signal,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model: 'm', stream: true, messages }),
  })
  expect(res.status).toBe(200)
  await res.body!.getReader().read()
  ac.abort()
  await vendor.received[seen]!.aborted
}

describe('usage estimates of abandoned calls are bounded work', () => {
  it('a long run of one letter, then ordinary text: no piece over the bound, the sample capped, a sensible count', async () => {
    const code = readFileSync(new URL('../../src/pipeline/handle-call.ts', import.meta.url), 'utf8')
    let prose = ''
    while (prose.length < 300_000) prose += code
    const run = 'a'.repeat(60_000)
    handed.length = 0
    // The event loop is sampled meanwhile: before the fix, the run alone held it for seconds.
    let last = performance.now()
    let maxGap = 0
    const tick = setInterval(() => {
      const now = performance.now()
      maxGap = Math.max(maxGap, now - last)
      last = now
    }, 5)
    try {
      await abandon('est-bounded-1', [{ role: 'user', content: 'read these files' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: `${run} ${prose}` }])
      const rec = await ledgerRecord(gw.url, 'est-bounded-1')
      expect(rec).toMatchObject({ status: 499, estimated: true, client_aborted: true })

      expect(handed.length).toBeGreaterThan(0)
      expect(Math.max(...handed.map((t) => t.length))).toBeLessThanOrEqual(SEGMENT_CHARS)
      expect(handed.reduce((n, t) => n + Buffer.byteLength(t), 0)).toBeLessThanOrEqual(SAMPLE_BYTES)
      // The code counts ~4 characters a token (about 3.6 measured for this source), the run ~8 a token.
      const chars = run.length + prose.length
      expect(rec.input_tokens).toBeGreaterThan(chars / 5)
      expect(rec.input_tokens).toBeLessThan(chars / 3)
    } finally {
      clearInterval(tick)
    }
    // Loose on a shared machine; without the bound this was seconds.
    expect(maxGap).toBeLessThan(500)
  })

  it('text that is one pre-tokenizer piece however long (CJK without spaces, spaces, "/" and newlines) is cut too', async () => {
    handed.length = 0
    await abandon('est-bounded-2', [
      { role: 'system', content: '漢字かなカナ한국어'.repeat(5000) },
      { role: 'user', content: ' '.repeat(50_000) },
      { role: 'user', content: `!${'/\n'.repeat(25_000)}` },
    ])
    const rec = await ledgerRecord(gw.url, 'est-bounded-2')
    expect(rec).toMatchObject({ status: 499, estimated: true })
    expect(Math.max(...handed.map((t) => t.length))).toBeLessThanOrEqual(SEGMENT_CHARS)
    expect(handed.reduce((n, t) => n + Buffer.byteLength(t), 0)).toBeLessThanOrEqual(SAMPLE_BYTES)
    expect(rec.input_tokens).toBeGreaterThan(10_000)
  })

  it('a short prompt is still counted exactly', async () => {
    handed.length = 0
    const prompt = 'Count slowly from one to twenty, please.'
    await abandon('est-bounded-3', [{ role: 'user', content: prompt }])
    const rec = await ledgerRecord(gw.url, 'est-bounded-3')
    expect(handed).toEqual([prompt])
    const { get_encoding } = await vi.importActual<typeof import('tiktoken')>('tiktoken')
    const enc = get_encoding('o200k_base')
    expect(rec.input_tokens).toBe(3 + 3 + enc.encode_ordinary(prompt).length)
    enc.free()
  })
})
