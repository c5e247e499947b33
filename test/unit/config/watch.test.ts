/**
 * The config watcher: a change is handled once the file has settled (two reads settleMs apart
 * agree), so a file caught half-written is never applied; SIGHUP (check()) handles it at once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { watchConfigFile, type ConfigWatcher } from '../../../src/config/watch.ts'
import type { LoadedConfig } from '../../../src/config/load.ts'
import { ConfigError } from '../../../src/config/load.ts'
import { tempDirs } from '../../helpers/temp-dir.ts'

const tempDir = tempDirs()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const PROVIDERS = 'providers: { up: { type: mock } }\n'
const config = (...models: string[]) => `${PROVIDERS}models:\n${models.map((m) => `  ${m}: { targets: [{ provider: up, model: x }] }\n`).join('')}`

let watcher: ConfigWatcher | undefined
afterEach(() => watcher?.stop())

function watch(file: string, initial: string, settleMs: number) {
  const applied: string[][] = []
  const invalid: string[][] = []
  watcher = watchConfigFile({
    file, env: {}, intervalMs: 20, settleMs,
    onChange: (loaded: LoadedConfig) => { applied.push(Object.keys(loaded.config.models)) },
    onInvalid: (err) => { invalid.push(err instanceof ConfigError ? err.problems : [String(err)]) },
  }, initial)
  return { applied, invalid }
}
// fs.watchFile takes its first stat asynchronously: a write before it is the baseline, not a change.
const started = () => sleep(100)

describe('config watcher', () => {
  it('does not apply a file caught half-written: a valid prefix followed by the rest', async () => {
    const file = join(tempDir('sbwatch-'), 'switchboard.yaml')
    writeFileSync(file, config('a'))
    const { applied, invalid } = watch(file, config('a'), 400)
    await started()
    // A writer that truncates and writes in pieces: the prefix (providers only) parses and is valid.
    writeFileSync(file, PROVIDERS)
    await sleep(120)
    writeFileSync(file, config('a', 'b'))
    await expect.poll(() => applied, { timeout: 3000 }).toEqual([['a', 'b']])
    await sleep(500)
    expect(applied).toEqual([['a', 'b']])
    expect(invalid).toEqual([])
  })

  it('a file left empty is rejected once it has settled', async () => {
    const file = join(tempDir('sbwatch-'), 'switchboard.yaml')
    writeFileSync(file, config('a'))
    const { applied, invalid } = watch(file, config('a'), 200)
    await started()
    writeFileSync(file, '')
    await expect.poll(() => invalid, { timeout: 3000 }).toEqual([['(root): the file is empty; expected a mapping with providers, models, teams... (docs/config.md)']])
    expect(applied).toEqual([])
  })

  it('a ${file:} the config references is watched: created after a rejection, it is applied', async () => {
    const dir = tempDir('sbwatch-')
    const file = join(dir, 'switchboard.yaml')
    const secret = join(dir, 'vendor-key')
    writeFileSync(file, config('a'))
    const { applied, invalid } = watch(file, config('a'), 50)
    await started()
    const withSecret = `${config('a', 'd')}teams: { t: { keys: { k: { key: "\${file:${secret}}" } } } }\n`
    writeFileSync(file, withSecret)
    await expect.poll(() => invalid, { timeout: 3000 }).toEqual([[`teams.t.keys.k.key: cannot read \${file:${secret}}: ENOENT`]])
    writeFileSync(secret, 'sk-sb-watch-secret-0001\n')
    await expect.poll(() => applied, { timeout: 3000 }).toEqual([['a', 'd']])
  })

  it('check() (SIGHUP) handles the file at once, without waiting for it to settle', async () => {
    const file = join(tempDir('sbwatch-'), 'switchboard.yaml')
    writeFileSync(file, config('a'))
    const { applied } = watch(file, config('a'), 60_000)
    writeFileSync(file, config('a', 'c'))
    await watcher!.check()
    expect(applied).toEqual([['a', 'c']])
  })
})
