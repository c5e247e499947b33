/**
 * Starts the real gateway in-process on a random port from a YAML config string, with logs
 * captured in memory so tests can grep them (e.g. for leaked keys).
 */
import { Writable } from 'node:stream'
import { parseConfig } from '../../src/config/load.ts'
import { startGateway, type Gateway } from '../../src/gateway.ts'
import { createLogger } from '../../src/telemetry/logger.ts'

export interface TestGateway extends Gateway {
  logs: string[]
  stop(): Promise<void>
}

export async function startTestGateway(yaml: string, env: Record<string, string | undefined> = {}): Promise<TestGateway> {
  const loaded = parseConfig(yaml, 'test.yaml', env)
  // Tests never share the default on-disk store: unless a test names one, it gets its own in memory.
  if (!/^\s*store:/m.test(yaml)) loaded.config.store.url = 'sqlite::memory:'
  const logs: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      cb()
    },
  })
  const log = createLogger(loaded.config.logging.level === 'info' ? 'debug' : loaded.config.logging.level, sink)
  const gw = await startGateway({ loaded, log, env, port: 0, host: '127.0.0.1' })
  return Object.assign(gw, { logs, stop: () => gw.shutdown(1000) })
}

/** A unique suffix for Redis key prefixes and Postgres schemas, so concurrent runs never collide. */
export const runId = (): string => `${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
