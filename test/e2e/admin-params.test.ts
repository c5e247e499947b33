/**
 * Time and cursor parameters of the admin read endpoints (spend, requests, audit) are strict: an
 * ISO-8601 date (a UTC day) or a date-time with its zone, else 400 naming the parameter. Before,
 * `from=1` was read as 2001, 'November 20, 2026' was accepted, and a date-time without a zone was
 * read in the server's local time zone (replicas in different zones answered differently). A
 * cursor naming a row id or sequence past the safe integers reached Postgres as an out-of-range
 * bigint (a 500), and the audit endpoint answered `from` after `to` with an empty page where the
 * others answer 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { admin, dropPgSchema, pgAvailable, pgSchema, pgUrl, removeSqlite, sqlitePath, sqliteUrl, storeOnlyConfig } from './keys-support.ts'

const schema = pgSchema()
const file = sqlitePath()
const stores = [
  { name: 'sqlite', available: true, url: sqliteUrl(file), cleanup: async () => removeSqlite(file) },
  { name: 'postgres', available: pgAvailable, url: pgUrl(schema), cleanup: () => dropPgSchema(schema) },
]
const ENDPOINTS = ['/admin/v1/spend', '/admin/v1/requests', '/admin/v1/audit']
const b64 = (s: string) => Buffer.from(s).toString('base64url')

for (const store of stores) {
  describe.skipIf(!store.available)(`admin time and cursor parameters (${store.name})`, () => {
    let gw: TestGateway
    beforeAll(async () => {
      gw = await startTestGateway(storeOnlyConfig(store.url))
      // Something in the audit trail and the ledger, so the queries have rows to page.
      expect((await admin(gw, 'POST', '/admin/v1/keys', { team: 'research', name: 'params' })).status).toBe(201)
    })
    afterAll(async () => {
      await gw?.stop()
      await store.cleanup()
    })
    const get = async (path: string) => {
      const r = await admin(gw, 'GET', path)
      return { status: r.status, param: (r.body.error as { param?: string } | undefined)?.param, message: (r.body.error as { message?: string } | undefined)?.message }
    }

    it('a time that is not an ISO date, or a date-time without a zone, is a 400 naming the parameter', async () => {
      for (const endpoint of ENDPOINTS) {
        for (const [param, value] of [['from', '1'], ['from', 'November 20, 2026'], ['from', '2026-11-25T00:00:00'], ['to', '2026-11-25T10:00'], ['from', '2026-02-30'], ['to', '2026-13-01T00:00:00Z']]) {
          const r = await get(`${endpoint}?${param}=${encodeURIComponent(value!)}`)
          expect([r.status, r.param], `${endpoint} ${param}=${value}`).toEqual([400, param])
          expect(r.message).toContain('with a time zone')
        }
        for (const ok of ['from=2026-01-01', 'from=2026-01-01T00:00:00Z', 'from=2026-01-01T01:00:00%2B01:00&to=2099-01-01T00:00:00.000Z']) {
          expect((await get(`${endpoint}?${ok}`)).status, `${endpoint}?${ok}`).toBe(200)
        }
      }
    })

    it('the zone is honoured: the same instant in two zones selects the same rows', async () => {
      const a = await admin(gw, 'GET', '/admin/v1/audit?from=2000-01-01T00:00:00Z&to=2099-01-01T05:30:00%2B05:30')
      const b = await admin(gw, 'GET', '/admin/v1/audit?from=1999-12-31T19:00:00-05:00&to=2099-01-01T00:00:00Z')
      expect(a.status).toBe(200)
      expect((a.body.data as unknown[]).length).toBeGreaterThan(0)
      expect(b.body.data).toEqual(a.body.data)
    })

    it('the audit endpoint refuses from after to, as spend and requests do', async () => {
      for (const endpoint of ENDPOINTS) {
        for (const q of ['from=2026-02-01&to=2026-01-01', 'from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z']) {
          const r = await get(`${endpoint}?${q}`)
          expect([r.status, r.param], `${endpoint}?${q}`).toEqual([400, 'to'])
        }
      }
    })

    it('an oversized or garbled cursor is a 400, not a 500', async () => {
      for (const cursor of [b64('l:99999999999999999999999'), b64('l:9007199254740993'), b64('l:-1'), 'x'.repeat(5000), '%%%']) {
        expect(await get(`/admin/v1/requests?cursor=${encodeURIComponent(cursor)}`), cursor.slice(0, 40)).toMatchObject({ status: 400, param: 'cursor' })
      }
      for (const cursor of [b64('2026-01-01T00:00:00.000Z|99999999999999999999999|x'), b64('2026-01-01T00:00:00.000Z|1e5|x'), b64('2026-01-01T00:00:00.000Z||x'), 'x'.repeat(5000)]) {
        expect(await get(`/admin/v1/audit?cursor=${encodeURIComponent(cursor)}`), cursor.slice(0, 40)).toMatchObject({ status: 400, param: 'cursor' })
      }
      // A cursor the API returned still pages.
      expect((await admin(gw, 'POST', '/admin/v1/keys', { team: 'research', name: 'params-2' })).status).toBe(201)
      const first = await admin(gw, 'GET', '/admin/v1/audit?limit=1')
      const next = String(first.body.next_cursor)
      expect((await admin(gw, 'GET', `/admin/v1/audit?limit=1&cursor=${next}`)).status).toBe(200)
    })
  })
}
