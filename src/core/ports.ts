/**
 * The ports the pipeline calls, one per concern. Implementations live in their own folders
 * (auth/, limits/, budget/, cache/, accounting/, telemetry/) and are chosen in main.ts.
 */
import type { CallInfo, CallOutcome, Principal } from './call.ts'
import type { Usage } from './usage.ts'

export interface Authenticator {
  /** Resolves the caller or throws GatewayError 401. `remote` is the client address (for failed-auth throttling). */
  authenticate(headers: Readonly<Record<string, string | string[] | undefined>>, remote: string | undefined): Promise<Principal> | Principal
}

/** A reservation against a limit or budget, settled exactly once when the call ends. */
export interface Reservation {
  /** Headers to add to the response (x-ratelimit-*). */
  readonly headers?: Readonly<Record<string, string>>
  settle(outcome: CallOutcome): void
}

/**
 * Limits and budgets: refuse by throwing GatewayError (429; a promise that rejects with it), or
 * reserve. Synchronous when it can decide at once (nothing applies to the caller, counters in
 * memory): most calls then reserve without a promise or a trip through the microtask queue.
 */
export interface Guard {
  readonly name: string
  reserve(call: CallInfo): Reservation | undefined | Promise<Reservation | undefined>
  /**
   * What applies to a fallback model alone (its per-model limits), reserved when the routing plan
   * moves to it, before its first attempt; refuses like reserve(). Settled with the call.
   */
  reserveFallback?(call: CallInfo, model: string): Reservation | undefined | Promise<Reservation | undefined>
}

/** A cached response, replayable in the shape it was produced. */
export type CachedResponse =
  | { kind: 'body'; status: number; contentType: string; body: Buffer; usage: Usage | undefined; provider: string; upstreamModel: string; costUsd: number | null }
  | { kind: 'stream'; frames: Buffer[]; usage: Usage | undefined; provider: string; upstreamModel: string; costUsd: number | null }

export type CacheLookup = { result: 'hit'; response: CachedResponse; headers?: Readonly<Record<string, string>> } | { result: 'miss' } | { result: 'bypass' }

export interface ResponseCache {
  /** A lookup that may hit; answered at once (no promise) when the call bypasses the cache. */
  lookup(call: CallInfo): CacheLookup | Promise<CacheLookup>
  /** Called once with a complete successful response. */
  store(call: CallInfo, response: CachedResponse): void
  /** Called once instead of store() after a 'miss' that produced nothing to store (failed, cut, client gone). */
  abandon?(call: CallInfo): void
}

export interface Pricing {
  /** USD for the usage on that target; null when the model has no known price. */
  cost(publicModel: string, provider: string, upstreamModel: string, usage: Usage): number | null
  /** Worst-case USD for a reservation. */
  worstCase(publicModel: string, call: CallInfo): number | null
}

export interface Ledger {
  /** Queues one record; never blocks the request path. */
  record(call: CallInfo, outcome: CallOutcome): void
}

/** Observability of one request: traces, metrics and the access log hang off this. */
export interface RequestObserver {
  attemptStarted(info: { provider: string; upstreamModel: string; attempt: number; serverAddress: string; fallback: boolean }): AttemptObserver
  /** Headers to send upstream (traceparent) for the current attempt. */
  firstToken(): void
  end(outcome: CallOutcome): void
}

export interface AttemptObserver {
  /** Trace context headers for the upstream call; absent when there is none to send. */
  readonly headers?: Readonly<Record<string, string>>
  /** body: the complete non-streamed response as sent to the client (kept only for content capture). */
  end(result: { status?: number; error?: string; body?: Buffer }): void
}

export interface Observability {
  startRequest(call: CallInfo): RequestObserver
  /**
   * Access log and metrics for requests refused before a CallInfo existed (401, 400, 403, 404,
   * 413). `team` once the key is known; `model` only when it names a configured model.
   */
  refused(info: { requestId: string; method: string; path: string; status: number; code: string; durationMs: number; team?: string; model?: string }): void
}

/** Durable record of admin actions: who (admin key id), what, when. */
export interface AuditLog {
  record(entry: { actor: string; action: string; target: string; detail?: Record<string, unknown> }): void
}
