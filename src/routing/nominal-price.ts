/**
 * The `cost` strategy's yardstick: what a nominal agent-like call (input-heavy, 4:1) would cost on
 * a target, per the Pricing port. Read lazily, so whichever Pricing is wired at call time is used.
 */
import type { Pricing } from '../core/ports.ts'
import type { Usage } from '../core/usage.ts'
import type { Target } from './deployments.ts'

const NOMINAL: Usage = { inputTokens: 1000, outputTokens: 250, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }

export function nominalPrice(pricing: () => Pricing): (target: Target) => number | null {
  return (t) => pricing().cost(t.publicModel, t.provider.name, t.upstreamModel, NOMINAL)
}
