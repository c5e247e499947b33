/**
 * The real binary: --check-config, start-up failures, and graceful shutdown on SIGTERM with a
 * stream in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:net'
import OpenAI from 'openai'
import { startStandIn, sse, chatChunks, type StandIn } from '../helpers/stand-in.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname
const dir = tempDir('sbcli-')
const write = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer()
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port
    s.close(() => resolve(p))
  })
})

let vendor: StandIn
beforeAll(async () => { vendor = await startStandIn() })
afterAll(async () => { await vendor?.close() })

describe('switchboard CLI', () => {
  it('--check-config accepts a valid file and exits 0', () => {
    const cfg = write('ok.yaml', 'providers: { m: { type: mock } }\nmodels: { demo: { targets: [{ provider: m, model: mock-1 }] } }\n')
    const r = spawnSync(process.execPath, [MAIN, '--config', cfg, '--check-config'], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`${cfg} is valid (1 models, 1 providers)`)
  })

  it('--check-config rejects a bad file naming the file and key path, exit 2', () => {
    const cfg = write('bad.yaml', 'models: { demo: { targets: [{ provider: nope, model: x }] } }\n')
    const r = spawnSync(process.execPath, [MAIN, '--config', cfg, '--check-config'], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`invalid config ${cfg}`)
    expect(r.stderr).toContain('models.demo.targets[0].provider: unknown provider "nope"')
  })

  it('an empty file (or a document that is not a mapping) is a config error naming the file, exit 2, both for --check-config and at start', () => {
    const empty = write('empty.yaml', '')
    for (const args of [['--check-config'], ['--port', '0']]) {
      const r = spawnSync(process.execPath, [MAIN, '--config', empty, ...args], { encoding: 'utf8', timeout: 10_000 })
      expect(r.status).toBe(2)
      expect(r.stderr).toContain(`invalid config ${empty}`)
      expect(r.stderr).toContain('(root): the file is empty; expected a mapping')
    }
    const list = write('list.yaml', '- providers\n- models\n')
    const r = spawnSync(process.execPath, [MAIN, '--config', list, '--check-config'], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`invalid config ${list}`)
    expect(r.stderr).toContain('got a list')
  })

  // Each of these was "valid" for --check-config, then start-up failed with exit 1 and a stack trace.
  it.each([
    ['store: { url: "mysql://db/sb" }', 'store.url: expected sqlite://'],
    ['telemetry: { otlp_endpoint: "not a url" }', 'telemetry.otlp_endpoint: expected an http(s) URL'],
    ['telemetry: { metrics_port: 99999 }', 'telemetry.metrics_port: a port from 0 to 65535'],
    ['server: { port: 70000 }', 'server.port: a port from 0 to 65535'],
    ['telemetry: { redact_patterns: ["ok-[0-9]+", "([a-z"] }', 'telemetry.redact_patterns[1]: not a valid regular expression'],
    ['redis: { url: "not a url" }', 'redis.url: expected redis://'],
  ])('%s is a config error for --check-config and at start: exit 2 naming the file and key path', (section, problem) => {
    // Should start-up accept it after all, it must not write ./data or take a fixed port.
    const rest = ['store: { url: "sqlite::memory:" }', 'server: { port: 0 }'].filter((d) => !section.startsWith(d.split(':')[0]!))
    const cfg = write('startup.yaml', `providers: { m: { type: mock } }\nmodels: { demo: { targets: [{ provider: m, model: mock-1 }] } }\n${[section, ...rest].join('\n')}\n`)
    for (const args of [['--check-config'], []]) {
      const r = spawnSync(process.execPath, [MAIN, '--config', cfg, ...args], { encoding: 'utf8', timeout: 10_000 })
      expect(r.stderr).toContain(`invalid config ${cfg}`)
      expect(r.stderr).toContain(problem)
      expect(r.stderr).not.toContain('failed to start')
      expect(r.status).toBe(2)
    }
  })

  it('warns, naming the key path, about model names differing only in case and scope globs matching no model: --check-config and at start', async () => {
    const cfg = write('warn.yaml', `
server: { port: 0 }
store: { url: "sqlite::memory:" }
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] }, Demo: { targets: [{ provider: m, model: mock-1 }] } }
teams: { t: { keys: { k: { key: sk-sb-cli-warn-0001, models: ["dmeo*"] } } } }
`)
    const caseWarning = 'models.Demo: differs from models.demo only in case'
    const globWarning = 'teams.t.keys.k.models[0]: "dmeo*" matches no model under models'
    const r = spawnSync(process.execPath, [MAIN, '--config', cfg, '--check-config'], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`warning: ${caseWarning}`)
    expect(r.stdout).toContain(`warning: ${globWarning}`)

    const child = spawn(process.execPath, [MAIN, '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: string[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const deadline = Date.now() + 10_000
    while (!out.join('').includes('switchboard listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    const warnings = out.join('').split('\n').filter((l) => l.includes('"level":"warn"')).map((l) => (JSON.parse(l) as { msg: string }).msg).join('\n')
    expect(warnings).toContain(caseWarning)
    expect(warnings).toContain(globWarning)
  })

  it('SWITCHBOARD_CONFIG selects the file when --config is absent', () => {
    const cfg = write('env.yaml', 'server: { port: nope }\n')
    const r = spawnSync(process.execPath, [MAIN, '--check-config'], { encoding: 'utf8', env: { ...process.env, SWITCHBOARD_CONFIG: cfg } })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(cfg)
    expect(r.stderr).toContain('server.port')
  })

  it('SIGTERM lets an in-flight stream finish, then exits 0 promptly', async () => {
    vendor.queue.push(sse(chatChunks(Array.from({ length: 20 }, (_, i) => `w${i} `)), { delayMs: 50 }))
    const port = await freePort()
    const cfg = write('run.yaml', `
server: { port: ${port}, shutdown_grace_ms: 10000 }
store: { url: "sqlite://${join(dir, 'run.db')}" }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] } }
models: { m: { targets: [{ provider: up, model: x }] } }
teams: { t: { keys: { k: { key: sk-sb-cli } } } }
`)
    const child = spawn(process.execPath, [MAIN, '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: string[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const deadline = Date.now() + 10_000
    while (!out.join('').includes('switchboard listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))

    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-sb-cli', maxRetries: 0 })
    const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] })
    let text = ''
    let signalled = false
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      if (!signalled) {
        signalled = true
        child.kill('SIGTERM')
      }
    }
    expect(text).toBe(Array.from({ length: 20 }, (_, i) => `w${i} `).join(''))
    const t0 = Date.now()
    expect(await exited).toBe(0)
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(out.join('')).toContain('shutdown complete')
  })

  it('SIGTERM the moment it listens (the tokenizer still loading) drains and exits 0, not by the signal', async () => {
    const port = await freePort()
    const cfg = write('early.yaml', `
server: { port: ${port} }
store: { url: "sqlite://${join(dir, 'early.db')}" }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] } }
models: { m: { targets: [{ provider: up, model: x }] } }
`)
    const child = spawn(process.execPath, [MAIN, '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: string[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c.toString()))
    const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])))
    const deadline = Date.now() + 10_000
    while (!out.join('').includes('switchboard listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    child.kill('SIGTERM')
    expect(await exited).toEqual([0, null])
    expect(out.join('')).toContain('shutdown complete')
  })
})
