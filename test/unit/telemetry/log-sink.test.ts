import { describe, expect, it } from 'vitest'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogSink } from '../../../src/telemetry/log-sink.ts'
import { createLogger } from '../../../src/telemetry/logger.ts'
import { createAccessLog } from '../../../src/telemetry/access-log.ts'
import type { CallInfo, CallOutcome } from '../../../src/core/call.ts'
import { tempDirs } from '../../helpers/temp-dir.ts'

const tempDir = tempDirs()

const tmpFile = () => join(tempDir('sb-sink-'), 'out.log')
const flushed = (sink: { flush(cb: (err?: Error) => void): void }) => new Promise<void>((resolve, reject) => sink.flush((err) => (err ? reject(err) : resolve())))

describe('log sink', () => {
  it('holds lines until a batch fills, then writes them in order in one go', async () => {
    const file = tmpFile()
    const fd = openSync(file, 'w')
    const sink = createLogSink(fd, { batchBytes: 100 })
    sink.write('a'.repeat(40) + '\n')
    sink.write('b'.repeat(40) + '\n')
    await new Promise((r) => setTimeout(r, 20))
    expect(readFileSync(file, 'utf8')).toBe('') // under the batch size: nothing written yet
    sink.write('c'.repeat(40) + '\n')
    for (let i = 0; i < 50; i++) sink.write(`line ${i}\n`)
    await flushed(sink)
    const text = readFileSync(file, 'utf8')
    expect(text.startsWith(`${'a'.repeat(40)}\n${'b'.repeat(40)}\n${'c'.repeat(40)}\n`)).toBe(true)
    expect(text.trimEnd().split('\n').slice(3)).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`))
    closeSync(fd)
  })

  it('flush writes a partial batch, and flushSync writes what is queued before returning', async () => {
    const file = tmpFile()
    const fd = openSync(file, 'w')
    const sink = createLogSink(fd)
    sink.write('one\n')
    await flushed(sink)
    expect(readFileSync(file, 'utf8')).toBe('one\n')
    sink.write('two\n')
    sink.flushSync()
    expect(readFileSync(file, 'utf8')).toBe('one\ntwo\n')
    closeSync(fd)
  })

  it('a flush covers the lines queued when it was asked, even while new lines keep arriving', async () => {
    const file = tmpFile()
    const fd = openSync(file, 'w')
    const sink = createLogSink(fd)
    sink.write('first\n')
    const done = flushed(sink)
    sink.write('second\n') // queued behind the write in flight; not part of that flush
    await done
    expect(readFileSync(file, 'utf8')).toBe('first\n')
    const next = flushed(sink)
    sink.write('third\n')
    await next
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n')
    sink.flushSync()
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\nthird\n')
    closeSync(fd)
  })

  it('drops and counts lines once the reader is further behind than maxPendingBytes', () => {
    const file = tmpFile()
    const fd = openSync(file, 'w')
    const sink = createLogSink(fd, { batchBytes: 1 << 20, maxPendingBytes: 10 })
    expect(sink.write('0123456789ab\n')).toBe(true)
    expect(sink.write('dropped\n')).toBe(false)
    expect(sink.dropped()).toBe(1)
    sink.flushSync()
    expect(readFileSync(file, 'utf8')).toBe('0123456789ab\n')
    closeSync(fd)
  })
})

describe('access log lines', () => {
  const call = {
    requestId: 'req-1', operation: 'chat', publicModel: 'm"odel', runId: 'run-1', stream: true,
    principal: { team: 't1', keyId: 'k1' },
  } as unknown as CallInfo
  const outcome = {
    status: 200, provider: 'up', upstreamModel: 'm-up', cache: 'miss', costUsd: 0.5, durationMs: 12.34, clientAborted: false,
    usage: { inputTokens: 3, outputTokens: 4, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    attempts: [{ provider: 'a', upstreamModel: 'x', publicModel: 'm', attempt: 1, fallback: false, status: 429, error: 'rate_limited', durationMs: 1 }, { provider: 'up', upstreamModel: 'm-up', publicModel: 'm', attempt: 2, fallback: false, status: 200, durationMs: 2 }],
  } as unknown as CallOutcome

  it('are pino-shaped JSON with the trace ids, the fields an on-call engineer needs and the failed attempts', () => {
    const lines: string[] = []
    const log = createLogger('info', { write: (s: string) => { lines.push(s) } })
    createAccessLog(log).request(call, outcome, 1.26, { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) })
    expect(lines).toHaveLength(1)
    expect(lines[0]!.endsWith('\n')).toBe(true)
    const line = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(Object.keys(line).slice(0, 5)).toEqual(['level', 'time', 'service', 'trace_id', 'span_id'])
    expect(line).toMatchObject({
      level: 'info', service: 'switchboard', trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(8), msg: 'request',
      requestId: 'req-1', model: 'm"odel', team: 't1', keyId: 'k1', runId: 'run-1', status: 200, attempts: 2, ttftMs: 1.3, durationMs: 12.3,
      failedAttempts: [{ provider: 'a', model: 'x', status: 429, error: 'rate_limited' }],
    })
    expect(Number.isNaN(Date.parse(line.time as string))).toBe(false)
  })

  it('are not written when the level is above info', () => {
    const lines: string[] = []
    const log = createLogger('warn', { write: (s: string) => { lines.push(s) } })
    const access = createAccessLog(log)
    access.request(call, outcome, undefined)
    access.refused({ requestId: 'r', method: 'POST', path: '/v1/chat/completions?x=1', status: 401, code: 'invalid_api_key', durationMs: 1 })
    expect(lines).toEqual([])
    log.level = 'info'
    access.refused({ requestId: 'r', method: 'POST', path: '/v1/chat/completions?x=1', status: 401, code: 'invalid_api_key', durationMs: 1 })
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'request refused', path: '/v1/chat/completions', status: 401 })
  })
})
