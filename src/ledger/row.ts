/**
 * One ledger row from a finished call. Built when the call ends, so the queue holds a compact
 * array of primitives and nothing that keeps the request's body or objects alive.
 */
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { Usage } from '../core/usage.ts'
import type { SqlValue } from '../stores/sql.ts'
import { servedBy } from '../accounting/settle-cost.ts'

export type LedgerRow = SqlValue[]

const DAY_MS = 86_400_000
let dayStart = 0
let dayText = ''
/** The UTC day of a time, recomputed only when the day changes. */
function utcDay(ms: number): string {
  if (ms < dayStart || ms >= dayStart + DAY_MS) {
    dayStart = ms - (ms % DAY_MS)
    dayText = new Date(dayStart).toISOString().slice(0, 10)
  }
  return dayText
}

// NUL, which PostgreSQL's text type refuses, and lone UTF-16 surrogates.
const UNSTORABLE = /[\u0000\ud800-\udfff]/

/**
 * Text a client or vendor chose (a model name, a run id, tags) made storable: one row PostgreSQL
 * refuses would fail its whole batch, again at every retry, and stop the ledger. NUL becomes U+FFFD,
 * as do lone surrogates; the usual string passes through after one regex test.
 */
export function storable(s: string): string
export function storable(s: string | null | undefined): string | null
export function storable(s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null
  if (!UNSTORABLE.test(s)) return s
  return s.replace(/\u0000/g, '\ufffd').toWellFormed()
}

export function ledgerRow(call: CallInfo, outcome: CallOutcome, usage: Usage | undefined, costUsd: number | null): LedgerRow {
  const served = servedBy(outcome)
  const p = call.principal
  const ms = Math.round
  return [
    call.startedAt,
    utcDay(call.startedAt),
    storable(call.requestId),
    p.team,
    p.keyId,
    storable(p.keyName),
    storable(call.runId),
    call.tags.length > 0 ? storable(call.tags.join(',')) : null,
    call.operation,
    storable(call.publicModel),
    served.provider ?? null,
    served.upstreamModel ?? null,
    storable(outcome.responseModel),
    call.stream ? 1 : 0,
    outcome.attempts.length,
    outcome.attempts.length > 0
      ? JSON.stringify(outcome.attempts.map((a) => ({ provider: a.provider, model: a.upstreamModel, attempt: a.attempt, fallback: a.fallback, status: a.status ?? null, error: a.error ?? null, ms: ms(a.durationMs) })))
      : null,
    usage?.inputTokens ?? 0,
    usage?.outputTokens ?? 0,
    usage?.cachedInputTokens ?? 0,
    usage?.cacheWriteTokens ?? 0,
    usage?.reasoningTokens ?? 0,
    costUsd,
    outcome.savedUsd ?? null,
    usage?.estimated ? 1 : 0,
    ms(outcome.durationMs),
    outcome.ttftMs === undefined ? null : ms(outcome.ttftMs),
    // The client left: recorded as 499 (nginx's "client closed request") whatever status was sent.
    outcome.clientAborted ? 499 : outcome.status,
    outcome.clientAborted ? 'client_closed_request' : outcome.errorCode ?? null,
    outcome.cache,
    outcome.clientAborted ? 1 : 0,
    clientOf(call.headers),
  ]
}

const MAX_CLIENT = 200

/**
 * The program that made the call, for the ledger: `x-client-app` when the client names itself,
 * else its user-agent (claude-cli/..., codex_cli_rs/..., OpenAI/JS ..., Anthropic/Python ...).
 */
export function clientOf(headers: CallInfo['headers']): string | null {
  const v = headers['x-client-app'] ?? headers['user-agent']
  const text = Array.isArray(v) ? v[0] : v
  return text ? storable(text.length > MAX_CLIENT ? text.slice(0, MAX_CLIENT) : text) : null
}
