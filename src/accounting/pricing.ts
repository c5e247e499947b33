/**
 * The Pricing port: the price of each (public model, provider, upstream model) is resolved once
 * and memoized, so pricing a call is one map lookup and a few multiplications. A configured
 * `models.<name>.pricing` wins over the bundled catalog; a model with no price costs `null` (never
 * a silent zero) and is logged once.
 */
import type { Config } from '../config/schema.ts'
import type { CallInfo } from '../core/call.ts'
import type { Pricing } from '../core/ports.ts'
import type { Usage } from '../core/usage.ts'
import { loadBundledCatalog, lookupPrice, type Catalog, type ModelPrice } from './catalog.ts'
import { costOf, worstCaseOf } from './cost.ts'

export interface GatewayPricing extends Pricing {
  /** The price used for a target, or undefined when unknown. */
  priceOf(publicModel: string, provider: string, upstreamModel: string): ModelPrice | undefined
}

type Warn = (msg: string, fields: Record<string, unknown>) => void

export function createPricing(config: Config, warn: Warn, catalog: Catalog = loadBundledCatalog()): GatewayPricing {
  // publicModel -> provider -> upstreamModel -> price (null: unknown). Nested maps rather than a
  // joined key: the lookup runs a few times per request and builds no string.
  const resolved = new Map<string, Map<string, Map<string, ModelPrice | null>>>()
  let resolvedCount = 0
  const warned = new Set<string>()

  const priceOf = (publicModel: string, provider: string, upstreamModel: string): ModelPrice | undefined => {
    let byProvider = resolved.get(publicModel)
    let byUpstream = byProvider?.get(provider)
    let p = byUpstream?.get(upstreamModel)
    if (p === undefined) {
      p = config.models[publicModel]?.pricing ?? lookupPrice(catalog, upstreamModel) ?? null
      // Bounded: targets come from the config, so there are only so many triples.
      if (resolvedCount < 10_000) {
        if (!byProvider) resolved.set(publicModel, (byProvider = new Map()))
        if (!byUpstream) byProvider.set(provider, (byUpstream = new Map()))
        byUpstream.set(upstreamModel, p)
        resolvedCount++
      }
    }
    if (p === null) {
      if (!warned.has(upstreamModel) && warned.size < 10_000) {
        warned.add(upstreamModel)
        warn('no price for this model: its calls are recorded with cost unknown; set models.<name>.pricing', { model: publicModel, provider, upstream_model: upstreamModel })
      }
      return undefined
    }
    return p
  }

  // The prices of a model's own targets, resolved once per configured model (a bounded set; a name
  // the config does not know has none and is not kept).
  const targetPrices = new Map<string, Array<ModelPrice | undefined>>()
  const pricesOf = (model: string): Array<ModelPrice | undefined> => {
    let prices = targetPrices.get(model)
    if (!prices) {
      const m = config.models[model]
      if (!m) return []
      prices = m.targets.map((t) => priceOf(model, t.provider, t.model))
      targetPrices.set(model, prices)
    }
    return prices
  }
  // Every model the routing plan may reach from this one (routing/plan.ts): its targets, its
  // `fallbacks`, and the context-window and content-policy fallbacks it jumps to on those errors.
  // A reservation priced at fewer than all of them let calls that moved to a dearer model overrun
  // a budget (a $0.50 budget ended at $1.80).
  const reachable = new Map<string, Array<ModelPrice | undefined>>()
  const reachableFrom = (model: string): Array<ModelPrice | undefined> => {
    let prices = reachable.get(model)
    if (!prices) {
      const m = config.models[model]
      const names = new Set([model, ...(m?.fallbacks ?? []), ...(m?.context_window_fallbacks ?? []), ...(m?.content_policy_fallbacks ?? [])])
      prices = [...names].flatMap(pricesOf)
      if (m) reachable.set(model, prices)
    }
    return prices
  }
  const dearest = (prices: ReadonlyArray<ModelPrice | undefined>, call: CallInfo, worst: number | null): number | null => {
    for (const p of prices) {
      if (!p) continue
      const c = worstCaseOf(p, call.estimatedInputTokens, call.maxOutputTokens)
      if (worst === null || c > worst) worst = c
    }
    return worst
  }

  return {
    priceOf,
    cost(publicModel: string, provider: string, upstreamModel: string, usage: Usage): number | null {
      const p = priceOf(publicModel, provider, upstreamModel)
      return p ? costOf(p, usage) : null
    },
    worstCase(publicModel: string, call: CallInfo): number | null {
      let worst = dearest(reachableFrom(publicModel), call, null)
      // The client's own fallbacks (x-switchboard-fallbacks, those its key may use) are reached too.
      if (call.requestFallbacks) for (const m of call.requestFallbacks) worst = dearest(pricesOf(m), call, worst)
      return worst
    },
  }
}
