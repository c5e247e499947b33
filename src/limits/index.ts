/**
 * Rate limits, as the composition root sees them: the `limits` guard (key, team and per-model
 * limits), the upstream-limits wrapper around target health (vendor rpm/tpm per target), and the
 * counters the metrics layer reads.
 */
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import type { Config } from '../config/schema.ts'
import type { Guard } from '../core/ports.ts'
import type { Target } from '../routing/deployments.ts'
import type { TargetHealth } from '../routing/health.ts'
import { createLimitsGuard, type LimiterEvent, type LimiterStats } from './guard.ts'
import type { MemoryStore } from './memory-store.ts'
import { withUpstreamLimits } from './upstream-limits.ts'

export type { LimiterEvent, LimiterStats } from './guard.ts'

export interface Limits {
  /** In pipeline order: the limits guard, then (when a target declares tpm) the upstream token counter. */
  guards: Guard[]
  health: TargetHealth
  stats(): LimiterStats
  close(): Promise<void>
}

export interface CreateLimitsOptions {
  config: Config
  redis: Redis | undefined
  log: Logger
  targets: ReadonlyMap<string, readonly Target[]>
  health: TargetHealth
  /** Called on each 429 and on each Redis transition (for metrics). */
  onEvent?: (e: LimiterEvent) => void
  /** In-memory counters that outlive this runtime (config reloads); see LimitsOptions.memory. */
  memory?: MemoryStore
}

export function createLimits(opts: CreateLimitsOptions): Limits {
  const guard = createLimitsGuard({ config: opts.config, redis: opts.redis, log: opts.log, onEvent: opts.onEvent, memory: opts.memory })
  const upstream = withUpstreamLimits(opts.health, opts.targets, opts.redis, opts.config.redis.key_prefix)
  return {
    guards: upstream.guard ? [guard, upstream.guard] : [guard],
    health: upstream.health,
    stats: guard.stats,
    close: guard.close,
  }
}
