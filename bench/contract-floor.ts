/**
 * A second yardstick beside the minimal pass-through: the least a gateway honouring the spec's
 * per-request contract must do, written as directly as possible on the same node:http + undici
 * Pool.stream base, with no configuration, no routing, no abstraction. `npm run bench -- --only
 * minimal,floor,bare,floor-all,all` puts Switchboard between the two: the gap from minimal to floor
 * is what the contract costs on this stack; the gap from floor to Switchboard is ours.
 *
 * FLOOR=bare: the virtual key hashed and looked up, a request id, the body validated (model,
 * messages), the model swapped, the non-streamed answer held to read its usage and price it
 * (x-switchboard-cost-usd comes before the body), the response headers of spec section 4, and a
 * ledger row batched into SQLite (rowid key, indexes on time, team and key, as the ledger has).
 * FLOOR=all adds: per-minute request and token windows with their six x-ratelimit headers, a
 * budget counter, prom-client counters and a histogram, a JSON access line through a batched
 * asynchronous write, and the two spans of a traced request encoded to OTLP protobuf (with
 * Switchboard's own encoder, the fastest we have) and POSTed in batches.
 */
import { createServer, type ServerResponse } from 'node:http'
import { createHash, randomUUID } from 'node:crypto'
import { DatabaseSync } from 'node:sqlite'
import { createWriteStream } from 'node:fs'
import { Writable } from 'node:stream'
import { Pool, request } from 'undici'
import { Counter, Histogram, Registry } from 'prom-client'
import { LeanTracer, type LeanSpan } from '../src/telemetry/spans.ts'
import { encodeEnvelope, encodeRequest, encodeSpan, type EncodedSpan } from '../src/telemetry/otlp-proto.ts'
import { KEY } from './common.ts'

const ALL = process.env.FLOOR === 'all'
const pool = new Pool(process.env.UPSTREAM ?? 'http://127.0.0.1:1', { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 })
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')
const keys = new Map([[sha256(KEY), { team: 'bench', keyId: 'bench' }]])

const db = new DatabaseSync(process.env.DB ?? ':memory:')
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL')
db.exec(`CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY, request_id TEXT, ts INTEGER, team TEXT, key_id TEXT, model TEXT, provider TEXT,
  upstream_model TEXT, status INTEGER, input INTEGER, output INTEGER, cost REAL, ms REAL, stream INTEGER, cache TEXT)`)
db.exec('CREATE INDEX IF NOT EXISTS l_ts ON ledger (ts); CREATE INDEX IF NOT EXISTS l_team ON ledger (team, ts); CREATE INDEX IF NOT EXISTS l_key ON ledger (key_id, ts)')
const insert = db.prepare('INSERT INTO ledger (request_id, ts, team, key_id, model, provider, upstream_model, status, input, output, cost, ms, stream, cache) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)')
type Row = [string, number, string, string, string, string, string, number, number, number, number, number, number, string]
let rows: Row[] = []
function ledger(row: Row): void {
  if (rows.length === 0) setImmediate(flushLedger)
  rows.push(row)
}
function flushLedger(): void {
  const batch = rows
  rows = []
  db.exec('BEGIN')
  for (const r of batch) insert.run(...r)
  db.exec('COMMIT')
}

const registry = new Registry()
const requests = new Counter({ name: 'floor_requests_total', help: 'requests', labelNames: ['model', 'team', 'status'], registers: [registry] })
const tokens = new Counter({ name: 'floor_tokens_total', help: 'tokens', labelNames: ['model', 'team', 'kind'], registers: [registry] })
const duration = new Histogram({ name: 'floor_duration_seconds', help: 'duration', labelNames: ['model'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300], registers: [registry] })
const window = { minute: 0, requests: 0, tokens: 0, spentUsd: 0 }
const logOut = createWriteStream('/dev/null')
let logBatch = ''
function logLine(line: string): void {
  if (logBatch === '') setTimeout(() => { logOut.write(logBatch); logBatch = '' }, 250)
  logBatch += line
  if (logBatch.length > 65_536) { logOut.write(logBatch); logBatch = '' }
}
let spans: EncodedSpan[] = []
const envelope = encodeEnvelope({ 'service.name': 'contract-floor' }, 'contract-floor', '1')
const exportSpans = (): void => {
  const batch = spans
  spans = []
  request(`${process.env.COLLECTOR}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeRequest(envelope, batch) }).then((r) => r.body.dump(), () => {})
}
const tracer = new LeanTracer(() => true, { onEnd(s) { if (spans.push(encodeSpan(s)) >= 512) exportSpans() } })
if (ALL) setInterval(() => { if (spans.length > 0) exportSpans() }, 1000).unref()

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }))
}

const usageOf = (text: string): { input: number; output: number } => {
  const u = JSON.parse(text) as { prompt_tokens: number; completion_tokens: number }
  return { input: u.prompt_tokens, output: u.completion_tokens }
}

const server = createServer((req, res) => {
  const t0 = performance.now()
  const auth = req.headers.authorization
  const principal = auth?.startsWith('Bearer ') ? keys.get(sha256(auth.slice(7))) : undefined
  if (!principal) return refuse(res, 401, 'invalid key')
  const given = req.headers['x-request-id']
  const requestId = typeof given === 'string' && given.length <= 128 ? given : randomUUID()
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const parsed = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>
    if (typeof parsed.model !== 'string' || !Array.isArray(parsed.messages)) return refuse(res, 400, 'model and messages are required')
    const stream = parsed.stream === true
    const headers: Record<string, string> = { 'x-request-id': requestId }
    let span: LeanSpan | undefined
    let attempt: LeanSpan | undefined
    if (ALL) {
      const now = Date.now()
      const minute = Math.floor(now / 60_000)
      if (minute !== window.minute) Object.assign(window, { minute, requests: 0, tokens: 0 })
      if (window.spentUsd > 1e8) return refuse(res, 429, 'budget exceeded')
      window.requests++
      const reset = `${((60_000 - (now % 60_000)) / 1000).toFixed(3)}s`
      headers['x-ratelimit-limit-requests'] = '100000000'
      headers['x-ratelimit-remaining-requests'] = String(100_000_000 - window.requests)
      headers['x-ratelimit-reset-requests'] = reset
      headers['x-ratelimit-limit-tokens'] = '100000000000'
      headers['x-ratelimit-remaining-tokens'] = String(100_000_000_000 - window.tokens)
      headers['x-ratelimit-reset-tokens'] = reset
      span = tracer.startRoot('chat bench', 1, performance.timeOrigin + t0, undefined)
      span.set('gen_ai.operation.name', 'chat')
      span.set('gen_ai.request.model', 'bench')
      span.set('switchboard.request_id', requestId)
      span.set('switchboard.team', principal.team)
      span.set('switchboard.key_id', principal.keyId)
      span.set('switchboard.stream', stream)
      attempt = span.child('chat bench-model', 2, performance.timeOrigin + performance.now())
      attempt.set('gen_ai.operation.name', 'chat')
      attempt.set('gen_ai.provider.name', 'openai')
      attempt.set('gen_ai.request.model', 'bench-model')
      attempt.set('switchboard.attempt', 1)
      attempt.set('server.address', '127.0.0.1')
    }
    headers['x-switchboard-cache'] = 'bypass'
    headers['x-switchboard-provider'] = 'up'
    headers['x-switchboard-model'] = 'bench-model'
    headers['x-switchboard-attempts'] = '1'
    const body = JSON.stringify({ ...parsed, model: 'bench-model', ...(stream ? { stream_options: { include_usage: true } } : {}) })
    const upstreamHeaders: Record<string, string> = { 'content-type': 'application/json', authorization: 'Bearer sk-vendor-bench' }
    if (attempt) upstreamHeaders.traceparent = attempt.traceparent()
    const held: Buffer[] = []
    let status = 0
    let usage = { input: 0, output: 0 }
    pool.stream({ path: '/v1/chat/completions', method: 'POST', headers: upstreamHeaders, body }, ({ statusCode, headers: vendor }) => {
      status = statusCode
      if (stream) {
        headers['content-type'] = String(vendor['content-type'])
        res.writeHead(statusCode, headers)
      }
      return new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (!stream) {
            held.push(chunk)
            return cb()
          }
          const at = chunk.indexOf('"usage":{')
          if (at >= 0) usage = usageOf(chunk.toString('latin1', at + 8, chunk.indexOf('}', at) + 1))
          if (res.write(chunk)) cb()
          else res.once('drain', cb)
        },
        final(cb) {
          const all = stream ? undefined : held.length === 1 ? held[0]! : Buffer.concat(held)
          if (all) {
            const at = all.lastIndexOf('"usage":{')
            if (at >= 0) usage = usageOf(all.toString('latin1', at + 8, all.indexOf('}', at) + 1))
          }
          const cost = (usage.input * 0.15 + usage.output * 0.6) / 1e6
          if (all) {
            headers['x-switchboard-cost-usd'] = cost.toFixed(8)
            headers['content-type'] = 'application/json'
            headers['content-length'] = String(all.length)
            res.writeHead(status, headers)
            res.end(all)
          } else {
            res.end()
          }
          const ms = performance.now() - t0
          ledger([requestId, Date.now(), principal.team, principal.keyId, 'bench', 'up', 'bench-model', status, usage.input, usage.output, cost, ms, stream ? 1 : 0, 'bypass'])
          if (span && attempt) {
            window.tokens += usage.input + usage.output
            window.spentUsd += cost
            requests.inc({ model: 'bench', team: principal.team, status: String(status) })
            tokens.inc({ model: 'bench', team: principal.team, kind: 'input' }, usage.input)
            tokens.inc({ model: 'bench', team: principal.team, kind: 'output' }, usage.output)
            duration.observe({ model: 'bench' }, ms / 1000)
            logLine(`${JSON.stringify({ level: 'info', time: Date.now(), msg: 'request', requestId, team: principal.team, keyId: principal.keyId, model: 'bench', provider: 'up', status, durationMs: ms, inputTokens: usage.input, outputTokens: usage.output, costUsd: cost, trace_id: span.traceId })}\n`)
            const end = performance.timeOrigin + performance.now()
            attempt.set('gen_ai.usage.input_tokens', usage.input)
            attempt.set('gen_ai.usage.output_tokens', usage.output)
            attempt.end(end)
            span.set('gen_ai.usage.input_tokens', usage.input)
            span.set('gen_ai.usage.output_tokens', usage.output)
            span.set('switchboard.cost_usd', cost)
            span.end(end)
          }
          cb()
        },
      })
    }, (err) => {
      if (err && !res.headersSent) {
        res.writeHead(502)
        res.end()
      }
    })
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const addr = server.address()
  process.send?.({ port: typeof addr === 'object' && addr ? addr.port : 0 })
})
