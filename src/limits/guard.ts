/**
 * The `limits` guard: reserves against every scope that applies (key, team, key on model, team on
 * model) before the call, and settles to the real token usage after it. Shared counters live in
 * Redis when redis.url is set; otherwise, and as the fail-open fallback, in this replica's memory.
 */
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import type { Config } from '../config/schema.ts'
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { Guard, Reservation } from '../core/ports.ts'
import { limitExceeded, limiterUnavailable, rateLimitHeaders, type Decision } from './decision.ts'
import { createMemoryStore, type Counters, type MemoryStore } from './memory-store.ts'
import { createRedisStore, preloadScripts, type LocalMasks, type RedisStore } from './redis-store.ts'
import { createScopeResolver, type ScopeKind, type ScopePlan } from './scopes.ts'
import { DAY_MS, MINUTE_MS } from './windows.ts'

export type LimiterEvent =
  | { type: 'rate_limited'; scope: ScopeKind }
  | { type: 'redis_down'; error: string }
  | { type: 'redis_up' }

export interface LimiterStats {
  /** Requests refused with 429, by the scope whose limit was hit. */
  rateLimited: Record<ScopeKind, number>
  /** Times the shared store went from reachable to unreachable. */
  redisOutages: number
  /** Reservations decided without Redis while it was unreachable (locally under fail-open, 503 under fail-closed). */
  degradedDecisions: number
  /** Settlements whose first try Redis did not take (each is kept to be sent again: see settleBacklog). */
  settleFailures: number
  /** Settlements and lease hand-backs waiting to be sent again once Redis answers. */
  settleBacklog: number
  /** Those given up (the backlog was full, or outlived the slots it would free: they expired by themselves). */
  settlesDropped: number
  /** 'shared' (Redis), 'local' (memory by config or fail-open fallback), 'unavailable' (fail-closed, Redis down). */
  mode: 'shared' | 'local' | 'unavailable'
}

export interface LimitsGuard extends Guard {
  stats(): LimiterStats
  close(): Promise<void>
}

export interface LimitsOptions {
  config: Config
  redis: Redis | undefined
  log: Logger
  onEvent?: (e: LimiterEvent) => void
  /**
   * The in-memory counters, when they must outlive this guard: the gateway keeps one store across
   * config reloads, so windows and in-flight slots are not reset by a reload. Left open by close().
   */
  memory?: MemoryStore
}

/** How long after a Redis failure requests skip it before probing again (a hung server would otherwise cost the 1 s reply deadline per request). */
const RETRY_SHARED_MS = 1000
/** How long the first requests wait for the initial Redis connection. */
const STARTUP_WAIT_MS = 2000
/** Slots outlive the longest request by this much before a crashed replica's slot expires. */
const SLOT_MARGIN_MS = 30_000

const NO_OP: Reservation = { settle() {} }

/** Tokens to charge once the call ended; see docs/limits.md "Reserve, then settle". */
export function settledTokens(outcome: CallOutcome, reserved: number, promptTokens = reserved): number {
  if (outcome.cache === 'hit') return 0
  if (outcome.usage) return outcome.usage.inputTokens + outcome.usage.outputTokens
  // The client left and the gateway aborted the vendor at once: it billed the prompt and what was
  // streamed so far (one token per relayed event past the first two, as the ledger estimates), not max_tokens.
  if (outcome.clientAborted && outcome.attempts.at(-1)?.error === 'aborted') {
    return Math.min(reserved, promptTokens + Math.max(0, (outcome.streamedEvents ?? 0) - 2))
  }
  for (const a of outcome.attempts) if (a.error !== 'provider_disabled' && a.error !== 'no_key_available') return reserved
  return 0
}

export function createLimitsGuard(opts: LimitsOptions): LimitsGuard {
  const { config, redis, log } = opts
  const resolver = createScopeResolver(config, config.redis.key_prefix)
  const memory: MemoryStore = opts.memory ?? createMemoryStore()
  const leases = config.redis.leases
  const shared: RedisStore | undefined = redis
    ? createRedisStore(redis, config.routing.timeouts.total_ms + SLOT_MARGIN_MS, leases.enabled ? { divisor: leases.divisor, maxBlock: leases.max_block, ttlMs: leases.ttl_ms } : undefined, log)
    : undefined
  const failClosed = config.redis.on_failure === 'fail-closed'
  const instance = Math.random().toString(36).slice(2, 10)
  let seq = 0
  let down = false
  let retryAt = 0
  const stats: LimiterStats = {
    rateLimited: { key: 0, team: 0, key_model: 0, team_model: 0 },
    redisOutages: 0,
    degradedDecisions: 0,
    settleFailures: 0,
    settleBacklog: 0,
    settlesDropped: 0,
    mode: redis ? 'shared' : 'local',
  }

  const markDown = (err: unknown) => {
    retryAt = Date.now() + RETRY_SHARED_MS
    if (down) return
    down = true
    stats.redisOutages++
    stats.mode = failClosed ? 'unavailable' : 'local'
    const error = err instanceof Error ? err.message : String(err)
    log.warn({ err: error, policy: config.redis.on_failure }, failClosed
      ? 'rate limits: redis unreachable; refusing limited requests with 503 (redis.on_failure fail-closed)'
      : 'rate limits: redis unreachable; enforcing limits per replica in memory (redis.on_failure fail-open)')
    opts.onEvent?.({ type: 'redis_down', error })
  }
  const markUp = () => {
    if (!down) return
    down = false
    stats.mode = 'shared'
    log.info('rate limits: redis reachable again; shared limits resumed')
    opts.onEvent?.({ type: 'redis_up' })
  }

  // The first requests after start wait (briefly) for the initial connection instead of
  // counting locally while Redis is merely still connecting.
  let starting: Promise<void> | undefined
  // A (re)established connection has answered Redis's handshake: go back to shared counters at
  // once, and send the settlements it missed.
  const onReady = () => {
    retryAt = 0
    markUp()
    void shared?.replay()
  }
  const unloadScripts = redis ? preloadScripts(redis) : undefined
  if (redis) {
    redis.on('ready', onReady)
    if (redis.status !== 'ready') {
      starting = new Promise<void>((resolve) => {
        const timer = setTimeout(done, STARTUP_WAIT_MS)
        function done() {
          clearTimeout(timer)
          redis!.off('ready', done)
          starting = undefined
          resolve()
        }
        redis.once('ready', done)
      })
    }
  }

  // While down, one request at a time probes Redis (a hung server costs that one request up to
  // the 1 s reply deadline); the others are decided locally meanwhile.
  let probing = false
  const sharedUsable = (): boolean => {
    if (redis!.status !== 'ready') {
      markDown(new Error(`redis connection is ${redis!.status}`))
      return false
    }
    if (!down) return true
    if (probing || Date.now() < retryAt) return false
    probing = true
    return true
  }

  const refuse = (plan: ScopePlan, d: Extract<Decision, { ok: false }>, tokens: number): never => {
    const kind = plan.scopes[d.scope]!.kind
    stats.rateLimited[kind]++
    opts.onEvent?.({ type: 'rate_limited', scope: kind })
    throw limitExceeded(plan, d, tokens)
  }

  const reserveLocally = (plan: ScopePlan, tokens: number, prompt: number): Reservation => {
    const r = memory.reserve(plan, tokens, Date.now())
    const d = r.decision
    if (!d.ok) return refuse(plan, d, tokens)
    const headers = rateLimitHeaders(plan, d)
    if (!plan.tokens && !plan.concurrency) return headers ? { headers, settle() {} } : NO_OP
    return new LimitReservation({ kind: 'local', memory, counters: r.counters! }, plan, tokens, prompt, d.now, headers)
  }

  /** A decision in Redis (and leases), or locally while Redis is down and the policy allows. */
  const reserveShared = async (store: RedisStore, call: CallInfo, plan: ScopePlan, tokens: number): Promise<Reservation | undefined> => {
    if (starting) await starting
    if (sharedUsable()) {
      const member = `${instance}:${++seq}`
      let d: Decision | undefined
      let local: LocalMasks
      try {
        ;({ decision: d, local } = await store.reserve(plan, tokens, member))
      } catch (err) {
        markDown(err)
      } finally {
        probing = false
      }
      if (d) {
        markUp()
        if (!d.ok) return refuse(plan, d, tokens)
        const headers = rateLimitHeaders(plan, d)
        // A call that took from a lease settles back to it, whatever the plan (the lease must
        // know when its calls are done before it can be handed back).
        if (!plan.tokens && !plan.concurrency && !local) return headers ? { headers, settle() {} } : NO_OP
        return new LimitReservation({ kind: 'shared', store, stats, member, local }, plan, tokens, call.estimatedInputTokens, d.now, headers)
      }
    }
    stats.degradedDecisions++
    if (failClosed) throw limiterUnavailable()
    return reserveLocally(plan, tokens, call.estimatedInputTokens)
  }

  const reserveFor = (call: CallInfo, plan: ScopePlan | undefined): Reservation | undefined | Promise<Reservation | undefined> => {
    if (!plan) return undefined
    const tokens = call.estimatedInputTokens + call.maxOutputTokens
    if (!shared) return reserveLocally(plan, tokens, call.estimatedInputTokens)
    return reserveShared(shared, call, plan, tokens)
  }

  return {
    name: 'limits',
    // Synchronous when nothing applies or the decision is local (memory): no promise per call.
    reserve: (call) => reserveFor(call, resolver.resolve(call.principal, call.publicModel)),
    // A fallback model's own limits, before the plan's first attempt on it (the key's and the
    // team's were reserved with the call): without this its rpm admitted every fallback call.
    reserveFallback: (call, model) => reserveFor(call, resolver.resolveModel(call.principal, model)),
    stats: () => {
      const backlog = shared?.backlog()
      return { ...stats, settleBacklog: backlog?.queued ?? 0, settlesDropped: backlog?.dropped ?? 0, rateLimited: { ...stats.rateLimited } }
    },
    async close() {
      if (!opts.memory) memory.close()
      unloadScripts?.()
      redis?.off('ready', onReady)
      // Unused lease credits and leased slots go back to Redis (best effort: they expire anyway).
      await shared?.close().catch(() => {})
    },
  }
}

/** Where a reservation is settled: this replica's counters, or the shared ones in Redis. */
type SettleTarget =
  | { kind: 'local'; memory: MemoryStore; counters: Counters[] }
  | { kind: 'shared'; store: RedisStore; stats: LimiterStats; member: string; local: LocalMasks }

class LimitReservation implements Reservation {
  readonly headers: Readonly<Record<string, string>> | undefined
  private readonly target: SettleTarget
  private readonly plan: ScopePlan
  private readonly tokens: number
  private readonly prompt: number
  private readonly at: number

  constructor(target: SettleTarget, plan: ScopePlan, tokens: number, prompt: number, at: number, headers: Record<string, string> | undefined) {
    this.target = target
    this.plan = plan
    this.tokens = tokens
    this.prompt = prompt
    this.at = at
    this.headers = headers
  }

  settle(outcome: CallOutcome): void {
    const delta = this.plan.tokens ? settledTokens(outcome, this.tokens, this.prompt) - this.tokens : 0
    const minute = Math.floor(this.at / MINUTE_MS)
    const day = Math.floor(this.at / DAY_MS)
    const t = this.target
    if (t.kind === 'local') {
      t.memory.settle(this.plan, t.counters, delta, minute, day)
      return
    }
    if (delta === 0 && !this.plan.concurrency && !t.local) return
    // Off the request path: the response is already sent. What Redis does not take is sent again
    // when it answers (the store's backlog), so a blip does not hold a slot until its TTL.
    t.store.settle(this.plan, t.member, delta, minute, day, t.local).catch(() => { t.stats.settleFailures++ })
  }
}
