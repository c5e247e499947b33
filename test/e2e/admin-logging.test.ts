/**
 * Admin API calls are logged: a failure (5xx) with its error and the request id its answer names
 * ("the request id identifies it in the logs": before, no line had it), and every call with one
 * access line (method, path, status, error code, acting admin, duration), without headers, query,
 * bodies or a key pasted where an id belongs.
 */
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, removeSqlite, sqlitePath, sqliteUrl } from './keys-support.ts'

const file = sqlitePath()
const yaml = (accessLog = true) => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "${sqliteUrl(file)}" }
logging: { access_log: ${accessLog} }
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
teams: { research: {} }
`

type Line = Record<string, unknown>

describe('admin API logging', () => {
  let gw: TestGateway
  const lines = (): Line[] => gw.logs.map((l) => JSON.parse(l) as Line)
  const adminLines = () => lines().filter((l) => l.msg === 'admin request')
  const sql = (statement: string) => {
    const db = new DatabaseSync(file)
    try {
      db.exec(statement)
    } finally {
      db.close()
    }
  }

  beforeAll(async () => {
    gw = await startTestGateway(yaml())
  })
  afterAll(async () => {
    await gw?.stop()
    removeSqlite(file)
  })

  it('a 500 is logged with its error and the request id its answer carries', async () => {
    sql('ALTER TABLE virtual_keys RENAME TO virtual_keys_away')
    try {
      const r = await fetch(`${gw.url}/admin/v1/keys?team=research`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-request-id': 'req-admin-500-check' } })
      const body = await r.json() as { error: { code: string; message: string } }
      expect([r.status, body.error.code, r.headers.get('x-request-id')]).toEqual([500, 'internal_error', 'req-admin-500-check'])
      expect(body.error.message).toContain('the request id identifies it in the logs')
      const failed = lines().filter((l) => l.requestId === 'req-admin-500-check' && l.level === 'error')
      expect(failed).toHaveLength(1)
      expect(failed[0]).toMatchObject({ msg: 'request failed', method: 'GET', route: '/admin/v1/keys', status: 500, code: 'internal_error' })
      expect(JSON.stringify(failed[0]!.err)).toContain('no such table')
      expect(adminLines().filter((l) => l.requestId === 'req-admin-500-check')).toMatchObject([{ method: 'GET', path: '/admin/v1/keys', status: 500, code: 'internal_error' }])
    } finally {
      sql('ALTER TABLE virtual_keys_away RENAME TO virtual_keys')
    }
  })

  it('one access line per admin call, with the admin id, never the key, the query or the body', async () => {
    const created = await admin(gw, 'POST', '/admin/v1/keys', { team: 'research', name: 'logged-agent', metadata: { owner: 'alice-secret-owner' } })
    expect(created.status).toBe(201)
    const key = String(created.body.key)
    const id = String(created.body.id)
    expect((await admin(gw, 'GET', `/admin/v1/keys/${id}`)).status).toBe(200)
    // A key pasted where its id belongs, and a wrong admin key.
    expect((await admin(gw, 'GET', `/admin/v1/keys/${encodeURIComponent(key)}`)).status).toBe(404)
    expect((await admin(gw, 'GET', '/admin/v1/teams?x=query-text', undefined, 'sb-wrong-admin-key-0000')).status).toBe(401)

    const seen = adminLines().map(({ method, path, status, code, admin: who }) => ({ method, path, status, code, admin: who }))
    const adminId = seen.find((l) => l.method === 'POST')?.admin
    expect(adminId).toMatch(/^admin:[0-9a-f]{12}$/)
    expect(seen).toEqual(expect.arrayContaining([
      { method: 'POST', path: '/admin/v1/keys', status: 201, code: undefined, admin: adminId },
      { method: 'GET', path: `/admin/v1/keys/${id}`, status: 200, code: undefined, admin: adminId },
      { method: 'GET', path: '/admin/v1/keys/[not shown]', status: 404, code: 'not_found', admin: adminId },
      { method: 'GET', path: '/admin/v1/teams', status: 401, code: 'invalid_api_key', admin: undefined },
    ]))
    for (const l of adminLines()) expect(typeof l.durationMs).toBe('number')
    const all = gw.logs.join('\n')
    for (const secret of [key, key.slice(6), ADMIN_KEY, 'sb-wrong-admin-key-0000', 'alice-secret-owner', 'query-text']) expect(all).not.toContain(secret)
  })

  it('logging.access_log: false turns the admin lines off (failures are still logged)', async () => {
    expect(await gw.reload(parseConfig(yaml(false), 'test.yaml', {}))).toEqual({ applied: true, ignored: [] })
    const before = adminLines().length
    expect((await admin(gw, 'GET', '/admin/v1/teams')).status).toBe(200)
    expect(adminLines().length).toBe(before)
  })
})
