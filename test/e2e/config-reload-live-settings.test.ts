/**
 * Settings a reload used to skip while logging "config reloaded": `logging.level`,
 * `logging.access_log` and `server.shutdown_grace_ms` now apply live, and the settings that
 * really need a restart are named key by key in the reload's warning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.ts'
import { startStandIn, openAIChat, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-reload-live-settings-1'

describe('settings a reload applies live', () => {
  let vendor: StandIn
  let gw: TestGateway | undefined
  const yaml = (extra = '', store = '{ url: "sqlite::memory:" }') => `
store: ${store}
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] } }
models: { m: { targets: [{ provider: up, model: up-m }] } }
routing: { retries: { max_attempts: 1 } }
teams: { t: { keys: { k: { key: "${KEY}" } } } }
${extra}
`
  const reload = (extra: string, store?: string) => gw!.reload(parseConfig(yaml(extra, store), 'test.yaml', {}))
  const call = () => fetch(`${gw!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  })
  const linesSince = (n: number, msg: string) => gw!.logs.slice(n).filter((l) => (JSON.parse(l) as { msg?: string }).msg === msg)

  beforeAll(async () => {
    vendor = await startStandIn(openAIChat('ok'))
    gw = await startTestGateway(yaml())
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  it('logging.access_log and logging.level', async () => {
    let n = gw!.logs.length
    expect((await call()).status).toBe(200)
    expect(linesSince(n, 'request')).toHaveLength(1)

    expect((await reload('logging: { access_log: false }')).applied).toBe(true)
    n = gw!.logs.length
    expect((await call()).status).toBe(200)
    expect(linesSince(n, 'request')).toHaveLength(0)

    // warn: info lines stop, the reload's own included; warnings still come.
    expect((await reload('logging: { level: warn }')).applied).toBe(true)
    n = gw!.logs.length
    expect((await call()).status).toBe(200)
    expect((await reload('logging: { level: warn }\n# again')).applied).toBe(true)
    expect(linesSince(n, 'request')).toHaveLength(0)
    expect(linesSince(n, 'config reloaded')).toHaveLength(0)
    const ignored = await reload('logging: { level: warn }\ntelemetry: { redact_patterns: ["x+"] }', '{ url: "sqlite::memory:", responses_retention_days: 7 }')
    expect(ignored).toEqual({ applied: true, ignored: ['store.responses_retention_days', 'telemetry.redact_patterns'] })
    const warning = linesSince(n, 'config reloaded; these settings take effect only after a restart')
    expect(warning.map((l) => (JSON.parse(l) as { ignored: string[] }).ignored)).toEqual([['store.responses_retention_days', 'telemetry.redact_patterns']])

    expect((await reload('')).applied).toBe(true)
    n = gw!.logs.length
    expect((await call()).status).toBe(200)
    expect(linesSince(n, 'request')).toHaveLength(1)
  })

  it('server.shutdown_grace_ms: shutdown uses the value of the running config', async () => {
    expect((await reload('server: { shutdown_grace_ms: 200 }')).applied).toBe(true)
    const running = gw!
    vendor.queue.push(async (req, res) => {
      await new Promise((r) => setTimeout(r, 6000))
      openAIChat('late')(req, res)
    })
    const seen = vendor.received.length
    const slow = call()
    await expect.poll(() => vendor.received.length).toBe(seen + 1)
    const t0 = Date.now()
    await gw!.shutdown()
    gw = undefined
    // Not the start-up 30 s: the call ends at the reloaded 200 ms grace, with a retryable error.
    expect(Date.now() - t0).toBeLessThan(3000)
    const r = await slow
    expect(r.status).toBe(503)
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('server_shutting_down')
    // What main.ts logs as the grace when a signal comes.
    expect(running.config.server.shutdown_grace_ms).toBe(200)
  }, 15_000)
})
