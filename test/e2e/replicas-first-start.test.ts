/**
 * Replicas of a new deployment start at the same moment against an empty Postgres schema (a
 * first Helm install). Each creates the tables it needs with IF NOT EXISTS, which Postgres checks
 * and then inserts into its catalog: without the shared schema lock two replicas creating the same
 * table could both pass the check, and one died at start-up with a duplicate key on pg_type.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { admin, dropPgSchema, pgAvailable, pgSchema, pgUrl, storeOnlyConfig } from './keys-support.ts'

const yaml = storeOnlyConfig

describe.skipIf(!pgAvailable)('replicas starting together on an empty Postgres schema', () => {
  const schemas: string[] = []
  const started: TestGateway[] = []
  afterAll(async () => {
    for (const g of started) await g.stop()
    for (const s of schemas) await dropPgSchema(s)
  })

  it('every replica starts, in every round, and they share one set of tables', async () => {
    // The race is a matter of timing, so several rounds of four replicas each.
    for (let round = 0; round < 6; round++) {
      const schema = `${pgSchema()}_r${round}`
      schemas.push(schema)
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => startTestGateway(yaml(pgUrl(schema)))))
      const gws = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
      started.push(...gws)
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []))
      expect(failures, `round ${round}`).toEqual([])
      // A key made on one replica is read by another: they use the same tables.
      const made = await admin(gws[0]!, 'POST', '/admin/v1/keys', { team: 'research', name: `r${round}` })
      expect(made.status).toBe(201)
      const listed = await admin(gws[3]!, 'GET', '/admin/v1/keys?team=research')
      expect((listed.body.data as Array<{ name: string }>).map((k) => k.name)).toContain(`r${round}`)
      for (const g of gws.splice(0)) await g.stop()
      started.length = 0
    }
  }, 60_000)
})
