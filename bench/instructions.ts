/**
 * `npm run bench:instructions`: the instructions each path executes per request, counted by
 * valgrind's callgrind, for the minimal pass-through and the chosen Switchboard variants, each in
 * its own process behind the same vendor stand-in.
 *
 * Why, next to run.ts: on a shared machine the time a run takes moves by 10-50% with what other
 * tenants do, while an instruction count for the same code and inputs repeats within ~1-2%. So a
 * change can be judged in one run. What it does not see: cache misses, page faults and the kernel's
 * share (system calls are not counted); and it counts instructions, not cycles, so a tight loop a
 * CPU runs several instructions a cycle weighs as much as code that waits on memory. It complements
 * run.ts's ratios rather than replacing them. Counting starts after a warm-up (V8
 * optimizes as it goes) and covers the main thread and, separately, every thread (GC helpers and
 * the optimizing compiler included).
 *
 *   npm run bench:instructions -- [--only minimal,bare,all] [--warmup 30000] [--requests 5000] [--body small|agent] [--stream]
 *
 * Needs valgrind (Debian: apt install valgrind); without it the script says so and exits.
 * Under valgrind a request takes ~50x longer: the defaults take about two minutes per path (the
 * warm-up runs uninstrumented, much faster). The warm-up is long because V8 moves a function
 * called once per request from Maglev to TurboFan only after some 10-25 thousand requests; after
 * 6000 (this script's earlier default) most of the gateway's per-request code was still Maglev
 * code, and counts read ~10% high.
 * Counting 5000 requests spreads the garbage collector's scavenges (one every few thousand requests)
 * evenly enough that two runs of the same code agree within a few percent.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { KEY, VARIANTS, freePort, gatewayConfig, requestBody, spawnTs, variantEnv, type BodyKind, type Variant } from './common.ts'

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'minimal,bare,all' },
    warmup: { type: 'string', default: '30000' },
    requests: { type: 'string', default: '5000' },
    body: { type: 'string', default: 'small' },
    stream: { type: 'boolean', default: false },
  },
})
if (values.body !== 'small' && values.body !== 'agent') throw new Error(`--body is small or agent, not ${values.body}`)
const BODY: BodyKind = values.body
const WARMUP = Number(values.warmup)
const REQUESTS = Number(values.requests)
const ONLY = values.only.split(',')
for (const name of ONLY) {
  if (name !== 'minimal' && !VARIANTS.includes(name as Variant)) throw new Error(`--only: unknown path "${name}" (minimal, ${VARIANTS.join(', ')})`)
}
const here = new URL('.', import.meta.url).pathname
const root = join(here, '..')
// Eight requests in flight, each connection reused: enough to keep the process busy without the
// load generator (not under valgrind) being what limits the rate.
const IN_FLIGHT = 8
const dispatcher = new Agent({ connections: IN_FLIGHT })

async function drive(url: string, n: number, body: string): Promise<void> {
  let started = 0
  const worker = async () => {
    while (started++ < n) {
      const r = await request(`${url}/v1/chat/completions`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body })
      await r.body.text()
      if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

async function waitServing(url: string, child: ChildProcess, body: string): Promise<void> {
  // Starting under valgrind takes a while (the tokenizer preload alone is tens of seconds).
  const deadline = Date.now() + 300_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`)
    try {
      await drive(url, 1, body)
      return
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`${url} did not start serving within 5 minutes`)
}

/** Instructions in the dumps callgrind wrote for `pid`: the main thread's (file -01) and all threads'. */
function totals(dir: string, pid: number): { main: number; all: number } {
  let main = 0
  let all = 0
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(`cg.${pid}.`)) continue
    const m = /^totals: (\d+)$/m.exec(readFileSync(join(dir, f), 'utf8'))
    if (!m) continue
    all += Number(m[1])
    if (f.endsWith('-01')) main += Number(m[1])
  }
  return { main, all }
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stdout.write('bench:instructions needs valgrind (Debian: apt install valgrind); it is not installed, so nothing was measured.\n')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'sb-instr-'))
  const children: ChildProcess[] = []
  // Interrupted: valgrind's processes would otherwise run on, and its dumps stay behind.
  const stop = () => {
    for (const c of children) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const body = requestBody(BODY, values.stream)
  try {
    const vendorProc = spawnTs(join(here, 'stand-in-server.ts'), {})
    children.push(vendorProc.child)
    const vendor = `http://127.0.0.1:${await vendorProc.port}`
    const sinkProc = spawnTs(join(here, 'otlp-sink.ts'), {})
    children.push(sinkProc.child)
    const collector = `http://127.0.0.1:${await sinkProc.port}`

    const results: Array<{ name: string; main: number; all: number }> = []
    for (const name of ONLY) {
      const port = await freePort()
      let target: string[]
      let env: Record<string, string> = { PORT: String(port), UPSTREAM: vendor }
      if (name === 'minimal') {
        target = [join(here, 'minimal-proxy.ts')]
      } else {
        const cfg = join(dir, `${name}.yaml`)
        writeFileSync(cfg, gatewayConfig(vendor, collector, name as Variant, join(dir, name)))
        target = [join(root, 'src/main.ts'), '--config', cfg, '--port', String(port)]
        env = { ...env, ...variantEnv(name as Variant) }
      }
      const child = spawn('valgrind', [
        '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', '--separate-threads=yes',
        `--callgrind-out-file=${join(dir, 'cg.%p')}`, process.execPath, ...target,
      ], { env: { ...process.env, ...env }, stdio: 'ignore' })
      children.push(child)
      const url = `http://127.0.0.1:${port}`
      await waitServing(url, child, body)
      await drive(url, WARMUP, body)
      const pid = String(child.pid)
      execFileSync('callgrind_control', ['--zero', pid], { stdio: 'ignore' })
      execFileSync('callgrind_control', ['--instr=on', pid], { stdio: 'ignore' })
      await drive(url, REQUESTS, body)
      execFileSync('callgrind_control', ['--instr=off', pid], { stdio: 'ignore' })
      execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' })
      child.kill('SIGKILL')
      const t = totals(dir, child.pid!)
      results.push({ name, main: t.main / REQUESTS, all: t.all / REQUESTS })
      process.stderr.write(`${name}: ${Math.round(t.main / REQUESTS)} instructions per request on the main thread\n`)
    }

    const minimal = results.find((r) => r.name === 'minimal')
    const bare = results.find((r) => r.name === 'bare')
    const lines = [
      `Instructions per request (callgrind): ${BODY} body, ${values.stream ? 'streamed' : 'non-streamed'}, ${REQUESTS} requests counted after ${WARMUP} of warm-up, ${IN_FLIGHT} in flight, node ${process.version}`,
      'path            main thread  vs minimal  vs bare   all threads  vs minimal  vs bare',
    ]
    const ratio = (x: number, base: { main: number; all: number } | undefined, k: 'main' | 'all') => (base ? `${(x / base[k]).toFixed(2)}x` : '')
    for (const r of results) {
      lines.push(`${r.name.padEnd(15)} ${Math.round(r.main).toString().padStart(11)}  ${ratio(r.main, minimal, 'main').padStart(10)}  ${ratio(r.main, bare, 'main').padStart(7)}   ${Math.round(r.all).toString().padStart(11)}  ${ratio(r.all, minimal, 'all').padStart(10)}  ${ratio(r.all, bare, 'all').padStart(7)}`)
    }
    process.stdout.write(`${lines.join('\n')}\n`)
  } finally {
    for (const c of children) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench:instructions failed: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
