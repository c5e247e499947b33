/**
 * Hot reload: a changed, valid config file is applied without dropping requests in flight; an
 * invalid one is rejected (logged, counted) and the running config stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import OpenAI from 'openai'
import { loadConfigFile } from '../../src/config/load.ts'
import { watchConfigFile, type ConfigWatcher } from '../../src/config/watch.ts'
import { startGateway, type Gateway } from '../../src/gateway.ts'
import { createLogger } from '../../src/telemetry/logger.ts'
import { startStandIn, sse, chatChunks, type StandIn } from '../helpers/stand-in.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()

const dir = tempDir('sbreload-')
const file = join(dir, 'switchboard.yaml')
let vendor: StandIn
let gw: Gateway
let watcher: ConfigWatcher
const logs: string[] = []

const config = (models: string) => `
server: { admin_keys: [admin-reload] }
store: { url: "sqlite::memory:" }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] } }
models:
${models}
teams: { t: { keys: { k: { key: sk-sb-reload } } } }
`

const until = async (fn: () => Promise<boolean>, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await fn()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('condition not reached in time')
}

beforeAll(async () => {
  vendor = await startStandIn()
  writeFileSync(file, config('  a: { targets: [{ provider: up, model: up-a }] }'))
  const loaded = await loadConfigFile(file, {})
  const sink = new Writable({ write(c: Buffer, _e, cb) { logs.push(c.toString()); cb() } })
  gw = await startGateway({ loaded, log: createLogger('info', sink), env: {}, port: 0, host: '127.0.0.1' })
  watcher = watchConfigFile({ file, env: {}, intervalMs: 50, onChange: (next) => gw.reload(next), onInvalid: (err) => gw.rejectReload(file, err) })
})
afterAll(async () => {
  watcher?.stop()
  await gw?.shutdown(1000)
  await vendor?.close()
})

describe('config hot reload', () => {
  it('applies a valid change while a stream is in flight, and rejects an invalid one', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-sb-reload', maxRetries: 0 })
    await expect(client.chat.completions.create({ model: 'b', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404 })

    // A slow stream on the old config...
    const words = Array.from({ length: 15 }, (_, i) => `w${i} `)
    vendor.queue.push(sse(chatChunks(words), { delayMs: 40 }))
    const stream = await client.chat.completions.create({ model: 'a', stream: true, messages: [{ role: 'user', content: 'x' }] })
    const collected = (async () => {
      let text = ''
      for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
      return text
    })()

    // ...while the file changes: model b appears.
    writeFileSync(file, config('  a: { targets: [{ provider: up, model: up-a }] }\n  b: { targets: [{ provider: up, model: up-b }] }'))
    await until(async () => {
      const r = await fetch(`${gw.url}/v1/models/b`, { headers: { authorization: 'Bearer sk-sb-reload' } })
      return r.status === 200
    })
    const b = await client.chat.completions.create({ model: 'b', messages: [{ role: 'user', content: 'x' }] })
    expect(b.choices[0]?.message.content).toBe('Hello from the stand-in')
    expect(vendor.received.at(-1)!.json?.model).toBe('up-b')
    expect(await collected).toBe(words.join(''))

    // An invalid file is rejected; the running config (with b) stays.
    writeFileSync(file, config('  a: { targets: [{ provider: nope, model: x }] }'))
    await until(async () => logs.join('').includes('invalid config on reload'))
    const again = await client.chat.completions.create({ model: 'b', messages: [{ role: 'user', content: 'x' }] })
    expect(again.choices[0]?.message.content).toBe('Hello from the stand-in')
    expect(logs.join('')).toContain('models.a.targets[0].provider: unknown provider')

    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metrics).toContain('switchboard_config_reloads_total{result="applied"} 1')
    expect(metrics).toContain('switchboard_config_reloads_total{result="rejected"} 1')
    // A model added by the reload is a metrics label like the ones present at start.
    expect(metrics).toMatch(/switchboard_requests_total\{model="b",provider="up",team="t",status="200"\} 2/)

    const audit = await (await fetch(`${gw.url}/admin/v1/audit?action=config.reload`, { headers: { authorization: 'Bearer admin-reload' } })).json() as { data: Array<{ action: string; actor: string }> }
    expect(audit.data.map((e) => [e.action, e.actor])).toEqual([['config.reload', 'system']])
  })

  it('a truncated (empty) file is rejected and the running config stays: keys, admin keys and models', async () => {
    const rejected = logs.filter((l) => l.includes('invalid config on reload')).length
    writeFileSync(file, '')
    await until(async () => logs.filter((l) => l.includes('invalid config on reload')).length > rejected)
    expect(logs.join('')).toContain('(root): the file is empty; expected a mapping')
    expect((await fetch(`${gw.url}/v1/models/a`, { headers: { authorization: 'Bearer sk-sb-reload' } })).status).toBe(200)
    expect((await fetch(`${gw.url}/admin/v1/keys`, { headers: { authorization: 'Bearer admin-reload' } })).status).toBe(200)
    const ready = await (await fetch(`${gw.url}/readyz`)).json() as { keys: { keys: number } }
    expect(ready.keys.keys).toBeGreaterThan(0)
  })

  it('a reload giving one secret to two teams is rejected naming both key paths; callers keep their team', async () => {
    writeFileSync(file, config('  a: { targets: [{ provider: up, model: up-a }] }').replace(
      'teams: { t: { keys: { k: { key: sk-sb-reload } } } }',
      'teams: { t: { keys: { k: { key: sk-sb-reload } } }, other: { keys: { k: { key: sk-sb-reload } } } }',
    ))
    await until(async () => logs.join('').includes('teams.other.keys.k: the same secret as teams.t.keys.k'))
    const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: 'Bearer sk-sb-reload' } })
    expect(models.status).toBe(200)
    expect(logs.filter((l) => l.includes('same secret')).join('')).not.toContain('sk-sb-reload')
    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metrics).toContain('switchboard_config_reloads_total{result="rejected"} 3')
  })
})
