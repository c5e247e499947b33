/**
 * `npm run bench`: the gateway's own cost, as ratios. Starts a vendor stand-in, a minimal undici
 * pass-through and Switchboard (each its own process) on loopback, drives each path with
 * autocannon for a fixed time, then measures time to first streamed byte sequentially.
 * Every loop is bounded; the script stops by itself.
 *
 *   npm run bench -- [--duration 5] [--warmup 12] [--connections 32] [--repeat 1]
 *                    [--body small|agent] [--only direct,minimal,floor,floor-all,bare,limits,limits-redis,metrics,tracing-10,telemetry,tracing,cache-hit,all,all-redis]
 *
 * Variants add to `bare` (auth, routing, SQLite ledger): limits (+ budgets, in memory), limits-redis,
 * metrics (Prometheus metrics only), tracing-10 (metrics + OTLP spans for one request in ten, head
 * sampled), telemetry (metrics + access log), tracing (+ OTLP spans for every request), cache-hit
 * (every request after the first is a cache hit), all (everything on, in memory), all-redis
 * (everything, shared in Redis).
 *
 * floor and floor-all (contract-floor.ts) are the spec's per-request contract written directly on
 * the minimal pass-through, without Switchboard: the least a gateway doing that work can cost here.
 *
 * Each measured run follows a warm-up run of the same length; the first of each path lasts --warmup
 * seconds, because V8 moves a function called once per request to its optimizing compiler only
 * after some 25-60 thousand requests, and until then a path is measured partly on less optimized
 * code (and while it compiles).
 *
 * With --repeat above 1 it prints two tables: the median of the repeats, and each path's best
 * repeat. `npm run bench:instructions` (instructions.ts) counts instructions per request instead,
 * which a shared machine's noise does not move.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import autocannon from 'autocannon'
import { KEY, VARIANTS, freePort, gatewayConfig, requestBody, spawnTs, variantEnv } from './common.ts'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '12' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string', default: 'direct,minimal,bare,all' },
    repeat: { type: 'string', default: '1' },
    'ttfb-samples': { type: 'string', default: '300' },
    body: { type: 'string', default: 'small' },
  },
})
const DURATION = Number(values.duration)
const FIRST_WARMUP = Math.max(DURATION, Number(values.warmup))
const CONNECTIONS = Number(values.connections)
const ONLY = new Set(values.only.split(','))
const REPEAT = Number(values.repeat)
const TTFB_SAMPLES = Number(values['ttfb-samples'])
if (values.body !== 'small' && values.body !== 'agent') throw new Error(`--body is small or agent, not ${values.body}`)
const BODY = values.body
const here = new URL('.', import.meta.url).pathname
const root = join(here, '..')

/**
 * With two or more cores, the proxy under test gets the last core to itself and everything else
 * (load generator, vendor stand-in) shares the rest, so a proxy's own cost is what is measured.
 */
const CORES = availableParallelism()
const canPin = CORES >= 2 && spawnSync('taskset', ['-V']).status === 0
const PROXY_CPU = String(CORES - 1)
const OTHER_CPUS = `0-${Math.max(0, CORES - 2)}`
function pin(pid: number | undefined, cpus: string): void {
  if (canPin && pid) spawnSync('taskset', ['-acp', cpus, String(pid)], { stdio: 'ignore' })
}

async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    try {
      const r = await request(`${url}/healthz`)
      await r.body.text()
      if (r.statusCode === 200) return
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`gateway at ${url} did not become healthy`)
}

interface Run { name: string; mode: 'json' | 'stream'; rps: number; p50: number; p99: number; errors: number; cpuUsPerReq: number }

/** utime+stime of a process in microseconds (Linux /proc), to report CPU per request: on a small
 * shared machine the load generator competes for cores, so CPU per request is the steadier figure. */
function cpuUs(pid: number | undefined): number {
  if (!pid) return 0
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / 100)
  } catch { return 0 }
}

const body = (stream: boolean): string => requestBody(BODY, stream)

async function load(name: string, url: string, stream: boolean, pid?: number, duration = DURATION): Promise<Run> {
  const cpu0 = cpuUs(pid)
  const result = await autocannon({
    url: `${url}/v1/chat/completions`,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: body(stream),
  })
  const cpu = cpuUs(pid) - cpu0
  return { name, mode: stream ? 'stream' : 'json', rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx, cpuUsPerReq: result.requests.total ? cpu / result.requests.total : 0 }
}

async function ttfb(url: string): Promise<number> {
  const samples: number[] = []
  const deadline = Date.now() + 20_000
  for (let i = 0; i < TTFB_SAMPLES && Date.now() < deadline; i++) {
    const t0 = performance.now()
    const r = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: body(true) })
    let first = 0
    for await (const _chunk of r.body) {
      if (!first) first = performance.now() - t0
    }
    if (i >= 20) samples.push(first) // warm-up excluded
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN
}

const rssPeakKb = (pid: number | undefined): number => {
  if (!pid) return 0
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch { return 0 }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'))
  const children: ChildProcess[] = []
  try {
    pin(process.pid, OTHER_CPUS)
    const vendorProc = spawnTs(join(here, 'stand-in-server.ts'), {})
    children.push(vendorProc.child)
    pin(vendorProc.child.pid, OTHER_CPUS)
    const vendor = `http://127.0.0.1:${await vendorProc.port}`
    // Spans go to a collector of their own that discards them (not to the vendor stand-in, whose
    // parsing of every export would slow the load generator sharing its core).
    const sinkProc = spawnTs(join(here, 'otlp-sink.ts'), {})
    children.push(sinkProc.child)
    pin(sinkProc.child.pid, OTHER_CPUS)
    const collector = `http://127.0.0.1:${await sinkProc.port}`
    const targets: Array<{ name: string; url: string; pid?: number }> = []
    if (ONLY.has('direct')) targets.push({ name: 'direct', url: vendor, pid: vendorProc.child.pid })
    if (ONLY.has('minimal')) {
      const p = spawnTs(join(here, 'minimal-proxy.ts'), { UPSTREAM: vendor })
      children.push(p.child)
      pin(p.child.pid, PROXY_CPU)
      targets.push({ name: 'minimal', url: `http://127.0.0.1:${await p.port}`, pid: p.child.pid })
    }
    // The contract floor (contract-floor.ts): the spec's per-request work written directly, no gateway around it.
    for (const [name, floor] of [['floor', 'bare'], ['floor-all', 'all']] as const) {
      if (!ONLY.has(name)) continue
      const p = spawnTs(join(here, 'contract-floor.ts'), { UPSTREAM: vendor, COLLECTOR: collector, FLOOR: floor, DB: join(dir, `${name}.db`) })
      children.push(p.child)
      pin(p.child.pid, PROXY_CPU)
      targets.push({ name, url: `http://127.0.0.1:${await p.port}`, pid: p.child.pid })
    }
    for (const features of VARIANTS) {
      if (!ONLY.has(features)) continue
      const cfg = join(dir, `${features}.yaml`)
      writeFileSync(cfg, gatewayConfig(vendor, collector, features, join(dir, features)))
      const port = await freePort()
      const child = fork(join(root, 'src/main.ts'), ['--config', cfg, '--port', String(port)], { env: { ...process.env, ...variantEnv(features) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] })
      children.push(child)
      pin(child.pid, PROXY_CPU)
      const url = `http://127.0.0.1:${port}`
      await waitHealthy(url)
      targets.push({ name: `switchboard-${features}`, url, pid: child.pid })
    }

    const runs: Run[] = []
    const ttfbs = new Map<string, number>()
    for (let r = 0; r < REPEAT; r++) {
      for (const stream of [false, true]) {
        for (const t of targets) {
          const warmup = r === 0 && !stream ? FIRST_WARMUP : DURATION
          await load(t.name, t.url, stream, undefined, warmup).catch(() => undefined)
          runs.push(await load(t.name, t.url, stream, t.pid))
        }
      }
    }
    for (const t of targets) ttfbs.set(t.name, await ttfb(t.url))

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
    const pick = (name: string, mode: string) => runs.filter((x) => x.name === name && x.mode === mode)
    const lines: string[] = []
    lines.push(`Switchboard benchmark: ${BODY} bodies (${Buffer.byteLength(body(false))} bytes), ${DURATION}s x ${CONNECTIONS} connections per run (first warm-up ${FIRST_WARMUP}s), ${REPEAT} repeat(s), node ${process.version}, ${canPin ? `proxies pinned to cpu ${PROXY_CPU}, load and vendor on ${OTHER_CPUS}` : 'no CPU pinning'}`)
    /**
     * One table per way of summarising the repeats. The median is the usual figure. The best
     * repeat (highest req/s, least CPU per request, each taken separately) matters on a shared
     * machine: another tenant's load only ever slows a run, so each path's best repeat is the
     * closest to its own cost. A ratio that agrees in both tables can be trusted.
     */
    const table = (title: string, of: (xs: number[], higherIsBetter: boolean) => number) => {
      lines.push(title)
      lines.push('path                        mode    req/s     p50ms  p99ms  errors  vs-direct  vs-minimal  cpu-us/req  cpu vs minimal  rps vs bare')
      for (const mode of ['json', 'stream']) {
        const rpsOf = (name: string) => of(pick(name, mode).map((x) => x.rps), true)
        const cpuOf = (name: string) => of(pick(name, mode).map((x) => x.cpuUsPerReq), false)
        const direct = rpsOf('direct')
        const minimal = rpsOf('minimal')
        const minimalCpu = cpuOf('minimal')
        const bare = rpsOf('switchboard-bare')
        for (const t of targets) {
          const rs = pick(t.name, mode)
          const rps = rpsOf(t.name)
          const p50 = of(rs.map((x) => x.p50), false)
          const p99 = of(rs.map((x) => x.p99), false)
          const errors = rs.reduce((n, x) => n + x.errors, 0)
          const cpu = cpuOf(t.name)
          const vsBare = t.name.startsWith('switchboard-') && Number.isFinite(bare) ? `${(rps / bare).toFixed(2)}x` : ''
          lines.push(`${t.name.padEnd(27)} ${mode.padEnd(7)} ${rps.toFixed(0).padStart(7)}  ${p50.toFixed(1).padStart(6)} ${p99.toFixed(1).padStart(6)}  ${String(errors).padStart(6)}  ${(rps / direct).toFixed(2).padStart(8)}x  ${(rps / minimal).toFixed(2).padStart(9)}x  ${cpu.toFixed(1).padStart(10)}  ${(minimalCpu / cpu).toFixed(2).padStart(13)}x  ${vsBare.padStart(11)}`)
        }
      }
    }
    table(`median of ${REPEAT} repeat(s):`, (xs) => median(xs))
    if (REPEAT > 1) {
      lines.push('')
      table(`best of ${REPEAT} repeats (each figure the best repeat of its own path):`, (xs, higher) => (xs.length === 0 ? Number.NaN : higher ? Math.max(...xs) : Math.min(...xs)))
    }
    lines.push('')
    lines.push('time to first streamed byte (median of sequential requests), and peak RSS:')
    const minTtfb = ttfbs.get('minimal')
    const minRss = rssPeakKb(targets.find((t) => t.name === 'minimal')?.pid)
    for (const t of targets) {
      const v = ttfbs.get(t.name) ?? Number.NaN
      const rss = rssPeakKb(t.pid)
      const added = minTtfb === undefined ? '' : `  added vs minimal: ${(v - minTtfb).toFixed(3)} ms`
      const rssRatio = minRss ? `  (${(rss / minRss).toFixed(2)}x minimal)` : ''
      lines.push(`${t.name.padEnd(27)} ttfb ${v.toFixed(3)} ms${added}   peak RSS ${(rss / 1024).toFixed(1)} MiB${rssRatio}`)
    }
    process.stdout.write(`${lines.join('\n')}\n`)
  } finally {
    for (const c of children) c.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
