/** Helpers shared by the ledger, budget and spend tests: admin calls and waiting for the ledger. */
import { expect } from 'vitest'

export const ADMIN_KEY = 'sb-admin-test-key-0001'

export async function admin<T = unknown>(base: string, path: string): Promise<{ status: number; body: T; text: string; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  const text = await res.text()
  let body: unknown
  try { body = JSON.parse(text) } catch { body = undefined }
  return { status: res.status, body: body as T, text, headers: res.headers }
}

export interface LedgerRecordView {
  id: number
  request_id: string
  team: string
  key_id: string
  run_id: string | null
  tags: string[]
  requested_model: string
  provider: string | null
  served_model: string | null
  status: number
  error_code: string | null
  input_tokens: number
  output_tokens: number
  cached_tokens: number
  cache_write_tokens: number
  reasoning_tokens: number
  cost_usd: number | null
  estimated: boolean
  client_aborted: boolean
  attempts: number
  attempts_detail: Array<Record<string, unknown>>
  stream: boolean
  cache: string
  latency_ms: number
  ttft_ms: number | null
  [k: string]: unknown
}

/** Polls GET /admin/v1/requests until the request id shows up (the ledger writes in batches). */
export async function ledgerRecord(base: string, requestId: string, timeoutMs = 5000): Promise<LedgerRecordView> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const r = await admin<{ data: LedgerRecordView[] }>(base, '/admin/v1/requests?limit=1000')
    const hit = r.body.data.find((x) => x.request_id === requestId)
    if (hit) return hit
    await new Promise((res) => setTimeout(res, 100))
  }
  expect.fail(`request ${requestId} never reached the ledger`)
}

/** Polls until the ledger holds `n` records. */
export async function ledgerCount(base: string, n: number, timeoutMs = 5000): Promise<number> {
  const until = Date.now() + timeoutMs
  let count = -1
  while (Date.now() < until) {
    const r = await admin<{ data: unknown[] }>(base, '/admin/v1/requests?limit=1000')
    count = r.body.data.length
    if (count >= n) return count
    await new Promise((res) => setTimeout(res, 100))
  }
  return count
}

export { PG_BASE, REDIS_URL } from '../helpers/services.ts'

/** POST a chat completion with fetch; returns status, parsed body and headers. */
export async function chat(base: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; body: { error?: { message: string; type: string; code: string } } & Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, body: JSON.parse(text) as never, headers: res.headers }
}
