/**
 * Shared by the keys e2e suites: probes for the real Redis and Postgres (skip with a visible
 * message on a machine without them; never skip under CI=true), an admin client that keeps every
 * response body for the key-material grep, and per-run store URLs.
 */
import { PG_BASE, REDIS_URL, pgAvailable, redisAvailable } from '../helpers/services.ts'
import { rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runId, type TestGateway } from '../helpers/gateway.ts'

export const ADMIN_KEY = 'sb-admin-test-0123456789'
export { PG_BASE, REDIS_URL }

export const IN_CI = process.env.CI === 'true'
export { pgAvailable, redisAvailable }

export const pgSchema = (): string => `sbtest_${runId()}`.toLowerCase()
export const pgUrl = (schema: string): string => `${PG_BASE}?schema=${schema}`
export const sqlitePath = (): string => join(tmpdir(), `sb-keys-${runId()}.db`)
export const sqliteUrl = (path: string): string => `sqlite://${path}`
export function removeSqlite(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
}

export interface AdminResult {
  status: number
  text: string
  body: Record<string, unknown>
}

export type Obj = Record<string, unknown>
/** The `data` array of a list response. */
export const listOf = (r: AdminResult): Obj[] => r.body.data as Obj[]

/** Every admin response body seen, for the "no key material after creation" grep. */
export const adminResponses: Array<{ path: string; method: string; status: number; text: string }> = []

export async function admin(gw: TestGateway, method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY): Promise<AdminResult> {
  const headers: Record<string, string> = {}
  if (key !== null) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const r = await fetch(`${gw.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await r.text()
  adminResponses.push({ path, method, status: r.status, text })
  let parsed: Record<string, unknown> = {}
  try { parsed = JSON.parse(text) as Record<string, unknown> } catch { parsed = {} }
  return { status: r.status, text, body: parsed }
}

/** A gateway on `url`'s store with an admin key, the mock provider and one empty team, research. */
export const storeOnlyConfig = (url: string): string => `
server: { admin_keys: ["${ADMIN_KEY}"] }
store: { url: "${url}" }
providers: { m: { type: mock } }
models: { demo: { targets: [{ provider: m, model: mock-1 }] } }
teams: { research: {} }
`

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `check` every 25 ms until it is true or `timeoutMs` passes; returns the elapsed ms (or -1). */
export async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now()
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return performance.now() - t0
    await sleep(25)
  }
  return (await check()) ? performance.now() - t0 : -1
}

/**
 * POST a small chat with `key`; returns the status. `from` picks the client address (any
 * 127.x.y.z works on loopback) so tests that poll with failing keys do not trip each other's
 * failed-auth throttle.
 */
export function chatStatus(gw: TestGateway, key: string, model = 'gpt-a', header: 'authorization' | 'x-api-key' | 'api-key' = 'authorization', from?: string): Promise<number> {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] })
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      localAddress: from,
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [header]: header === 'authorization' ? `Bearer ${key}` : key },
    }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Drops a per-run Postgres schema (best effort: a leftover schema is harmless). */
export async function dropPgSchema(schema: string): Promise<void> {
  const { default: pg } = await import('pg')
  const c = new pg.Client({ connectionString: PG_BASE })
  try {
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } catch {
    // ignore
  } finally {
    await c.end().catch(() => {})
  }
}

/** Runs one statement against the test database (to break or mend a gateway's store on purpose). */
export async function pgExec(sql: string): Promise<void> {
  const { default: pg } = await import('pg')
  const c = new pg.Client({ connectionString: PG_BASE })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}
