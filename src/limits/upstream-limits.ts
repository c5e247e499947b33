/**
 * The vendors' own limits (models.<m>.targets[i].rpm / tpm): routing skips a deployment that has
 * used its vendor budget for the current minute, so load spreads to the other targets instead of
 * tripping the vendor's 429s. These are soft limits by design: the decision is taken synchronously
 * from this replica's view of the counters, which with Redis is refreshed from the shared count on
 * every attempt and every settlement this replica makes.
 *
 * Counted per deployment (provider + upstream model), so two public models that point at the same
 * deployment share its vendor budget. Requests are counted per attempt (TargetHealth.started);
 * tokens are the usage of the attempt that answered, added when the call settles.
 */
import type { Redis } from 'ioredis'
import type { CallOutcome } from '../core/call.ts'
import type { Guard, Reservation } from '../core/ports.ts'
import type { Target } from '../routing/deployments.ts'
import type { TargetHealth } from '../routing/health.ts'
import { MINUTE_MS } from './windows.ts'

class MinuteUsage {
  minute = -1
  requests = 0
  tokens = 0
}

export interface UpstreamLimits {
  /** TargetHealth that also leaves out deployments at their vendor limit. */
  health: TargetHealth
  /** Adds each answered call's tokens to its deployment; undefined when no target declares tpm. */
  guard: Guard | undefined
  /** This replica's view of a deployment's current-minute usage (for tests and diagnostics). */
  usage(provider: string, upstreamModel: string): { requests: number; tokens: number }
}

const idOf = (provider: string, upstreamModel: string): string => `${provider}/${upstreamModel}`

export function withUpstreamLimits(inner: TargetHealth, targets: ReadonlyMap<string, readonly Target[]>, redis: Redis | undefined, prefix: string, now: () => number = Date.now): UpstreamLimits {
  const tracked = new Map<string, MinuteUsage>()
  let anyTokens = false
  for (const list of targets.values()) {
    for (const t of list) {
      if (t.entry.rpm === undefined && t.entry.tpm === undefined) continue
      tracked.set(idOf(t.provider.name, t.upstreamModel), new MinuteUsage())
      if (t.entry.tpm !== undefined) anyTokens = true
    }
  }
  const current = (u: MinuteUsage, minute: number): MinuteUsage => {
    if (u.minute !== minute) {
      u.minute = minute
      u.requests = 0
      u.tokens = 0
    }
    return u
  }
  const atLimit = (t: Target, minute: number): boolean => {
    const rpm = t.entry.rpm
    const tpm = t.entry.tpm
    if (rpm === undefined && tpm === undefined) return false
    const u = tracked.get(idOf(t.provider.name, t.upstreamModel))
    if (!u || u.minute !== minute) return false
    return (rpm !== undefined && u.requests >= rpm) || (tpm !== undefined && u.tokens >= tpm)
  }
  // Shared counts: one hash per deployment and minute, under its own hash tag (one key per command).
  const add = (id: string, u: MinuteUsage, minute: number, field: 'requests' | 'tokens', n: number) => {
    current(u, minute)[field] += n
    if (!redis || redis.status !== 'ready') return
    const key = `{${prefix}u:${id}}:${minute}`
    redis.multi().hincrby(key, field, n).hmget(key, 'requests', 'tokens').pexpire(key, 2 * MINUTE_MS).exec()
      .then((res) => {
        const fields = res?.[1]?.[1] as Array<string | null> | undefined
        if (!fields || u.minute !== minute) return
        u.requests = Math.max(u.requests, Number(fields[0] ?? 0))
        u.tokens = Math.max(u.tokens, Number(fields[1] ?? 0))
      })
      // Soft limits: an unreachable Redis leaves this replica counting on its own.
      .catch(() => {})
  }

  const settleTokens: Reservation = {
    settle(outcome: CallOutcome) {
      if (outcome.cache === 'hit' || !outcome.usage || !outcome.provider || !outcome.upstreamModel) return
      const id = idOf(outcome.provider, outcome.upstreamModel)
      const u = tracked.get(id)
      const tokens = outcome.usage.inputTokens + outcome.usage.outputTokens
      if (u && tokens > 0) add(id, u, Math.floor(now() / MINUTE_MS), 'tokens', tokens)
    },
  }

  if (tracked.size === 0) return { health: inner, guard: undefined, usage: () => ({ requests: 0, tokens: 0 }) }

  return {
    // Everything else (finished, circuit state, ...) is the routing layer's own.
    health: {
      ...inner,
      order(model, list) {
        const ordered = inner.order(model, list)
        const minute = Math.floor(now() / MINUTE_MS)
        let free: Target[] | undefined
        for (let i = 0; i < ordered.length; i++) {
          const t = ordered[i]!
          if (atLimit(t, minute)) free ??= ordered.slice(0, i)
          else free?.push(t)
        }
        // All at their limit: keep them, so the vendor answers (perhaps with its own 429).
        return free && free.length > 0 ? free : ordered
      },
      started(target) {
        const admitted = inner.started(target)
        // An attempt the circuit breaker refuses is not sent, so it does not count.
        if ((admitted as unknown) !== false) {
          const id = idOf(target.provider.name, target.upstreamModel)
          const u = tracked.get(id)
          if (u) add(id, u, Math.floor(now() / MINUTE_MS), 'requests', 1)
        }
        return admitted
      },
    },
    guard: anyTokens ? { name: 'upstream-limits', reserve: () => settleTokens } : undefined,
    usage(provider, upstreamModel) {
      const u = tracked.get(idOf(provider, upstreamModel))
      const minute = Math.floor(now() / MINUTE_MS)
      return u && u.minute === minute ? { requests: u.requests, tokens: u.tokens } : { requests: 0, tokens: 0 }
    },
  }
}
