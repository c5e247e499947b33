/**
 * Per-replica target health: skips disabled providers and orders the rest by the routing
 * strategy. (Circuit breaking and the latency/least-busy strategies build on the started/finished
 * hooks.)
 */
import type { Config } from '../config/schema.ts'
import type { Target } from './deployments.ts'
import { weightedOrder } from './plan.ts'

export interface TargetHealth {
  order(model: string, targets: readonly Target[]): Target[]
  started(target: Target): void
  finished(target: Target, result: { ok: boolean; ttfbMs?: number; failure?: string }): void
}

export function createTargetHealth(config: Config, random: () => number = Math.random): TargetHealth {
  const rr = new Map<string, number>()
  return {
    order(model, targets) {
      const usable = targets.filter((t) => !t.provider.disabled)
      if (usable.length <= 1) return usable
      if (config.routing.strategy === 'round-robin') {
        const n = rr.get(model) ?? 0
        rr.set(model, n + 1)
        const k = n % usable.length
        return [...usable.slice(k), ...usable.slice(0, k)]
      }
      return weightedOrder(usable, random)
    },
    started() {},
    finished() {},
  }
}
