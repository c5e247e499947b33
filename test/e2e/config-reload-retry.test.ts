/**
 * A valid config change that cannot be applied yet (PostgreSQL stopped answering, so the new
 * runtime's key store cannot load) is applied once the store answers again, without another
 * change to the file or a SIGHUP. The file's new version used to be marked as handled before the
 * reload ran, so it was never applied until the file changed again. An invalid file is still
 * rejected once per version, not retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pg from 'pg'
import { loadConfigFile } from '../../src/config/load.ts'
import { watchConfigFile, type ConfigWatcher } from '../../src/config/watch.ts'
import { startGateway, type Gateway } from '../../src/gateway.ts'
import { createLogger } from '../../src/telemetry/logger.ts'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { runId } from '../helpers/gateway.ts'
import { startFreezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.ts'
import { PG_BASE, pgAvailable } from '../helpers/services.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()
const KEY = 'sk-sb-reload-retry-key-001'

describe.skipIf(!pgAvailable)('a config reload that fails for a transient reason', () => {
  const schema = `sbtest_${runId()}_reload`
  const file = join(tempDir('sbreloadretry-'), 'switchboard.yaml')
  let vendor: StandIn
  let proxy: FreezableProxy
  let gw: Gateway
  let watcher: ConfigWatcher
  let invalid = 0
  const logs: string[] = []

  const config = (models: string) => `
store: { url: "postgres://postgres@127.0.0.1:${proxy.port}/test?schema=${schema}" }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] } }
models:
${models}
teams: { t: { keys: { k: { key: ${KEY} } } } }
`
  const A = '  a: { targets: [{ provider: up, model: up-a }] }'
  const B = '  b: { targets: [{ provider: up, model: up-b }] }'
  const status = async (model: string) => (await fetch(`${gw.url}/v1/models/${model}`, { headers: { authorization: `Bearer ${KEY}` } })).status

  beforeAll(async () => {
    vendor = await startStandIn()
    proxy = await startFreezableProxy(5432)
    writeFileSync(file, config(A))
    const loaded = await loadConfigFile(file, {})
    const sink = new Writable({ write(c: Buffer, _e, cb) { logs.push(c.toString()); cb() } })
    gw = await startGateway({ loaded, log: createLogger('info', sink), env: {}, port: 0, host: '127.0.0.1' })
    watcher = watchConfigFile({
      file, env: {}, intervalMs: 50,
      onChange: (next) => gw.reload(next),
      onInvalid: (err) => {
        invalid++
        gw.rejectReload(file, err)
      },
    })
  })
  afterAll(async () => {
    proxy?.thaw()
    watcher?.stop()
    await gw?.shutdown(1000)
    await vendor?.close()
    await proxy?.close()
    const c = new pg.Client({ connectionString: PG_BASE })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
  })

  it('is applied once the store answers again, with no further change or signal', async () => {
    expect(await status('b')).toBe(404)
    proxy.freeze()
    try {
      writeFileSync(file, config(`${A}\n${B}`))
      // The new runtime's key store times out on the frozen store (5 s): the reload fails.
      await expect.poll(() => logs.join('').includes('config reload failed; keeping the running config'), { timeout: 15_000, interval: 100 }).toBe(true)
      expect(await status('b')).toBe(404)
    } finally {
      proxy.thaw()
    }
    await expect.poll(() => status('b'), { timeout: 15_000, interval: 100 }).toBe(200)
    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metrics).toContain('switchboard_config_reloads_total{result="applied"} 1')
  }, 40_000)

  it('an invalid version is rejected once, not retried', async () => {
    writeFileSync(file, config('  a: { targets: [{ provider: nope, model: x }] }'))
    await expect.poll(() => invalid, { timeout: 5000 }).toBe(1)
    // Long enough for a retry with backoff (the first after 1 s, the next 2 s later).
    await new Promise((r) => setTimeout(r, 3500))
    expect(invalid).toBe(1)
    expect(await status('b')).toBe(200)
  }, 20_000)
})
