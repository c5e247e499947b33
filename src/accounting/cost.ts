/**
 * The cost of a call from normalized usage (OpenAI semantics: cache reads and writes are inside
 * inputTokens, reasoning is inside outputTokens). Each prompt token is billed once, at the price
 * of its kind; that is where gateways that add cached tokens on top over-bill by 2x to 7x.
 */
import type { Usage } from '../core/usage.ts'
import type { ModelPrice } from './catalog.ts'

/** Rounded to 1e-10 USD so float noise never shows in sums and headers. */
const round = (usd: number): number => Math.round(usd * 1e10) / 1e10

export function costOf(p: ModelPrice, u: Usage): number {
  const cached = Math.max(0, u.cachedInputTokens)
  const written = Math.max(0, u.cacheWriteTokens)
  const fresh = Math.max(0, u.inputTokens - cached - written)
  const reasoning = p.reasoning === undefined ? 0 : Math.min(Math.max(0, u.reasoningTokens), u.outputTokens)
  const output = Math.max(0, u.outputTokens - reasoning)
  const perMillion = fresh * p.input
    + cached * (p.cached_input ?? p.input)
    + written * (p.cache_write ?? p.input)
    + output * p.output
    + reasoning * (p.reasoning ?? p.output)
  return round(perMillion / 1e6)
}

/** The reservation's worst case: prompt tokens at the input price, max output tokens at the dearer output rate (spec section 8). */
export function worstCaseOf(p: ModelPrice, inputTokens: number, maxOutputTokens: number): number {
  const out = Math.max(p.output, p.reasoning ?? 0)
  return round((inputTokens * p.input + maxOutputTokens * out) / 1e6)
}
