// The chart and the image hand the gateway a config file; these tests feed those files to the gateway's own loader,
// and start the gateway on the image's baked config to run the image's HEALTHCHECK command and stop it with SIGTERM.
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { parseConfig } from '../../src/config/load.ts'
import { chartDir, readYaml, renderChart } from './helm.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()

const root = new URL('../../', import.meta.url).pathname
type Obj = Record<string, unknown>

function configOf(values: Obj[]): string {
  const cm = renderChart({ values }).docs.find((d) => d.kind === 'ConfigMap')
  return String((cm?.body.data as Obj)['switchboard.yaml'])
}

function bakedConfig(): string {
  const m = /^COPY <<'EOF' \/etc\/switchboard\/switchboard\.yaml\n([\s\S]*?)^EOF$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))
  if (!m) throw new Error('no baked config in the Dockerfile')
  return m[1] as string
}

function healthcheckScript(): string {
  const line = /^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))
  return (JSON.parse(line?.[1] ?? '[]') as string[])[2] ?? ''
}

describe('the config the chart renders', () => {
  it('loads in the gateway with the SQLite default, or Postgres and Redis from the env the chart sets', () => {
    const text = configOf([])
    const alone = parseConfig(text, 'switchboard.yaml', {}).config
    expect(alone.store.url).toBe('sqlite:///app/data/switchboard.db')
    expect(alone.redis.url).toBe('')
    expect(alone.server.host).toBe('0.0.0.0')
    const shared = parseConfig(text, 'switchboard.yaml', { DATABASE_URL: 'postgres://u:p@pg/sb', REDIS_URL: 'redis://r:6379' }).config
    expect(shared.store.url).toBe('postgres://u:p@pg/sb')
    expect(shared.redis.url).toBe('redis://r:6379')
  })

  it('loads for both examples, with their secrets given as env', () => {
    for (const f of readdirSync(join(chartDir, 'examples'))) {
      const loaded = parseConfig(configOf([readYaml(join(chartDir, 'examples', f)) as Obj]), f, {
        OPENAI_API_KEY: 'sk-a', ANTHROPIC_API_KEY: 'sk-b', SWITCHBOARD_ADMIN_KEY: 'adm', RESEARCH_CI_KEY: 'ci',
      })
      expect(loaded.config.server.admin_keys).toEqual(['adm'])
      expect(Object.keys(loaded.config.models).length).toBeGreaterThan(1)
    }
  })
})

describe('the image', () => {
  it("bakes a config the gateway accepts, listening on all interfaces with the ledger on /app/data", () => {
    const cfg = parseConfig(bakedConfig(), 'baked', {}).config
    expect(cfg.server.host).toBe('0.0.0.0')
    expect(cfg.store.url).toBe('sqlite:///app/data/switchboard.db')
    expect(Object.keys(cfg.teams)).toEqual([])
  })

  it('HEALTHCHECK passes against a running gateway, fails without one, and SIGTERM exits 0', async () => {
    const dir = tempDir('sb-image-')
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => resolve(p))
      })
    })
    // The baked config binds 0.0.0.0; the test keeps traffic on loopback by binding 127.0.0.1 with --host.
    writeFileSync(join(dir, 'switchboard.yaml'), bakedConfig())
    const env = { ...process.env, PORT: String(port), DATABASE_URL: `sqlite://${join(dir, 'ledger.db')}`, SWITCHBOARD_CONFIG: join(dir, 'switchboard.yaml') }
    const check = () => spawnSync(process.execPath, ['-e', healthcheckScript()], { env, timeout: 10_000 }).status

    expect(check()).toBe(1)
    const gw = spawn(process.execPath, ['src/main.ts', '--host', '127.0.0.1'], { cwd: root, env, stdio: 'ignore' })
    const exited = new Promise<number | null>((resolve) => gw.on('exit', (code) => resolve(code)))
    try {
      let status = check()
      for (let i = 0; i < 50 && status !== 0; i++) {
        await new Promise((r) => setTimeout(r, 200))
        status = check()
      }
      expect(status).toBe(0)
    } finally {
      gw.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  }, 30_000)
})

describe('docs/deploy.md values blocks', () => {
  it('produce configs the gateway loads', () => {
    const md = readFileSync(join(root, 'docs/deploy.md'), 'utf8')
    const blocks = [...md.matchAll(/^```yaml values\n([\s\S]*?)^```$/gm)].map((m) => parse(m[1] as string) as Obj)
    for (const b of blocks) expect(() => parseConfig(configOf([b]), 'docs', { SWITCHBOARD_ADMIN_KEY: 'a', OPENAI_API_KEY: 'k' })).not.toThrow()
  })
})
