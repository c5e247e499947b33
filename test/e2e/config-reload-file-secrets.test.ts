/**
 * A secret the config reads with `${file:/path}` (a mounted Secret) is part of the config: rotating
 * it is picked up by the file watch and by SIGHUP, though the config's own text does not change.
 * Only the config file's text was compared, so a leaked virtual key rotated this way kept working
 * until a restart, and the new one was refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { loadConfigFile } from '../../src/config/load.ts'
import { watchConfigFile, type ConfigWatcher } from '../../src/config/watch.ts'
import { startGateway, type Gateway } from '../../src/gateway.ts'
import { createLogger } from '../../src/telemetry/logger.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()
const dir = tempDir('sbreloadfile-')
const file = join(dir, 'switchboard.yaml')
const secret = join(dir, 'team-key')
const OLD = 'sk-sb-file-secret-old-0001'
const NEW = 'sk-sb-file-secret-new-0002'
const NEWER = 'sk-sb-file-secret-new-0003'

let gw: Gateway
let watcher: ConfigWatcher | undefined
const logs: string[] = []
const status = async (key: string) => (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status
const watch = (intervalMs: number) => watchConfigFile({ file, env: {}, intervalMs, onChange: (next) => gw.reload(next), onInvalid: (err) => gw.rejectReload(file, err) }, CONFIG)

const CONFIG = `
store: { url: "sqlite::memory:" }
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
teams: { t: { keys: { k: { key: "\${file:${secret}}" } } } }
`

beforeAll(async () => {
  writeFileSync(file, CONFIG)
  writeFileSync(secret, `${OLD}\n`)
  const loaded = await loadConfigFile(file, {})
  const sink = new Writable({ write(c: Buffer, _e, cb) { logs.push(c.toString()); cb() } })
  gw = await startGateway({ loaded, log: createLogger('info', sink), env: {}, port: 0, host: '127.0.0.1' })
})
afterAll(async () => {
  watcher?.stop()
  await gw?.shutdown(1000)
})

describe('a rotated ${file:} secret', () => {
  it('is applied on SIGHUP (check), the config text unchanged', async () => {
    // A poll interval no test waits for: only check() can pick the change up.
    watcher = watch(60_000)
    expect(await status(OLD)).toBe(200)
    writeFileSync(secret, `${NEW}\n`)
    await watcher.check()
    expect(await status(NEW)).toBe(200)
    expect(await status(OLD)).toBe(401)
    watcher.stop()
  })

  it('is applied by the file watch', async () => {
    watcher = watch(50)
    // fs.watchFile takes its first stat asynchronously: a write before it is the baseline, not a change.
    await new Promise((r) => setTimeout(r, 200))
    writeFileSync(secret, `${NEWER}\n`)
    await expect.poll(() => status(NEWER), { timeout: 5000, interval: 50 }).toBe(200)
    expect(await status(NEW)).toBe(401)
    expect(logs.join('')).not.toContain('sk-sb-file-secret')
  })
})
