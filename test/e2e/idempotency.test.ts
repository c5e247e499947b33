/**
 * Idempotency-Key end to end: duplicates in flight wait for the first and get its response (one
 * vendor call), later ones replay it, a different request under the same key is a 409, a failed
 * first releases the key. In memory, in Redis, and across two gateways sharing one Redis.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStandIn, json, sse, chatChunks, chatCompletion, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { REDIS_URL, redisAvailable } from '../helpers/services.ts'

const redisUp = redisAvailable

async function redisReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (!(await (await fetch(`${url}/readyz`)).text()).includes('"redis":"down"')) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('the gateway never connected to Redis')
}

const KEY_A = 'sk-sb-idem-a'
const KEY_B = 'sk-sb-idem-b'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The cache itself stays off: Idempotency-Key works without it. */
const configYaml = (vendorUrl: string, redisUrl: string, prefix: string) => `
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor"] }
models:
  gpt: { targets: [{ provider: up, model: upstream-model }] }
routing: { retries: { max_attempts: 1 } }
store: { url: "sqlite::memory:" }
redis: { url: "${redisUrl}", key_prefix: "${prefix}" }
teams:
  a: { keys: { a1: { key: "${KEY_A}" } } }
  b: { keys: { b1: { key: "${KEY_B}" } } }
`

/** A vendor that answers after a delay, so duplicates overlap the first. */
const slow = (ms: number, handler: Handler): Handler => async (req, res) => {
  await sleep(ms)
  await handler(req, res)
}

for (const backend of ['memory', 'redis'] as const) {
  describe.skipIf(backend === 'redis' && !redisUp)(`Idempotency-Key (${backend})`, () => {
    let vendor: StandIn
    let gw: TestGateway
    let gw2: TestGateway | undefined

    beforeAll(async () => {
      vendor = await startStandIn()
      const prefix = `sbtest:${runId()}:`
      gw = await startTestGateway(configYaml(vendor.url, backend === 'redis' ? REDIS_URL : '', prefix))
      if (backend === 'redis') {
        // A second replica on the same Redis and prefix.
        gw2 = await startTestGateway(configYaml(vendor.url, REDIS_URL, prefix))
        await redisReady(gw.url)
        await redisReady(gw2.url)
      }
    })
    afterAll(async () => {
      await gw?.stop()
      await gw2?.stop()
      await vendor?.close()
    })

    const seen = (nonce: string) => vendor.received.filter((r) => r.body.includes(nonce)).length
    const call = async (opts: { key: string; content: string; stream?: boolean; client?: string; url?: string; temperature?: number }) => {
      const r = await fetch(`${opts.url ?? gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.client ?? KEY_A}`, 'content-type': 'application/json', 'idempotency-key': opts.key },
        body: JSON.stringify({ model: 'gpt', temperature: opts.temperature ?? 0.8, stream: opts.stream, messages: [{ role: 'user', content: opts.content }] }),
      })
      return { status: r.status, text: await r.text(), replay: r.headers.get('x-switchboard-idempotent-replay'), cache: r.headers.get('x-switchboard-cache') }
    }

    it('concurrent duplicates: one vendor call, every caller gets the same body', async () => {
      const n = randomUUID()
      const key = randomUUID()
      vendor.queue.push(slow(300, json(200, chatCompletion(`answer ${n}`))))
      const results = await Promise.all([call({ key, content: n }), sleep(50).then(() => call({ key, content: n })), sleep(100).then(() => call({ key, content: n }))])
      expect(seen(n)).toBe(1)
      expect(results.map((r) => r.status)).toEqual([200, 200, 200])
      expect(results[1]!.text).toBe(results[0]!.text)
      expect(results[2]!.text).toBe(results[0]!.text)
      expect(JSON.parse(results[0]!.text)).toEqual(chatCompletion(`answer ${n}`))
      expect(results.map((r) => r.replay)).toEqual([null, 'true', 'true'])
      expect(results.map((r) => r.cache)).toEqual(['miss', 'hit', 'hit'])

      // Completed: a later retry replays without a vendor call.
      await sleep(60)
      const later = await call({ key, content: n })
      expect(later.text).toBe(results[0]!.text)
      expect(later.replay).toBe('true')
      expect(seen(n)).toBe(1)
    })

    it('streams: the duplicate gets the same frames', async () => {
      const n = randomUUID()
      const key = randomUUID()
      vendor.queue.push(sse(chatChunks(['one ', 'two ', 'three']), { delayMs: 80 }))
      const [a, b] = await Promise.all([call({ key, content: n, stream: true }), sleep(50).then(() => call({ key, content: n, stream: true }))])
      expect(seen(n)).toBe(1)
      expect(b.text).toBe(a.text)
      expect(a.text).toContain('"content":"two "')
      expect(b.replay).toBe('true')
    })

    it('the same key with a different request is a 409, in flight and after', async () => {
      const n = randomUUID()
      const key = randomUUID()
      vendor.queue.push(slow(200, json(200, chatCompletion(`first ${n}`))))
      const [first, other] = await Promise.all([call({ key, content: n }), sleep(50).then(() => call({ key, content: `${n} but different` }))])
      expect(first.status).toBe(200)
      expect(other.status).toBe(409)
      const err = JSON.parse(other.text) as { error: { code: string; message: string; param: string } }
      expect(err.error.code).toBe('idempotency_conflict')
      expect(err.error.param).toBe('Idempotency-Key')
      expect(err.error.message).toContain('already used with a different request')
      await sleep(60)
      const after = await call({ key, content: n, temperature: 0.1 })
      expect(after.status).toBe(409)
      expect(seen(n)).toBe(1)
    })

    it('keys are scoped per team', async () => {
      const n = randomUUID()
      const key = randomUUID()
      const a = await call({ key, content: n })
      await sleep(60)
      const b = await call({ key, content: n, client: KEY_B })
      expect([a.status, b.status]).toEqual([200, 200])
      expect([a.replay, b.replay]).toEqual([null, null])
      expect(seen(n)).toBe(2)
    })

    it('a failed first releases the key: the waiting duplicate runs itself', async () => {
      const n = randomUUID()
      const key = randomUUID()
      vendor.queue.push(slow(200, json(500, { error: { message: 'vendor down', type: 'server_error', code: null } })))
      vendor.queue.push(json(200, chatCompletion(`second try ${n}`)))
      const [first, dup] = await Promise.all([call({ key, content: n }), sleep(50).then(() => call({ key, content: n }))])
      expect(first.status).toBe(502)
      expect(dup.status).toBe(200)
      expect(dup.replay).toBe(null)
      expect(JSON.parse(dup.text).choices[0].message.content).toBe(`second try ${n}`)
      expect(seen(n)).toBe(2)
      await sleep(60)
      const third = await call({ key, content: n })
      expect(third.replay).toBe('true')
      expect(third.text).toBe(dup.text)
      expect(seen(n)).toBe(2)
    })

    it('a malformed key is a 400', async () => {
      const r = await call({ key: 'x'.repeat(300), content: 'x' })
      expect(r.status).toBe(400)
      expect(JSON.parse(r.text).error.message).toContain('Idempotency-Key')
    })

    // Only meaningful with a shared backend: defined for the Redis run, absent (not skipped) in memory.
    const itShared = backend === 'redis' ? it : () => undefined
    itShared('across replicas sharing Redis: one vendor call, the other replica replays', async () => {
      const n = randomUUID()
      const key = randomUUID()
      vendor.queue.push(slow(300, json(200, chatCompletion(`shared ${n}`))))
      const [a, b] = await Promise.all([call({ key, content: n }), sleep(80).then(() => call({ key, content: n, url: gw2!.url }))])
      expect(seen(n)).toBe(1)
      expect(b.status).toBe(200)
      expect(b.text).toBe(a.text)
      expect(b.replay).toBe('true')
      const c = await call({ key, content: n, url: gw2!.url })
      expect(c.text).toBe(a.text)
      expect(seen(n)).toBe(1)
    })
  })
}
