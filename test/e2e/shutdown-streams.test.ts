/**
 * Calls still running when the shutdown grace period ends: each stream ends with an error event in
 * its client's own format (OpenAI Chat, Anthropic Messages, Responses translated and passed
 * through), a call not answered yet gets a 503, all with the retryable `server_shutting_down`,
 * and each is in the ledger with that code. Their sockets used to be destroyed: clients saw a bare
 * connection reset mid-stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { startStandIn, chatChunks, chatCompletion, json, sse, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()
const KEY = 'sk-sb-shutdown-streams-001'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('shutdown with calls still running when the grace ends', () => {
  const dbFile = join(tempDir('sbshutdown-'), 'ledger.db')
  let vendor: StandIn
  let gw: TestGateway

  beforeAll(async () => {
    // Streams far longer than the grace; the non-streamed model answers after 10 s.
    vendor = await startStandIn(async (req, res) => {
      const model = String(req.json?.model)
      if (model === 'up-slow') {
        await Promise.race([sleep(10_000), req.aborted])
        if (!res.destroyed) await json(200, chatCompletion('late', model))(req, res)
        return
      }
      const words = Array.from({ length: 300 }, (_, i) => `w${i} `)
      if (req.path.endsWith('/responses')) {
        const events = words.map((delta) => ({ type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta }))
        return sse([{ type: 'response.created', response: { id: 'resp_1', status: 'in_progress' } }, ...events], { delayMs: 30, eventNames: true, done: false })(req, res)
      }
      return sse(chatChunks(words, model), { delayMs: 30 })(req, res)
    })
    gw = await startTestGateway(`
store: { url: "sqlite://${dbFile}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
  compat: { type: openai-compatible, base_url: ${vendor.url}/v1, responses: translate }
models:
  m: { targets: [{ provider: up, model: up-m }] }
  translated: { targets: [{ provider: compat, model: up-t }] }
  slow: { targets: [{ provider: up, model: up-slow }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    keys: { k: { key: "${KEY}" } }
`)
  })
  afterAll(async () => {
    await gw?.shutdown(100)
    await vendor?.close()
  })

  /** Starts a call; resolves once its response headers (and for a stream, a first frame) arrived, with the rest to come. */
  const start = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    if (body.stream) {
      const first = await reader.read()
      text += decoder.decode(first.value, { stream: true })
    }
    const ended = (async () => {
      try {
        for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true })
        return { status: res.status, headers: res.headers, text, cut: false }
      } catch {
        return { status: res.status, headers: res.headers, text, cut: true }
      }
    })()
    return { ended }
  }
  const lastEvent = (text: string) => text.trimEnd().split('\n\n').at(-1)!

  it('ends each in its client format with a retryable error, and records it', async () => {
    const chat = await start('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    const messages = await start('/v1/messages', { model: 'm', stream: true, max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] })
    const translated = await start('/v1/responses', { model: 'translated', stream: true, input: 'hi', store: false })
    const native = await start('/v1/responses', { model: 'm', stream: true, input: 'hi', store: false })
    const seen = vendor.received.length
    const waiting = start('/v1/chat/completions', { model: 'slow', messages: [{ role: 'user', content: 'hi' }] }).then((s) => s.ended)
    await expect.poll(() => vendor.received.length).toBe(seen + 1)

    const t0 = performance.now()
    await gw.shutdown(300)
    // The grace, then the errors: not the extra second allowed for sockets that do not drain.
    expect(performance.now() - t0).toBeLessThan(1200)

    const c = await chat.ended
    expect(c.cut).toBe(false)
    expect(JSON.parse(lastEvent(c.text).replace(/^data: /, ''))).toEqual({ error: { type: 'api_error', code: 'server_shutting_down', param: null, message: expect.stringContaining('shutting down') } })

    const m = await messages.ended
    expect(m.cut).toBe(false)
    expect(m.text).toContain('event: message_start')
    const [mName, mData] = lastEvent(m.text).split('\n')
    expect(mName).toBe('event: error')
    expect(JSON.parse(mData!.replace(/^data: /, ''))).toEqual({ type: 'error', error: { type: 'overloaded_error', message: expect.stringContaining('shutting down') } })

    const tr = await translated.ended
    expect(tr.cut).toBe(false)
    expect(tr.text).toMatch(/event: error\ndata: \{"type":"error".*"code":"server_shutting_down"/)
    expect(lastEvent(tr.text)).toMatch(/^event: response\.failed\n/)

    const n = await native.ended
    expect(n.cut).toBe(false)
    expect(n.text).toContain('event: response.output_text.delta')
    const [nName, nData] = lastEvent(n.text).split('\n')
    expect(nName).toBe('event: error')
    expect(JSON.parse(nData!.replace(/^data: /, ''))).toMatchObject({ type: 'error', code: 'server_shutting_down', error: { type: 'api_error', code: 'server_shutting_down' } })

    const w = await waiting
    expect(w.status).toBe(503)
    expect(w.headers.get('retry-after')).toBe('1')
    expect(JSON.parse(w.text)).toMatchObject({ error: { code: 'server_shutting_down', type: 'api_error' } })

    // The ledger (written at shutdown) has each call, with the code.
    const db = new DatabaseSync(dbFile)
    try {
      const rows = db.prepare('SELECT requested_model, stream, status, error_code, client_aborted FROM ledger ORDER BY id').all()
      expect(rows).toHaveLength(5)
      expect(rows.map((r) => r.error_code)).toEqual(Array(5).fill('server_shutting_down'))
      expect(rows.map((r) => [r.requested_model, r.status])).toEqual(expect.arrayContaining([['m', 200], ['translated', 200], ['slow', 503]]))
      expect(rows.every((r) => r.client_aborted === 0)).toBe(true)
    } finally {
      db.close()
    }
  }, 20_000)
})
