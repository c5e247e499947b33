/**
 * Turns the config's providers and models into what routing works with: each provider with its
 * adapter, transport and key pool, and each model's targets. A provider whose key is unset is kept
 * but disabled, so its models answer 503 no_healthy_upstream instead of failing start-up.
 *
 * Timeouts: the most specific setting wins (target > model > provider > routing). connect_ms is
 * per provider (connections are pooled per provider). total_ms means two things: on a model (or
 * routing) it is the request's deadline across all attempts; on a provider or target it caps each
 * attempt there, so one slow deployment cannot eat the whole deadline (unset: no per-attempt cap).
 */
import type { Config, TargetEntry } from '../config/schema.ts'
import { providerKind } from '../providers/registry.ts'
import type { ProviderConfig, ProviderKind } from '../providers/types.ts'
import type { Timeouts, Transport } from '../upstream/types.ts'
import { createHttpTransport } from '../upstream/http-transport.ts'
import { createKeyPool, type KeyPool } from './key-pool.ts'

export interface ProviderRuntime {
  name: string
  kind: ProviderKind
  config: ProviderConfig
  transport: Transport
  keys: KeyPool
  /** Why the provider cannot serve (no key configured), or undefined when it can. */
  disabled: string | undefined
  timeouts: Timeouts
}

export interface Target {
  /** `<model>#<index>`: identifies the deployment for breaker and latency stats. */
  id: string
  publicModel: string
  provider: ProviderRuntime
  upstreamModel: string
  weight: number
  /** Merged timeouts; `totalMs` caps one attempt (Infinity: no cap beyond the request deadline). */
  timeouts: Timeouts
  entry: TargetEntry
}

export interface Deployments {
  providers: Map<string, ProviderRuntime>
  /** Targets of each public model, in config order. */
  targets: Map<string, Target[]>
  close(): Promise<void>
}

type Log = (level: 'warn' | 'info', msg: string, fields?: Record<string, unknown>) => void

type TimeoutsConfig = { connect_ms?: number; first_byte_ms?: number; idle_ms?: number; total_ms?: number }

/** Overlays one level's timeouts; `total_ms` only where `withTotal` (providers and targets: per attempt). */
function mergeTimeouts(base: Timeouts, over: TimeoutsConfig | undefined, withTotal: boolean): Timeouts {
  if (!over) return base
  return {
    connectMs: over.connect_ms ?? base.connectMs,
    firstByteMs: over.first_byte_ms ?? base.firstByteMs,
    idleMs: over.idle_ms ?? base.idleMs,
    totalMs: withTotal ? over.total_ms ?? base.totalMs : base.totalMs,
  }
}

/** The request deadline for a public model: its own total_ms, else routing.timeouts.total_ms. */
export function requestTotalMs(config: Config, publicModel: string): number {
  return config.models[publicModel]?.timeouts?.total_ms ?? config.routing.timeouts.total_ms
}

export function buildDeployments(config: Config, log: Log): Deployments {
  const t = config.routing.timeouts
  // totalMs here is the per-attempt cap: none unless a provider or target sets one.
  const defaults: Timeouts = { connectMs: t.connect_ms, firstByteMs: t.first_byte_ms, idleMs: t.idle_ms, totalMs: Number.POSITIVE_INFINITY }
  const providers = new Map<string, ProviderRuntime>()
  for (const [name, p] of Object.entries(config.providers)) {
    const kind = providerKind(p.type)
    if (!kind) {
      log('warn', `provider type "${p.type}" is not available in this build; provider disabled`, { provider: name })
      continue
    }
    const keys = (p.keys ?? []).filter((k) => k.length > 0)
    const hasAwsCreds = Boolean(p.access_key_id && p.secret_access_key)
    let disabled: string | undefined
    if (kind.needsKey && keys.length === 0 && !hasAwsCreds) {
      disabled = `provider "${name}" has no API key configured (its key variable is unset)`
      log('warn', `${disabled}; its models will answer 503 no_healthy_upstream`, { provider: name })
    }
    const timeouts = mergeTimeouts(defaults, p.timeouts, true)
    const cfg: ProviderConfig = {
      name,
      type: p.type,
      baseUrl: (p.base_url ?? kind.defaultBaseUrl ?? (p.region ? `https://bedrock-runtime.${p.region}.amazonaws.com` : '')).replace(/\/+$/, ''),
      apiVersion: p.api_version,
      region: p.region,
      accessKeyId: p.access_key_id,
      secretAccessKey: p.secret_access_key,
      sessionToken: p.session_token,
      headers: p.headers ?? {},
    }
    providers.set(name, {
      name,
      kind,
      config: cfg,
      transport: kind.transport ? kind.transport(cfg) : createHttpTransport({ connectMs: timeouts.connectMs }),
      keys: createKeyPool(keys, (msg, hint) => log('warn', msg, { provider: name, key: hint })),
      disabled,
      timeouts,
    })
  }
  const targets = new Map<string, Target[]>()
  for (const [model, m] of Object.entries(config.models)) {
    const list: Target[] = []
    m.targets.forEach((entry, i) => {
      const provider = providers.get(entry.provider)
      if (!provider) return
      list.push({
        id: `${model}#${i}`,
        publicModel: model,
        provider,
        upstreamModel: entry.model,
        weight: entry.weight,
        timeouts: mergeTimeouts(mergeTimeouts(provider.timeouts, m.timeouts, false), entry.timeouts, true),
        entry,
      })
    })
    targets.set(model, list)
  }
  return {
    providers,
    targets,
    close: async () => {
      await Promise.allSettled([...providers.values()].map((p) => p.transport.close()))
    },
  }
}
