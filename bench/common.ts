/**
 * What the benchmark scripts share: the variants' gateway configs, the request bodies, and how the
 * stand-ins are started. `run.ts` measures throughput and latency; `instructions.ts` counts the
 * instructions each path executes per request.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'

export const KEY = 'sk-sb-bench-key-000000000000'

export const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer()
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port
    s.close(() => resolve(p))
  })
})

export function spawnTs(file: string, env: Record<string, string>, args: string[] = []): { child: ChildProcess; port: Promise<number> } {
  const child = fork(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] })
  const port = new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port))
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)))
  })
  return { child, port }
}

/**
 * Gateway variants. Each adds to `bare` (key auth, routing, the SQLite ledger: the floor every
 * deployment has), so a feature's cost is its variant's ratio to `bare`.
 */
export type Variant = 'bare' | 'limits' | 'limits-redis' | 'metrics' | 'tracing-10' | 'telemetry' | 'tracing' | 'cache-hit' | 'all' | 'all-redis'
export const VARIANTS: readonly Variant[] = ['bare', 'limits', 'limits-redis', 'metrics', 'tracing-10', 'telemetry', 'tracing', 'cache-hit', 'all', 'all-redis']

/** Environment of a variant's gateway: `tracing-10` samples one trace in ten at the head (standard OTel variables). */
export const variantEnv = (v: Variant): Record<string, string> =>
  v === 'tracing-10' ? { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } : {}

export function gatewayConfig(vendor: string, collector: string, v: Variant, dir: string): string {
  const has = (...names: Variant[]) => names.includes(v)
  const limits = has('limits', 'limits-redis', 'all', 'all-redis')
  const redis = has('limits-redis', 'all-redis')
  const metrics = has('metrics', 'tracing-10', 'telemetry', 'tracing', 'all', 'all-redis')
  const accessLog = has('telemetry', 'tracing', 'all', 'all-redis')
  const tracing = has('tracing-10', 'tracing', 'all', 'all-redis')
  return `
server: { host: 127.0.0.1, admin_keys: ["bench-admin"] }
store: { url: "sqlite://${join(dir, 'bench.db')}" }
${redis ? `redis: { url: "redis://127.0.0.1:6379", key_prefix: "sbbench:${process.pid}:${v}:" }` : ''}
providers:
  up: { type: openai, base_url: ${vendor}/v1, keys: ["sk-vendor-bench"] }
models:
  bench:
    targets: [{ provider: up, model: bench-model }]
    pricing: { input: 0.15, output: 0.6 }
teams:
  bench:
    ${limits ? 'limits: { rpm: 100000000, tpm: 100000000000, concurrency: 100000 }' : ''}
    ${limits ? 'budget: { usd: 100000000, period: monthly }' : ''}
    keys: { bench: { key: "${KEY}" } }
${has('cache-hit') ? 'cache: { enabled: true, mode: all }' : ''}
telemetry: { metrics: ${metrics}, otlp_endpoint: "${tracing ? collector : ''}" }
logging: { level: ${accessLog ? 'info' : 'warn'}, access_log: ${accessLog} }
`
}

/**
 * `small`: one short question. `agent`: what a coding agent sends deep into a task, ~65 KB: a
 * system prompt, 60 turns of conversation (tool calls and their JSON results included) and 20 tool
 * definitions, in the Python SDK's member order (messages before model).
 */
const AGENT_MESSAGES = [
  { role: 'system', content: 'You are a careful coding agent. Use the tools to read and edit files. '.repeat(20) },
  ...Array.from({ length: 60 }, (_, i) => i % 3 === 0
    ? { role: 'user', content: `Step ${i}: fix the failing test in src/module-${i}.ts and explain the change. `.repeat(12) }
    : i % 3 === 1
      ? { role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'read_file', arguments: JSON.stringify({ path: `src/module-${i}.ts` }) } }] }
      : { role: 'tool', tool_call_id: `call_${i - 1}`, content: JSON.stringify({ path: `src/module-${i}.ts`, text: 'export function f(x: number): number {\n  return x * 2 // "doubled"\n}\n'.repeat(20) }) }),
]
const AGENT_TOOLS = Array.from({ length: 20 }, (_, i) => ({ type: 'function', function: { name: `tool_${i}`, description: 'Reads, searches or edits files in the working tree. '.repeat(4), parameters: { type: 'object', properties: { path: { type: 'string' }, pattern: { type: 'string' } }, required: ['path'] } } }))
export type BodyKind = 'small' | 'agent'
export const requestBody = (kind: BodyKind, stream: boolean): string => kind === 'agent'
  ? JSON.stringify({ messages: AGENT_MESSAGES, model: 'bench', tools: AGENT_TOOLS, ...(stream ? { stream: true } : {}) })
  : JSON.stringify({ model: 'bench', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say something about foxes.' }], ...(stream ? { stream: true } : {}) })
