/**
 * Issue 11, point 2: responses the gateway stores for translated targets are kept "with a retention
 * limit": once older than store.responses_retention_days, GET /v1/responses/{id} and a continuation
 * by previous_response_id treat them as gone, while a newer one still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import OpenAI from 'openai'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startScriptedVendor, type ScriptedVendor } from '../agents/scripted-vendor.ts'
import { tempDirs } from '../helpers/temp-dir.ts'

const tempDir = tempDirs()

const KEY = 'sk-sb-audit11-retention-key'
const DAY_MS = 86_400_000

let vendor: ScriptedVendor
let gw: TestGateway
let client: OpenAI
let dbFile: string

beforeAll(async () => {
  vendor = await startScriptedVendor()
  dbFile = join(tempDir('sb-resp-retention-'), 'store.db')
  gw = await startTestGateway(`
logging: { level: silent }
store: { url: "sqlite://${dbFile}", responses_retention_days: 2 }
providers:
  anthropic: { type: anthropic, base_url: "${vendor.url}", keys: ["sk-ant-vendor"] }
models:
  claude: { targets: [{ provider: anthropic, model: claude-sonnet-4-5 }] }
routing: { retries: { max_attempts: 1 } }
teams:
  a: { keys: { k: { key: "${KEY}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

describe('stored responses past their retention', () => {
  it('are gone for GET and previous_response_id; a newer one is not', async () => {
    const old = await client.responses.create({ model: 'claude', input: 'hi' })
    const recent = await client.responses.create({ model: 'claude', input: 'hello' })
    expect((await client.responses.retrieve(old.id)).id).toBe(old.id)

    const db = new DatabaseSync(dbFile)
    db.prepare('UPDATE responses_store SET created_at = ? WHERE id = ?').run(Date.now() - 3 * DAY_MS, old.id)
    db.prepare('UPDATE responses_store SET created_at = ? WHERE id = ?').run(Date.now() - 1 * DAY_MS, recent.id)
    db.close()

    await expect(client.responses.retrieve(old.id)).rejects.toMatchObject({ status: 404 })
    await expect(client.responses.create({ model: 'claude', previous_response_id: old.id, input: 'again' })).rejects.toMatchObject({ status: 404 })
    expect((await client.responses.retrieve(recent.id)).id).toBe(recent.id)
    const next = await client.responses.create({ model: 'claude', previous_response_id: recent.id, input: 'again' })
    expect(next.previous_response_id).toBe(recent.id)
  })
})
