/**
 * Issue 5, "reserve, then settle ... including for streams that end early or that the client
 * aborts": a stream aborted by its client gives back the unused part of its token reservation (on
 * the in-memory backend and on the real Redis), so the key's tokens-per-minute are not held by
 * calls that never produced their max_tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatChunks, openAIChat, startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { REDIS_URL, awayFromBoundary, redisAvailable, sleep } from '../unit/limits/support.ts'

const KEY = 'sk-sb-audit-abort-settle-0001'
const LIMIT = 3000
const MAX = 2000

const vendorHandler = (): Handler => {
  const chat = openAIChat()
  return (req, res) => {
    if (req.json?.model === 'stall-stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`data: ${JSON.stringify(chatChunks(['one '])[0])}\n\ndata: ${JSON.stringify(chatChunks(['one '])[1])}\n\n`)
      return // never ends: only the client's abort finishes this call
    }
    return chat(req, res)
  }
}

for (const backend of ['memory', 'redis'] as const) {
  describe.skipIf(backend === 'redis' && !redisAvailable)(`aborted streams settle their token reservation (${backend})`, () => {
    let vendor: StandIn
    let gw: TestGateway
    beforeAll(async () => {
      vendor = await startStandIn(vendorHandler())
      gw = await startTestGateway(`
redis: { url: "${backend === 'redis' ? REDIS_URL : ''}", key_prefix: "sbtest:${runId()}:" }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] } }
models:
  gpt-stall: { targets: [{ provider: up, model: stall-stream }] }
  gpt-ok: { targets: [{ provider: up, model: ok }] }
routing: { retries: { max_attempts: 1 } }
teams: { t: { keys: { k: { key: ${KEY}, limits: { tpm: ${LIMIT} } } } } }
`)
    })
    afterAll(async () => {
      await gw?.stop()
      await vendor?.close()
    })

    const post = (model: string, extra: object, signal?: AbortSignal) => fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', signal, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
    })

    it('after the abort, a call reserving more than what was left during the stream is admitted', async () => {
      await awayFromBoundary(60_000, 5000)
      const ac = new AbortController()
      const seen = vendor.received.length
      const res = await post('gpt-stall', { stream: true, max_tokens: MAX }, ac.signal)
      expect(res.status).toBe(200)
      const during = Number(res.headers.get('x-ratelimit-remaining-tokens'))
      expect(during).toBeLessThanOrEqual(LIMIT - MAX)
      const reader = res.body!.getReader()
      expect((await reader.read()).done).toBe(false)

      // While the stream holds its reservation, a call asking for more than is left is refused.
      const refused = await post('gpt-ok', { max_tokens: during + 10 })
      expect(refused.status).toBe(429)
      await refused.text()

      ac.abort()
      await vendor.received[seen]!.aborted
      // Settlement happens as the gateway notices the abort (and, on Redis, one round trip later).
      let admitted: Response | undefined
      for (let i = 0; i < 40; i++) {
        await sleep(25)
        const r = await post('gpt-ok', { max_tokens: during + 10 })
        if (r.status === 200) { admitted = r; break }
        await r.text()
      }
      expect(admitted?.status).toBe(200)
      // The aborted stream was settled to a few tokens (prompt + one relayed chunk), not its 2000.
      const remaining = Number(admitted!.headers.get('x-ratelimit-remaining-tokens'))
      expect(remaining).toBeGreaterThan(LIMIT - (during + 10) - 2 * 100 - 100)
      await admitted!.text()
    })
  })
}
