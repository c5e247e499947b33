/**
 * Audit F, point 1: an agent continues with previous_response_id the moment it has a response.
 * The stored row must exist by then: non-streamed, before the body is sent; streamed, before
 * response.completed. With the PostgreSQL store (what several replicas share) the write used to
 * run after the response, and an immediate continuation got 404 in a fifth of the turns.
 *
 * The deterministic check holds an EXCLUSIVE lock on the table (INSERTs wait, SELECTs do not): a
 * gateway that answers before its write lands answers while the lock is held. A store that fails
 * (the table is gone) costs the stored row, never the turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import OpenAI from 'openai'
import { startStandIn, openAIChat, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { PG_BASE, pgAvailable } from '../helpers/services.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()
const KEY = 'sk-sb-audit-f-store-key-01'
const config = (vendor: StandIn, storeUrl: string) => `
logging: { level: warn }
store: { url: "${storeUrl}" }
providers:
  compat: { type: openai-compatible, base_url: "${vendor.url}/v1", responses: translate }
models:
  m: { targets: [{ provider: compat, model: qwen }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`
const client = (gw: TestGateway) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
const settledWithin = <T>(p: Promise<T>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])
/** The user texts the vendor was sent in its last request. */
const userTexts = (vendor: StandIn): unknown[] =>
  ((vendor.received.at(-1)?.json?.messages ?? []) as Array<{ role: string; content: unknown }>).filter((m) => m.role === 'user').map((m) => m.content)

describe.skipIf(!pgAvailable)('stored responses on PostgreSQL, two replicas', () => {
  const schema = `sbtest_${runId()}`
  let vendor: StandIn
  let a: TestGateway
  let b: TestGateway
  let locker: pg.Client
  beforeAll(async () => {
    vendor = await startStandIn(openAIChat('ok'))
    a = await startTestGateway(config(vendor, `${PG_BASE}?schema=${schema}`))
    b = await startTestGateway(config(vendor, `${PG_BASE}?schema=${schema}`))
    locker = new pg.Client({ connectionString: PG_BASE })
    await locker.connect()
  })
  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await vendor?.close()
    await locker?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await locker?.end()
  })

  const lock = () => locker.query(`BEGIN; LOCK TABLE ${schema}.responses_store IN EXCLUSIVE MODE`)
  const unlock = () => locker.query('COMMIT')

  it('non-streamed: the body is not sent before the row is written', async () => {
    await lock()
    let first: Promise<OpenAI.Responses.Response>
    try {
      first = client(a).responses.create({ model: 'm', input: 'turn 1' })
      expect(await settledWithin(first, 400)).toBe(false)
    } finally {
      await unlock()
    }
    const r1 = await first
    const r2 = await client(b).responses.create({ model: 'm', input: 'turn 2', previous_response_id: r1.id })
    expect(r2.previous_response_id).toBe(r1.id)
    expect(userTexts(vendor)).toEqual(['turn 1', 'turn 2'])
  })

  it('streamed: every event but response.completed goes out; that one waits for the row', async () => {
    await lock()
    const seen: string[] = []
    let done: Promise<OpenAI.Responses.Response>
    try {
      const stream = client(a).responses.stream({ model: 'm', input: 'streamed turn 1' })
      stream.on('event', (e) => seen.push(e.type))
      done = stream.finalResponse()
      expect(await settledWithin(done, 400)).toBe(false)
      expect(seen).toContain('response.output_text.delta')
      expect(seen).not.toContain('response.completed')
    } finally {
      await unlock()
    }
    const r1 = await done
    expect(seen.at(-1)).toBe('response.completed')
    const r2 = await client(b).responses.create({ model: 'm', input: 'turn 2', previous_response_id: r1.id })
    expect(r2.previous_response_id).toBe(r1.id)
    expect(userTexts(vendor)).toEqual(['streamed turn 1', 'turn 2'])
  })

  it('an immediate continuation never misses, on the same replica or the other, streamed or not', async () => {
    let misses = 0
    for (const stream of [false, true]) {
      for (const next of [a, b]) {
        for (let i = 0; i < 8; i++) {
          const r1 = stream
            ? await client(a).responses.stream({ model: 'm', input: 'go' }).finalResponse()
            : await client(a).responses.create({ model: 'm', input: 'go' })
          const r2 = await client(next).responses.create({ model: 'm', input: 'again', previous_response_id: r1.id }).catch(() => undefined)
          if (r2?.previous_response_id !== r1.id) misses++
        }
      }
    }
    expect(misses).toBe(0)
  })
})

describe('a store that fails to write', () => {
  let vendor: StandIn
  let gw: TestGateway
  beforeAll(async () => {
    vendor = await startStandIn(openAIChat('still answered'))
    const file = join(tempDir('sb-store-fails-'), 'store.db')
    gw = await startTestGateway(config(vendor, `sqlite://${file}`))
    const db = new DatabaseSync(file)
    db.exec('DROP TABLE responses_store')
    db.close()
  })
  afterAll(async () => {
    await gw?.stop()
    await vendor?.close()
  })

  it('answers the turn, streamed or not, and logs the row it could not keep', async () => {
    const r1 = await client(gw).responses.create({ model: 'm', input: 'hi' })
    expect(r1.output_text).toBe('still answered')
    const r2 = await client(gw).responses.stream({ model: 'm', input: 'hi' }).finalResponse()
    expect(r2.output_text).toBe('still answered')
    expect(gw.logs.filter((l) => l.includes('could not store the response for previous_response_id'))).toHaveLength(2)
  })
})
