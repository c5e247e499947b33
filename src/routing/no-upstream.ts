/**
 * Why nothing could be tried for a model, and when to come back: every target is circuit-open,
 * out of usable vendor keys, or on a provider without a key.
 */
import type { Config } from '../config/schema.ts'
import type { Target } from './deployments.ts'
import type { TargetHealth } from './health.ts'
import type { AttemptFailure } from './plan.ts'

export function noHealthyUpstream(publicModel: string, config: Config, targets: ReadonlyMap<string, readonly Target[]>, health: TargetHealth, now = Date.now()): AttemptFailure {
  const names = [publicModel, ...(config.models[publicModel]?.fallbacks ?? [])]
  const all = names.flatMap((n) => targets.get(n) ?? [])
  const circuitWait = health.reopensIn(all)
  let keyWait: number | undefined
  for (const t of all) {
    const keys = t.provider.keys
    if (t.provider.disabled || keys.size === 0 || !keys.readyAt || keys.available(t.upstreamModel, now) > 0) continue
    const w = keys.readyAt(t.upstreamModel, now) - now
    if (Number.isFinite(w) && (keyWait === undefined || w < keyWait)) keyWait = w
  }
  const waits = [circuitWait, keyWait].filter((w): w is number => w !== undefined)
  const retryAfterMs = waits.length > 0 ? Math.min(...waits) : undefined
  const disabled = all.find((t) => t.provider.disabled)
  const reason = circuitWait !== undefined
    ? `No healthy upstream for '${publicModel}': its targets' circuits are open after repeated failures. Retry after the retry-after delay.`
    : keyWait !== undefined
      ? `No healthy upstream for '${publicModel}': every vendor key is resting after rate limits or rejections. Retry after the retry-after delay.`
      : disabled?.provider.disabled
        ? `No healthy upstream: ${disabled.provider.disabled}.`
        : `No healthy upstream can serve '${publicModel}' right now. Retry later.`
  return retryAfterMs === undefined ? { kind: 'unavailable', reason } : { kind: 'unavailable', reason, retryAfterMs }
}
