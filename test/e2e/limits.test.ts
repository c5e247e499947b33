/**
 * Rate limits through the real gateway, the same suite on the in-memory backend and on the real
 * Redis at 127.0.0.1:6379 (a fresh key prefix per run): exact counts, headers and error bodies,
 * token reservations settled to the vendor's real usage, concurrency slots released after client
 * aborts and upstream timeouts, every scope, and vendor limits per target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startStandIn, openAIChat, chatChunks, type StandIn, type Handler } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { REDIS_URL, awayFromBoundary, redisAvailable, sleep } from '../unit/limits/support.ts'

const K = {
  rpm: 'sk-sb-rpm-bot', tok: 'sk-sb-tok-bot', conc: 'sk-sb-conc-bot', teamA: 'sk-sb-team-a', teamB: 'sk-sb-team-b',
  km1: 'sk-sb-km-1', km2: 'sk-sb-km-2', tm1: 'sk-sb-tm-1', tm2: 'sk-sb-tm-2', free: 'sk-sb-free', up: 'sk-sb-up',
}

/** Upstream models choose the stand-in's behaviour: stall forever, or one chunk and then stall. */
const vendorHandler = (): Handler => {
  const chat = openAIChat()
  return (req, res) => {
    const model = String(req.json?.model)
    if (model === 'stall') return
    if (model === 'stall-stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`data: ${JSON.stringify(chatChunks(['one '])[0])}\n\n`)
      return
    }
    return chat(req, res)
  }
}

const config = (vendorUrl: string, redisUrl: string) => `
redis: { url: "${redisUrl}", key_prefix: "sbtest:${runId()}:" }
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"] }
  slow: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"], timeouts: { first_byte_ms: 300 } }
  vendor-a: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"] }
  vendor-b: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }] }
  gpt-other: { targets: [{ provider: up, model: upstream-model }] }
  gpt-limited: { targets: [{ provider: up, model: upstream-model }], limits: { rpm: 2 } }
  gpt-stall: { targets: [{ provider: up, model: stall }] }
  gpt-stall-stream: { targets: [{ provider: up, model: stall-stream }] }
  gpt-timeout: { targets: [{ provider: slow, model: stall }] }
  gpt-spread:
    targets:
      - { provider: vendor-a, model: spread-a, weight: 1, rpm: 2 }
      - { provider: vendor-b, model: spread-b, weight: 0 }
  gpt-spread-tokens:
    targets:
      - { provider: vendor-a, model: tokens-a, weight: 1, tpm: 20 }
      - { provider: vendor-b, model: tokens-b, weight: 0 }
routing: { retries: { max_attempts: 1 } }
teams:
  rpm-team: { keys: { rpm-bot: { key: ${K.rpm}, limits: { rpm: 3 } } } }
  tok-team: { keys: { tok-bot: { key: ${K.tok}, limits: { tpm: 1000 } } } }
  conc-team: { keys: { conc-bot: { key: ${K.conc}, limits: { concurrency: 1 } } } }
  team-t:
    limits: { rpm: 2 }
    keys: { a: { key: ${K.teamA} }, b: { key: ${K.teamB} } }
  km-team: { keys: { km1: { key: ${K.km1} }, km2: { key: ${K.km2} } } }
  tm-team:
    model_limits: { "gpt-te*": { rpm: 1 } }
    keys: { tm1: { key: ${K.tm1} }, tm2: { key: ${K.tm2} } }
  free-team: { keys: { free: { key: ${K.free} }, up: { key: ${K.up} } } }
`

interface Reply { status: number; headers: Headers; text: string; json: { error?: { message: string; type: string; param: null; code: string } } }

async function chat(gw: TestGateway, key: string, body: string): Promise<Reply> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body })
  const text = await r.text()
  return { status: r.status, headers: r.headers, text, json: (r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : {}) as Reply['json'] }
}
const body = (model: string, extra = '') => `{"model":"${model}","messages":[{"role":"user","content":"hi"}]${extra}}`
const estimate = (b: string) => Math.ceil((Buffer.byteLength(b) * 0.9) / 4)
const ratelimitHeaders = (h: Headers) => Object.fromEntries([...h.entries()].filter(([k]) => k.startsWith('x-ratelimit-') || k === 'retry-after'))
const RESET = /^(\d+ms|\d+(\.\d+)?s|1m0s)$/
const resetMs = (v: string | null): number => (v === null ? NaN : v.endsWith('ms') ? Number(v.slice(0, -2)) : v === '1m0s' ? 60_000 : Number(v.slice(0, -1)) * 1000)

/** Polls (bounded) until the request is admitted: settlement of an aborted call happens asynchronously. */
async function admittedWithin(ms: number, attempt: () => Promise<Reply>): Promise<Reply> {
  const until = Date.now() + ms
  let last = await attempt()
  while (last.status === 429 && Date.now() < until) {
    await sleep(25)
    last = await attempt()
  }
  return last
}

for (const backend of ['memory', 'redis'] as const) {
  describe.skipIf(backend === 'redis' && !redisAvailable)(`rate limits (${backend})`, () => {
    let vendor: StandIn
    let gw: TestGateway

    beforeAll(async () => {
      vendor = await startStandIn(vendorHandler())
      gw = await startTestGateway(config(vendor.url, backend === 'redis' ? REDIS_URL : ''))
    })
    afterAll(async () => {
      await gw?.stop()
      await vendor?.close()
    })

    it('admits exactly N per minute with exact headers, then 429 with the exact body and retry-after', async () => {
      await awayFromBoundary(60_000, 5000)
      for (const remaining of ['2', '1', '0']) {
        const r = await chat(gw, K.rpm, body('gpt-test'))
        expect(r.status).toBe(200)
        expect(r.headers.get('x-ratelimit-limit-requests')).toBe('3')
        expect(r.headers.get('x-ratelimit-remaining-requests')).toBe(remaining)
        expect(r.headers.get('x-ratelimit-reset-requests')).toMatch(RESET)
        expect(resetMs(r.headers.get('x-ratelimit-reset-requests'))).toBeLessThanOrEqual(60_000)
        expect(r.headers.get('x-ratelimit-limit-tokens')).toBeNull()
      }
      const before = vendor.received.length
      const r = await chat(gw, K.rpm, body('gpt-test'))
      expect(r.status).toBe(429)
      const retry = r.headers.get('retry-after')!
      expect(Number(retry)).toBeGreaterThanOrEqual(1)
      expect(Number(retry)).toBeLessThanOrEqual(60)
      expect(r.json).toEqual({ error: { message: `Rate limit of 3 requests per minute reached for key rpm-bot (team rpm-team). Retry after ${retry} s.`, type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } })
      expect(r.headers.get('x-ratelimit-limit-requests')).toBe('3')
      expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0')
      expect(Math.ceil(resetMs(r.headers.get('x-ratelimit-reset-requests')) / 1000)).toBe(Number(retry))
      expect(vendor.received.length).toBe(before)

      // What an SDK user sees: a RateLimitError carrying the same code and retry-after.
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: K.rpm, maxRetries: 0 })
      const err = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.RateLimitError)
      expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded')
      expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toMatch(/^\d+$/)
    })

    it('reserves prompt estimate + max_tokens and settles to the real usage, so more requests fit', async () => {
      await awayFromBoundary(60_000, 5000)
      const b = body('gpt-test', ',"max_tokens":400')
      const reserve = estimate(b) + 400
      expect(3 * reserve).toBeGreaterThan(1000) // without settlement the third would be refused
      // The stand-in reports 10 prompt + 5 completion tokens for every call (streamed or not).
      for (let i = 0; i < 5; i++) {
        const r = i === 2 ? await chat(gw, K.tok, body('gpt-test', ',"max_tokens":400,"stream":true')) : await chat(gw, K.tok, b)
        expect(r.status).toBe(200)
        const reservedNow = i === 2 ? estimate(body('gpt-test', ',"max_tokens":400,"stream":true')) + 400 : reserve
        expect(ratelimitHeaders(r.headers)).toEqual({
          'x-ratelimit-limit-tokens': '1000',
          'x-ratelimit-remaining-tokens': String(1000 - 15 * i - reservedNow),
          'x-ratelimit-reset-tokens': r.headers.get('x-ratelimit-reset-tokens'),
        })
        expect(r.headers.get('x-ratelimit-reset-tokens')).toMatch(RESET)
        await sleep(20) // Redis settlement is sent after the response; keep the arithmetic exact
      }
      const big = body('gpt-test', ',"max_tokens":940')
      const r = await chat(gw, K.tok, big)
      expect(r.status).toBe(429)
      const retry = r.headers.get('retry-after')
      expect(r.json.error).toEqual({ message: `Rate limit of 1000 tokens per minute reached for key tok-bot (team tok-team): 75 used, this request reserves ${estimate(big) + 940} (estimated prompt plus max output tokens). Retry after ${retry} s.`, type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' })
      expect(r.headers.get('x-ratelimit-remaining-tokens')).toBe('925')
      expect(r.headers.get('x-should-retry')).toBeNull() // this one fits once the window moves
    })

    it('a request larger than the token limit itself says so, and tells SDKs not to retry it', async () => {
      const huge = body('gpt-test', ',"max_tokens":2000')
      const r = await chat(gw, K.tok, huge)
      expect(r.status).toBe(429)
      expect(r.json.error?.message).toBe(`Request too large for key tok-bot (team tok-team): it reserves ${estimate(huge) + 2000} tokens (estimated prompt plus max output tokens) and the limit is 1000 tokens per minute. Lower max_tokens or shorten the prompt.`)
      expect(r.headers.get('x-should-retry')).toBe('false')
    })

    it('releases the concurrency slot when the client aborts mid-stream', async () => {
      const ac = new AbortController()
      const seen = vendor.received.length
      const streaming = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', signal: ac.signal, headers: { authorization: `Bearer ${K.conc}`, 'content-type': 'application/json' }, body: body('gpt-stall-stream', ',"stream":true') })
      const res = await streaming
      expect(res.status).toBe(200)
      const reader = res.body!.getReader()
      const first = await reader.read()
      expect(Buffer.from(first.value!).toString()).toContain('chat.completion.chunk')

      const busy = await chat(gw, K.conc, body('gpt-test'))
      expect(busy.status).toBe(429)
      expect(busy.json.error?.message).toBe('Rate limit of 1 concurrent requests reached for key conc-bot (team conc-team). Retry after 1 s.')
      expect(busy.headers.get('retry-after')).toBe('1')

      ac.abort()
      await vendor.received[seen]!.aborted
      const after = await admittedWithin(2000, () => chat(gw, K.conc, body('gpt-test')))
      expect(after.status).toBe(200)
    })

    it('releases the slot when the client aborts before the first byte', async () => {
      const ac = new AbortController()
      const seen = vendor.received.length
      const pending = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', signal: ac.signal, headers: { authorization: `Bearer ${K.conc}`, 'content-type': 'application/json' }, body: body('gpt-stall') }).catch(() => undefined)
      for (let i = 0; i < 100 && vendor.received.length === seen; i++) await sleep(10)
      expect((await chat(gw, K.conc, body('gpt-test'))).status).toBe(429)
      ac.abort()
      await pending
      await vendor.received[seen]!.aborted
      expect((await admittedWithin(2000, () => chat(gw, K.conc, body('gpt-test')))).status).toBe(200)
    })

    it('releases the slot after an upstream timeout', async () => {
      const r = await chat(gw, K.conc, body('gpt-timeout'))
      expect(r.status).toBe(504)
      expect(r.json.error?.code).toBe('upstream_timeout')
      expect((await admittedWithin(2000, () => chat(gw, K.conc, body('gpt-test')))).status).toBe(200)
    })

    it('enforces the team limit across its keys', async () => {
      await awayFromBoundary(60_000, 5000)
      expect((await chat(gw, K.teamA, body('gpt-test'))).status).toBe(200)
      expect((await chat(gw, K.teamB, body('gpt-test'))).status).toBe(200)
      const r = await chat(gw, K.teamA, body('gpt-other'))
      expect(r.status).toBe(429)
      expect(r.json.error?.message).toBe(`Rate limit of 2 requests per minute reached for team team-t. Retry after ${r.headers.get('retry-after')} s.`)
    })

    it("enforces models.<m>.limits per key (each caller of the model has its own)", async () => {
      await awayFromBoundary(60_000, 5000)
      expect((await chat(gw, K.km1, body('gpt-limited'))).status).toBe(200)
      expect((await chat(gw, K.km1, body('gpt-limited'))).status).toBe(200)
      const r = await chat(gw, K.km1, body('gpt-limited'))
      expect(r.status).toBe(429)
      expect(r.json.error?.message).toBe(`Rate limit of 2 requests per minute reached for key km1 (team km-team) on model gpt-limited. Retry after ${r.headers.get('retry-after')} s.`)
      expect((await chat(gw, K.km1, body('gpt-test'))).status).toBe(200)
      expect((await chat(gw, K.km2, body('gpt-limited'))).status).toBe(200)
    })

    it('enforces teams.<t>.model_limits on the matching models only', async () => {
      await awayFromBoundary(60_000, 5000)
      expect((await chat(gw, K.tm1, body('gpt-test'))).status).toBe(200)
      const r = await chat(gw, K.tm2, body('gpt-test'))
      expect(r.status).toBe(429)
      expect(r.json.error?.message).toBe(`Rate limit of 1 requests per minute reached for team tm-team on model gpt-test. Retry after ${r.headers.get('retry-after')} s.`)
      expect((await chat(gw, K.tm2, body('gpt-other'))).status).toBe(200)
    })

    it('no limits for the caller: no rate-limit headers', async () => {
      const r = await chat(gw, K.free, body('gpt-test'))
      expect(r.status).toBe(200)
      expect(ratelimitHeaders(r.headers)).toEqual({})
    })

    it("spreads load away from a target at its vendor's rpm", async () => {
      await awayFromBoundary(60_000, 5000)
      const providers: Array<string | null> = []
      for (let i = 0; i < 4; i++) {
        const r = await chat(gw, K.up, body('gpt-spread'))
        expect(r.status).toBe(200)
        providers.push(r.headers.get('x-switchboard-provider'))
      }
      expect(providers).toEqual(['vendor-a', 'vendor-a', 'vendor-b', 'vendor-b'])
    })

    it("spreads load away from a target at its vendor's tpm (real usage)", async () => {
      await awayFromBoundary(60_000, 5000)
      const providers: Array<string | null> = []
      for (let i = 0; i < 3; i++) {
        const r = await chat(gw, K.up, body('gpt-spread-tokens'))
        expect(r.status).toBe(200)
        providers.push(r.headers.get('x-switchboard-provider'))
      }
      // 15 tokens per call: under 20 after the first, at 30 after the second.
      expect(providers).toEqual(['vendor-a', 'vendor-a', 'vendor-b'])
    })
  })
}
