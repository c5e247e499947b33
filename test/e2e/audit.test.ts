/**
 * The audit trail: admin actions through the real admin API land in the store and come back from
 * GET /admin/v1/audit (newest first, filters, cursor pages, admin auth), survive a restart, and
 * never hold key material. The store itself is checked on SQLite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { runId, startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { pgAvailable } from '../helpers/services.ts'
import { openSqlDb } from '../../src/stores/sql.ts'
import { createAuditLog } from '../../src/audit/audit-log.ts'

const ADMIN_1 = 'sb-admin-audit-one-0123456789'
const ADMIN_2 = 'sb-admin-audit-two-0123456789'
const CLIENT_KEY = 'sk-sb-audit-client-key-000000'
const adminId = (k: string) => `admin:${createHash('sha256').update(k).digest('hex').slice(0, 12)}`


type Obj = Record<string, unknown>
type Page = { object: string; data: Array<{ id: string; at: string; actor: string; action: string; target: string; detail: Obj | null }>; next_cursor: string | null }

let vendor: StandIn
let gw: TestGateway
const dbFile = join(tmpdir(), `sb-audit-${runId()}.db`)
const yaml = (vendorUrl: string) => `
server: { admin_keys: ["${ADMIN_1}", "${ADMIN_2}"] }
store: { url: "sqlite://${dbFile}" }
providers:
  up: { type: openai, base_url: ${vendorUrl}/v1, keys: ["sk-vendor-audit-000000000000000000"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }] }
teams:
  t1: { keys: { k1: { key: "${CLIENT_KEY}" } } }
`

async function admin(method: string, path: string, key = ADMIN_1, body?: unknown): Promise<{ status: number; json: Obj }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, json: (await res.json()) as Obj }
}
const audit = async (query = '', key = ADMIN_1): Promise<Page> => {
  const r = await admin('GET', `/admin/v1/audit${query}`, key)
  expect(r.status).toBe(200)
  return r.json as unknown as Page
}

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(yaml(vendor.url))
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true })
})

describe('GET /admin/v1/audit', () => {
  let keyId = ''
  let secret = ''

  it('records key create, update and revoke with who, what, on what and when, newest first', async () => {
    const t0 = new Date().toISOString()
    const created = await admin('POST', '/admin/v1/keys', ADMIN_1, { team: 't1', name: 'audited-bot' })
    expect(created.status).toBe(201)
    keyId = String(created.json.id)
    secret = String(created.json.key)
    expect((await admin('PATCH', `/admin/v1/keys/${encodeURIComponent(keyId)}`, ADMIN_2, { models: ['gpt-test'] })).status).toBe(200)
    expect((await admin('DELETE', `/admin/v1/keys/${encodeURIComponent(keyId)}`, ADMIN_1)).status).toBe(200)
    const page = await audit()
    expect(page.object).toBe('list')
    expect(page.next_cursor).toBeNull()
    expect(page.data.map((e) => [e.action, e.actor, e.target])).toEqual([
      ['key.revoke', adminId(ADMIN_1), keyId],
      ['key.update', adminId(ADMIN_2), keyId],
      ['key.create', adminId(ADMIN_1), keyId],
    ])
    expect(page.data[2]!.detail).toEqual({ team: 't1', name: 'audited-bot' })
    expect(page.data[1]!.detail).toEqual({ team: 't1', name: 'audited-bot', changes: { models: { before: null, after: ['gpt-test'] } } })
    for (const e of page.data) {
      expect(e.at >= t0 && e.at <= new Date().toISOString()).toBe(true)
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/)
    }
    const raw = JSON.stringify(page)
    for (const s of [secret, ADMIN_1, ADMIN_2]) expect(raw).not.toContain(s)
  })

  it('filters by action, actor and time, and pages with a cursor', async () => {
    expect((await audit('?action=key.update')).data.map((e) => e.actor)).toEqual([adminId(ADMIN_2)])
    expect((await audit(`?actor=${encodeURIComponent(adminId(ADMIN_1))}`)).data.map((e) => e.action)).toEqual(['key.revoke', 'key.create'])
    expect((await audit('?from=2000-01-01&to=2000-01-02')).data).toEqual([])
    const future = new Date(Date.now() + 60_000).toISOString()
    expect((await audit(`?to=${future}&from=2000-01-01T00:00:00Z`)).data).toHaveLength(3)
    const seen: string[] = []
    let cursor: string | null = ''
    for (let i = 0; i < 5 && cursor !== null; i++) {
      const p: Page = await audit(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...p.data.map((e) => e.action))
      cursor = p.next_cursor
    }
    expect(seen).toEqual(['key.revoke', 'key.update', 'key.create'])
    expect(cursor).toBeNull()
  })

  it('rejects bad parameters with 400 and the OpenAI error envelope', async () => {
    const bad = await admin('GET', '/admin/v1/audit?from=yesterday')
    expect(bad).toEqual({ status: 400, json: { error: expect.objectContaining({ code: 'invalid_request', param: 'from' }) as unknown } })
    expect((await admin('GET', '/admin/v1/audit?cursor=nonsense')).status).toBe(400)
    expect((await admin('GET', '/admin/v1/audit?limit=0')).status).toBe(400)
  })

  it('needs an admin key: none is 401, a virtual key is 403', async () => {
    expect((await fetch(`${gw.url}/admin/v1/audit`)).status).toBe(401)
    expect((await admin('GET', '/admin/v1/audit', 'sb-not-an-admin-key')).status).toBe(401)
    expect((await admin('GET', '/admin/v1/audit', CLIENT_KEY)).status).toBe(403)
  })

  it('is durable: a restarted gateway on the same store reads the same trail', async () => {
    const before = await audit()
    await gw.stop()
    gw = await startTestGateway(yaml(vendor.url))
    expect(await audit()).toEqual(before)
  })
})

describe.each([
  { name: 'SQLite', available: true, url: () => 'sqlite::memory:' },
  { name: 'PostgreSQL', available: pgAvailable, url: () => `postgres://postgres@127.0.0.1:5432/test?schema=sbtest_${runId()}`.toLowerCase() },
])('audit store on $name', ({ available, url }) => {
  it.skipIf(!available)('records directly through the AuditLog port (config reload) and scrubs secrets from detail', async () => {
    const storeUrl = url()
    const db = await openSqlDb(storeUrl)
    try {
      const log = pino({ level: 'silent' })
      const store = await createAuditLog(db, log)
      store.record({ actor: 'system', action: 'config.reload', target: 'switchboard.yaml', detail: { models: 3, key: 'sk-leak-0000000000000000', nested: { token: 'x' } } })
      for (let i = 0; i < 4; i++) store.record({ actor: 'admin:abc', action: 'key.create', target: `key_${i}` })
      await store.flush()
      const all = await store.list({ limit: 10 })
      expect(all.entries.map((e) => e.target)).toEqual(['key_3', 'key_2', 'key_1', 'key_0', 'switchboard.yaml'])
      expect(all.entries[4]!.detail).toEqual({ models: 3, key: '[redacted]', nested: { token: '[redacted]' } })
      const p1 = await store.list({ limit: 2, action: 'key.create' })
      const p2 = await store.list({ limit: 2, action: 'key.create', cursor: p1.nextCursor! })
      expect([...p1.entries, ...p2.entries].map((e) => e.target)).toEqual(['key_3', 'key_2', 'key_1', 'key_0'])
      expect(p2.nextCursor).toBeNull()
      // A second instance on the same store continues the sequence (a restart).
      const again = await createAuditLog(db, log)
      again.record({ actor: 'system', action: 'config.reload', target: 'switchboard.yaml' })
      expect((await again.list({ limit: 1 })).entries[0]!.action).toBe('config.reload')
    } finally {
      if (storeUrl.startsWith('postgres')) await db.exec(`DROP SCHEMA IF EXISTS ${new URL(storeUrl).searchParams.get('schema')} CASCADE`)
      await db.close()
    }
  })
})
