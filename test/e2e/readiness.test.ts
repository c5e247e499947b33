/** /readyz: ready, or degraded (still 200) when a shared dependency is down; never a fleet-wide 503 for one. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer } from 'node:net'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

let gw: TestGateway
let healthy: TestGateway

beforeAll(async () => {
  // A Redis URL where nothing listens: the dependency is down from the start.
  const deadPort = await new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  gw = await startTestGateway(`
redis: { url: "redis://127.0.0.1:${deadPort}" }
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
teams: { t: { keys: { k: { key: sk-sb-ready } } } }
`)
  healthy = await startTestGateway(`
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await healthy?.stop()
})

describe('/readyz', () => {
  it('is ready with every store up', async () => {
    const r = await fetch(`${healthy.url}/readyz`)
    expect(r.status).toBe(200)
    expect(await r.json()).toMatchObject({ status: 'ready', store: 'ok', draining: false })
  })

  it('is degraded but 200 while Redis is down, and the gateway keeps serving', async () => {
    const r = await fetch(`${gw.url}/readyz`)
    expect(r.status).toBe(200)
    expect(await r.json()).toMatchObject({ status: 'degraded', redis: 'down', store: 'ok' })
    const chat = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-sb-ready' }, body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }) })
    expect(chat.status).toBe(200)
  })
})
