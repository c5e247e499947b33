/**
 * A live key's name is unique in its team even when replicas create it (or rename keys to it) at
 * the same moment: the store enforces it, and the loser gets 409 key_name_taken, not a 500 or a
 * duplicate.
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

const yaml = storeOnlyConfig

for (const store of stores) {
  describe.skipIf(!store.available)(`unique live key names (${store.name})`, () => {
    const gws: TestGateway[] = []
    beforeAll(async () => {
      gws.push(await startTestGateway(yaml(store.url)), await startTestGateway(yaml(store.url)))
    })
    afterAll(async () => {
      for (const g of gws) await g.stop()
      await store.cleanup()
    })

    it('concurrent creates of one name on two replicas: exactly one 201, the rest 409', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => admin(gws[i % 2]!, 'POST', '/admin/v1/keys', { team: 'research', name: 'agent-1' })))
      const statuses = results.map((r) => r.status).sort()
      expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409])
      for (const r of results.filter((x) => x.status === 409)) expect((r.body.error as { code: string }).code).toBe('key_name_taken')
      const list = await admin(gws[0]!, 'GET', '/admin/v1/keys?team=research')
      expect((list.body.data as Array<{ name: string }>).filter((k) => k.name === 'agent-1')).toHaveLength(1)
    })

    it('concurrent renames to one name on two replicas: exactly one 200, the rest 409 (not a 500)', async () => {
      const ids: string[] = []
      for (let i = 0; i < 6; i++) {
        const r = await admin(gws[i % 2]!, 'POST', '/admin/v1/keys', { team: 'research', name: `rename-${i}` })
        expect(r.status).toBe(201)
        ids.push(String(r.body.id))
      }
      const results = await Promise.all(ids.map((id, i) => admin(gws[i % 2]!, 'PATCH', `/admin/v1/keys/${id}`, { name: 'renamed' })))
      expect(results.map((r) => r.status).sort(), results.map((r) => r.text).join('\n')).toEqual([200, 409, 409, 409, 409, 409])
      for (const r of results.filter((x) => x.status === 409)) expect((r.body.error as { code: string }).code).toBe('key_name_taken')
    })

    it('a revoked name can be used again', async () => {
      const list = await admin(gws[0]!, 'GET', '/admin/v1/keys?team=research')
      const id = (list.body.data as Array<{ id: string; name: string }>).find((k) => k.name === 'agent-1')!.id
      expect((await admin(gws[0]!, 'DELETE', `/admin/v1/keys/${id}`)).status).toBe(200)
      expect((await admin(gws[1]!, 'POST', '/admin/v1/keys', { team: 'research', name: 'agent-1' })).status).toBe(201)
    })
  })
}
