/**
 * A runtime key whose team is removed from the config is refused (its model scope would be
 * unknown) and the admin API says so: status `orphaned`, not `active`, and `?team=<removed>` still
 * lists the team's keys so they can be found and revoked. Before, the key showed `active` while
 * every call with it got 401, and listing by the removed team was a 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, admin, chatStatus, listOf, removeSqlite, sqlitePath, sqliteUrl } from './keys-support.ts'

const file = sqlitePath()
const yaml = (withT2: boolean) => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "${sqliteUrl(file)}" }
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
teams:
  research: {}
${withT2 ? '  t2: {}' : ''}
`

describe('runtime keys of a team removed from the config', () => {
  let gw: TestGateway
  const reload = async (withT2: boolean) => {
    expect(await gw.reload(parseConfig(yaml(withT2), 'test.yaml', {}))).toEqual({ applied: true, ignored: [] })
  }
  beforeAll(async () => {
    gw = await startTestGateway(yaml(true))
  })
  afterAll(async () => {
    await gw?.stop()
    removeSqlite(file)
  })

  it('show status orphaned, are listed by the removed team, and are usable again once it is back', async () => {
    const live = await admin(gw, 'POST', '/admin/v1/keys', { team: 't2', name: 'agent' })
    const gone = await admin(gw, 'POST', '/admin/v1/keys', { team: 't2', name: 'old' })
    expect([live.status, gone.status]).toEqual([201, 201])
    expect((await admin(gw, 'DELETE', `/admin/v1/keys/${String(gone.body.id)}`)).status).toBe(200)
    const key = String(live.body.key)
    expect(await chatStatus(gw, key, 'demo')).toBe(200)

    await reload(false)
    expect(await chatStatus(gw, key, 'demo')).toBe(401)
    const one = await admin(gw, 'GET', `/admin/v1/keys/${String(live.body.id)}`)
    expect([one.status, one.body.status, one.body.enabled]).toEqual([200, 'orphaned', true])
    const list = await admin(gw, 'GET', '/admin/v1/keys?team=t2')
    expect(list.status).toBe(200)
    // A revoked key stays revoked: that is final, whatever its team.
    expect(listOf(list).map((k) => [k.name, k.status]).sort()).toEqual([['agent', 'orphaned'], ['old', 'revoked']])
    expect((await admin(gw, 'GET', '/admin/v1/keys')).body.data).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'agent', status: 'orphaned' })]))
    // A team nothing knows is still a 404; creating a key for the removed team is still a 400.
    expect((await admin(gw, 'GET', '/admin/v1/keys?team=t3')).status).toBe(404)
    expect((await admin(gw, 'POST', '/admin/v1/keys', { team: 't2', name: 'new' })).status).toBe(400)

    await reload(true)
    expect((await admin(gw, 'GET', `/admin/v1/keys/${String(live.body.id)}`)).body.status).toBe('active')
    expect(await chatStatus(gw, key, 'demo')).toBe(200)
  })
})
