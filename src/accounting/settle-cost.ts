/**
 * The final usage and cost of an ended call, as the budget settles it and the ledger records it:
 * the vendor's usage and the pipeline's cost when there are some, else the gateway's own estimate
 * (see estimate-usage.ts), priced at the target that was serving the call.
 */
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { Pricing } from '../core/ports.ts'
import type { Usage } from '../core/usage.ts'
import { estimateUsage, needsEstimate } from './estimate-usage.ts'

export interface Settled {
  usage: Usage | undefined
  costUsd: number | null
}

/** Who served the call: the answering target, else the last attempt (a client abort mid-attempt). */
export function servedBy(outcome: CallOutcome): { publicModel?: string; provider?: string; upstreamModel?: string } {
  const last = outcome.attempts.at(-1)
  return {
    publicModel: last?.publicModel,
    provider: outcome.provider ?? last?.provider,
    upstreamModel: outcome.upstreamModel ?? last?.upstreamModel,
  }
}

/** Synchronous when the vendor reported usage (the common case); a promise when it must be estimated. */
export function settleCost(call: CallInfo, outcome: CallOutcome, pricing: Pricing): Settled | Promise<Settled> {
  if (!needsEstimate(outcome)) return { usage: outcome.usage, costUsd: outcome.costUsd }
  return estimateUsage(call, outcome).then((usage) => {
    const s = servedBy(outcome)
    const costUsd = s.provider && s.upstreamModel ? pricing.cost(s.publicModel ?? call.publicModel, s.provider, s.upstreamModel, usage) : null
    return { usage, costUsd }
  })
}
