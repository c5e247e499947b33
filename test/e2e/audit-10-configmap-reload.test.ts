/**
 * Issue 10, point 5, the way Kubernetes does it: the real binary reads its config through the
 * symlinks a mounted ConfigMap uses (switchboard.yaml -> ..data/switchboard.yaml, ..data ->
 * ..<timestamp>), and an update is an atomic rename of ..data to a new directory. The running
 * gateway must pick the new config up (valid) and keep the old one (invalid), with no restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname
const KEY = 'sk-sb-audit10-configmap'
const mount = mkdtempSync(join(tmpdir(), 'sb-configmap-'))
let generation = 0

/** Publishes a new ConfigMap version the way the kubelet does: new dir, then swap ..data atomically. */
function publish(text: string): void {
  const prev = generation
  const dir = `..2026_01_01_00_00_0${++generation}.000000001`
  mkdirSync(join(mount, dir))
  writeFileSync(join(mount, dir, 'switchboard.yaml'), text)
  symlinkSync(dir, join(mount, '..data_tmp'))
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'))
  if (prev > 0) rmSync(join(mount, `..2026_01_01_00_00_0${prev}.000000001`), { recursive: true })
}

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer()
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port
    s.close(() => resolve(p))
  })
})

let vendor: StandIn
let child: ChildProcess
let port: number
const out: string[] = []

const config = (models: string) => `
server: { port: ${port}, admin_keys: [sb-admin-audit10] }
store: { url: "sqlite::memory:" }
providers: { up: { type: openai, base_url: ${vendor.url}/v1, keys: [k] } }
models:
${models}
teams: { t: { keys: { k: { key: ${KEY} } } } }
`
const modelStatus = async (m: string): Promise<number> =>
  (await fetch(`http://127.0.0.1:${port}/v1/models/${m}`, { headers: { authorization: `Bearer ${KEY}` } })).status

/** Polls (bounded) until `fn` holds. */
async function until(fn: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fn()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`never happened: ${what}\n${out.join('')}`)
}

beforeAll(async () => {
  vendor = await startStandIn()
  port = await freePort()
  publish(config('  a: { targets: [{ provider: up, model: up-a }] }'))
  symlinkSync('..data/switchboard.yaml', join(mount, 'switchboard.yaml'))
  child = spawn(process.execPath, [MAIN, '--config', join(mount, 'switchboard.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout!.on('data', (c: Buffer) => out.push(c.toString()))
  child.stderr!.on('data', (c: Buffer) => out.push(c.toString()))
  await until(async () => out.join('').includes('switchboard listening'), 'the gateway listening')
})
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }
  await vendor?.close()
  rmSync(mount, { recursive: true, force: true })
})

describe('config reload through a ConfigMap symlink swap (real binary)', () => {
  it('a valid new version is applied; an invalid one is rejected and the running config stays', async () => {
    expect(await modelStatus('a')).toBe(200)
    expect(await modelStatus('b')).toBe(404)

    publish(config('  a: { targets: [{ provider: up, model: up-a }] }\n  b: { targets: [{ provider: up, model: up-b }] }'))
    await until(async () => (await modelStatus('b')) === 200, 'model b after the swap')
    expect(await modelStatus('a')).toBe(200)

    publish(config('  a: { targets: [{ provider: nowhere, model: up-a }] }'))
    await until(async () => out.join('').includes('invalid config on reload'), 'the invalid version rejected')
    expect(await modelStatus('b')).toBe(200)
    const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'b', messages: [{ role: 'user', content: 'x' }] }),
    })
    expect(r.status).toBe(200)
    expect(vendor.received.at(-1)!.json?.model).toBe('up-b')

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    expect(metrics).toContain('switchboard_config_reloads_total{result="applied"} 1')
    expect(metrics).toContain('switchboard_config_reloads_total{result="rejected"} 1')
  })
})
