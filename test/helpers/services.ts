/**
 * The real Redis and PostgreSQL the tests of those modes use. On a machine without them those
 * tests skip with a visible message; with CI=true a missing server is an error, never a skip.
 */
import { connect } from 'node:net'

export const REDIS_URL = 'redis://127.0.0.1:6379'
export const PG_BASE = 'postgres://postgres@127.0.0.1:5432/test'

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    const done = (ok: boolean) => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(500, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

async function available(name: string, port: number): Promise<boolean> {
  if (await reachable(port)) return true
  if (process.env.CI === 'true') throw new Error(`CI=true but ${name} is not reachable at 127.0.0.1:${port}`)
  console.warn(`${name} is not reachable at 127.0.0.1:${port}: the tests that need it are SKIPPED`)
  return false
}

export const redisAvailable = await available('Redis', 6379)
export const pgAvailable = await available('PostgreSQL', 5432)
