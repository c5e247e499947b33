/** Which changed settings a reload cannot apply: named key by key. */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/load.ts'
import { restartOnlyChanges } from '../../../src/config/reload.ts'

const config = (yaml: string) => parseConfig(`providers: { m: { type: mock } }\n${yaml}`, 'cfg.yaml', {}).config

describe('restartOnlyChanges', () => {
  it('names each changed restart-only key, and nothing a reload applies', () => {
    const running = config('server: { port: 8080 }\nredis: { url: "redis://a:6379" }')
    expect(restartOnlyChanges(running, config('server: { port: 8080 }\nredis: { url: "redis://a:6379" }'))).toEqual([])
    expect(restartOnlyChanges(running, config(`
server: { port: 9090, host: 0.0.0.0, shutdown_grace_ms: 5, admin_keys: [a] }
redis: { url: "redis://b:6379", leases: { divisor: 8 } }
store: { ledger_retention_days: 30 }
telemetry: { otlp_endpoint: "http://collector:4318" }
logging: { level: warn, access_log: false }
routing: { strategy: cost }
`))).toEqual(['server.port', 'server.host', 'store.ledger_retention_days', 'redis.url', 'redis.leases.divisor', 'telemetry.otlp_endpoint'])
  })
})
