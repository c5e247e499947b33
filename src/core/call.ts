/**
 * A model call as every per-request stage sees it (auth, limits, budgets, cache, ledger,
 * telemetry), and how it ended. Built once per request by the pipeline.
 */
import type { JsonObject } from './json.ts'
import type { Usage } from './usage.ts'

/** What a client asked for, by ingress endpoint. */
export type Operation =
  | 'chat'          // POST /v1/chat/completions
  | 'completions'   // POST /v1/completions
  | 'embeddings'    // POST /v1/embeddings
  | 'responses'     // POST /v1/responses
  | 'messages'      // POST /v1/messages (Anthropic)
  | 'count_tokens'  // POST /v1/messages/count_tokens (Anthropic)
  | 'passthrough'   // any other /v1/* path, forwarded verbatim to an OpenAI-type target
export type IngressFormat = 'openai' | 'anthropic'

/** Who is calling: a virtual key and its team, as resolved by auth. */
export interface Principal {
  /** Stable id: `cfg:<team>/<name>` for config keys, the row id for runtime keys, `anonymous` with auth off. */
  keyId: string
  keyName: string
  team: string
  /** Allowed model globs of the key and of the team (both must allow). Undefined = all. */
  keyModels?: readonly string[]
  teamModels?: readonly string[]
  /** Whether this key/team opted in or out of the response cache. */
  cache?: boolean
  metadata?: Readonly<Record<string, string>>
  tags?: readonly string[]
  /** The key's own rate limits (runtime keys). Config keys' limits are read from the config by keyId. */
  limits?: KeyLimits
  /** The key's own budget (runtime keys). Config keys' budgets are read from the config by keyId. */
  budget?: KeyBudget
}

/** Same shape as config `budget`. */
export interface KeyBudget {
  readonly usd: number
  readonly period: 'daily' | 'weekly' | 'monthly' | 'total'
  readonly alert_at?: number
  readonly per_run_usd?: number
}

/** Requests per second/minute/day, tokens per minute/day, in-flight requests (same shape as config `limits`). */
export interface KeyLimits {
  readonly rps?: number
  readonly rpm?: number
  readonly rpd?: number
  readonly tpm?: number
  readonly tpd?: number
  readonly concurrency?: number
}

export interface CallInfo {
  requestId: string
  operation: Operation
  ingress: IngressFormat
  /** The model name the client asked for. */
  publicModel: string
  principal: Principal
  /** Agent run id: x-switchboard-run-id, else a client session id. */
  runId: string | undefined
  tags: readonly string[]
  stream: boolean
  body: JsonObject
  rawBody: Buffer | undefined
  headers: Readonly<Record<string, string | string[] | undefined>>
  /** Cheap estimate of prompt tokens, for reservations. */
  estimatedInputTokens: number
  /** The output cap used for reservations: the request's max tokens or the configured default. */
  maxOutputTokens: number
  /**
   * The client's own fallback models (x-switchboard-fallbacks), those its key and team may use:
   * the routing plan tries them, so budgets price them. Unset or empty when there are none.
   */
  requestFallbacks?: readonly string[]
  startedAt: number
}

export interface AttemptRecord {
  provider: string
  upstreamModel: string
  publicModel: string
  /** 1-based across the whole request, fallbacks included. */
  attempt: number
  fallback: boolean
  status: number | undefined
  /** Our failure classification, absent on success. */
  error?: string
  durationMs: number
}

export type CacheResult = 'hit' | 'miss' | 'bypass'

export interface CallOutcome {
  /** Status the client got (200 also for a stream that later failed mid-way; see errorCode). */
  status: number
  errorCode?: string
  usage?: Usage
  provider?: string
  upstreamModel?: string
  responseModel?: string
  responseId?: string
  finishReasons?: string[]
  attempts: readonly AttemptRecord[]
  cache: CacheResult
  /** USD; null when the model has no known price; 0 for cache hits and refusals. */
  costUsd: number | null
  /** For cache hits: what the call would have cost. */
  savedUsd?: number | null
  ttftMs?: number
  durationMs: number
  /** The client went away before the response was complete. */
  clientAborted: boolean
  /** Vendor stream events relayed to the client (streams only); estimates output when usage never came. */
  streamedEvents?: number
}
