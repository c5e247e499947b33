/**
 * Shutdown closes every runtime still open, not only the current one: a runtime a reload replaced
 * is closed only after routing.timeouts.total_ms (its requests may still run), so a SIGTERM soon
 * after a reload (the usual rollout) never closed it, and the rate-limit lease it held in Redis was
 * never handed back: the shared count stayed a whole block too high.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { parseConfig } from '../../src/config/load.ts'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { REDIS_URL, redisAvailable } from '../helpers/services.ts'
import { chat } from './ledger-support.ts'

const KEY = 'sk-sb-shutdown-reload-0001'

describe.skipIf(!redisAvailable)('shutdown after a reload', () => {
  let vendor: StandIn
  let gw: TestGateway | undefined
  let client: Redis
  const prefix = `sbtest:${runId()}:`
  const yaml = (comment = '') => `
store: { url: "sqlite::memory:" }
redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  m: { targets: [{ provider: up, model: up-m }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t:
    limits: { rpd: 100000 }
    keys: { k: { key: "${KEY}" } }
${comment}
`

  beforeAll(async () => {
    vendor = await startStandIn()
    client = new Redis(REDIS_URL)
    gw = await startTestGateway(yaml())
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
    client?.disconnect()
  })

  it("hands back the lease of the runtime a reload replaced", async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] }
    expect((await chat(gw!.url, KEY, body)).status).toBe(200)
    // The call took a lease: a block of the daily limit counted in Redis and spent locally.
    const used = async () => Number(await client.hget(`{${prefix}t:t}:t`, 'dn'))
    expect(await used()).toBeGreaterThan(100)
    expect((await gw!.reload(parseConfig(yaml('# reloaded'), 'test.yaml', {}))).applied).toBe(true)
    // At once (well within total_ms, and before the lease's own idle hand-back, 5 s).
    await gw!.shutdown(1000)
    gw = undefined
    expect(await used()).toBe(1)
  })
})
