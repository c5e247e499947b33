/**
 * With every admin key empty (none set, or `"${SWITCHBOARD_ADMIN_KEY}"` with the variable unset, as
 * in the documented setup), the admin API is disabled and says so: a warning at start (and on each
 * reload that keeps it so), a note from --check-config, and 403 admin_api_disabled on every admin
 * call. Before, nothing was logged and every call got "The admin key is not valid", which sent
 * operators looking for a typo in a key that could not have worked.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { tempDirs } from '../helpers/temp-dir.ts'
import { ADMIN_KEY, admin } from './keys-support.ts'

const tempDir = tempDirs()
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname
const WARNING = 'the admin API is disabled'
const yaml = `
server: { admin_keys: ["\${SWITCHBOARD_ADMIN_KEY}", ""] }
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
teams: { research: { keys: { k: { key: sk-sb-admin-disabled-virtual-01 } } } }
`

describe('no admin key configured', () => {
  let gw: TestGateway
  const warnings = () => gw.logs.filter((l) => l.includes(WARNING) && l.includes('"level":"warn"')).length
  beforeAll(async () => {
    gw = await startTestGateway(yaml, {})
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it('warns at start and answers every admin call 403 admin_api_disabled, whatever key is presented', async () => {
    expect(warnings()).toBe(1)
    for (const key of [null, ADMIN_KEY, 'sk-sb-admin-disabled-virtual-01', '']) {
      for (const [method, path] of [['GET', '/admin/v1/keys'], ['POST', '/admin/v1/keys'], ['GET', '/admin/v1/audit']] as const) {
        const r = await admin(gw, method, path, method === 'POST' ? { team: 'research', name: 'x' } : undefined, key)
        const err = r.body.error as { code: string; message: string; type: string }
        expect([r.status, err.code, err.type], `${method} ${path} with ${String(key)}`).toEqual([403, 'admin_api_disabled', 'permission_error'])
        expect(err.message).toContain('no admin key is configured')
      }
    }
  })

  it('a reload that sets one enables it without a warning; one that empties them warns again', async () => {
    const withKey = yaml.replace('"${SWITCHBOARD_ADMIN_KEY}"', `"${ADMIN_KEY}"`)
    expect((await gw.reload(parseConfig(withKey, 'test.yaml', {}))).applied).toBe(true)
    expect(warnings()).toBe(1)
    expect((await admin(gw, 'GET', '/admin/v1/keys')).status).toBe(200)
    expect((await admin(gw, 'GET', '/admin/v1/keys', undefined, 'sb-wrong')).status).toBe(401)
    expect((await gw.reload(parseConfig(yaml, 'test.yaml', {}))).applied).toBe(true)
    expect(warnings()).toBe(2)
    expect((await admin(gw, 'GET', '/admin/v1/keys')).status).toBe(403)
  })

  it('--check-config notes it', () => {
    const cfg = join(tempDir('sb-admin-disabled-'), 'gw.yaml')
    writeFileSync(cfg, yaml)
    const env = { ...process.env }
    delete env.SWITCHBOARD_ADMIN_KEY
    const r = spawnSync(process.execPath, [MAIN, '--config', cfg, '--check-config'], { encoding: 'utf8', env })
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('note: ${SWITCHBOARD_ADMIN_KEY} is unset')
    expect(r.stdout).toContain(`note: no admin key is configured (server.admin_keys is empty, or each entry is empty: an unset variable?); ${WARNING}`)
  })
})
