/**
 * A key update's audit entry records each changed field before and after (it held only the
 * request body: new values, no diff), and a PATCH that changes nothing (`{}`, or values as they
 * already are) writes nothing: no audit entry with `changes: {}`, no new `updated_at`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { admin, listOf, sleep, storeOnlyConfig, type Obj } from './keys-support.ts'

describe('key updates in the audit trail', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(storeOnlyConfig('sqlite::memory:'))
  })
  afterAll(async () => {
    await gw?.stop()
  })
  const updates = async (id: string) => listOf(await admin(gw, 'GET', '/admin/v1/audit?action=key.update')).filter((e) => e.target === id)

  it('records before and after of each changed field, and only those', async () => {
    const created = await admin(gw, 'POST', '/admin/v1/keys', { team: 'research', name: 'diffed', limits: { rpm: 60, tpm: 1000 }, tags: ['a'], expires_at: '2030-01-01T00:00:00Z' })
    expect(created.status).toBe(201)
    const id = String(created.body.id)
    const r = await admin(gw, 'PATCH', `/admin/v1/keys/${id}`, {
      name: 'diffed-2',
      limits: { tpm: 1000, rpm: 60 }, // the same limits in another order: not a change
      tags: null,
      expires_at: '2031-01-01T01:00:00+01:00',
      enabled: false,
      metadata: { owner: 'bob' },
    })
    expect(r.status).toBe(200)
    const [entry] = await updates(id)
    expect(entry?.detail).toEqual({
      team: 'research',
      name: 'diffed-2',
      changes: {
        name: { before: 'diffed', after: 'diffed-2' },
        tags: { before: ['a'], after: null },
        expires_at: { before: '2030-01-01T00:00:00.000Z', after: '2031-01-01T00:00:00.000Z' },
        enabled: { before: true, after: false },
        metadata: { before: null, after: { owner: 'bob' } },
      },
    })
  })

  it('a PATCH that changes nothing writes nothing and records nothing', async () => {
    const created = await admin(gw, 'POST', '/admin/v1/keys', { team: 'research', name: 'unchanged', models: ['demo'] })
    const id = String(created.body.id)
    await sleep(5)
    for (const body of [{}, { name: 'unchanged', enabled: true, models: ['demo'], budget: null, expires_at: null }]) {
      const r = await admin(gw, 'PATCH', `/admin/v1/keys/${id}`, body)
      expect(r.status).toBe(200)
      expect((r.body as Obj).updated_at).toBe((created.body as Obj).updated_at)
      expect((r.body as Obj).name).toBe('unchanged')
    }
    expect(await updates(id)).toEqual([])
    // A real change after them is recorded as usual.
    expect((await admin(gw, 'PATCH', `/admin/v1/keys/${id}`, { models: null })).status).toBe(200)
    expect((await updates(id)).map((e) => (e.detail as Obj).changes)).toEqual([{ models: { before: ['demo'], after: null } }])
  })
})
