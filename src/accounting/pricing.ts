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
  const resolved = new Map<string, ModelPrice | null>()
  const warned = new Set<string>()

  const priceOf = (publicModel: string, provider: string, upstreamModel: string): ModelPrice | undefined => {
    const id = `${publicModel}\u0000${provider}\u0000${upstreamModel}`
    let p = resolved.get(id)
    if (p === undefined) {
      p = config.models[publicModel]?.pricing ?? lookupPrice(catalog, upstreamModel) ?? null
      // Bounded: targets come from the config, so there are only so many triples.
      if (resolved.size < 10_000) resolved.set(id, p)
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

  // Each target of a model and of its fallbacks may price differently: reserve for the dearest.
  const worstCache = new Map<string, Array<ModelPrice | undefined>>()

  return {
    priceOf,
    cost(publicModel: string, provider: string, upstreamModel: string, usage: Usage): number | null {
      const p = priceOf(publicModel, provider, upstreamModel)
      return p ? costOf(p, usage) : null
    },
    worstCase(publicModel: string, call: CallInfo): number | null {
      let prices = worstCache.get(publicModel)
      if (!prices) {
        const m = config.models[publicModel]
        prices = [
          ...(m?.targets ?? []).map((t) => priceOf(publicModel, t.provider, t.model)),
          ...(m?.fallbacks ?? []).flatMap((fb) => (config.models[fb]?.targets ?? []).map((t) => priceOf(fb, t.provider, t.model))),
        ]
        worstCache.set(publicModel, prices)
      }
      let worst: number | null = null
      for (const p of prices) {
        if (!p) continue
        const c = worstCaseOf(p, call.estimatedInputTokens, call.maxOutputTokens)
        if (worst === null || c > worst) worst = c
      }
      return worst
    },
  }
}
