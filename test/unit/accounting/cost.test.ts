/**
 * Cost math against hand-computed figures, from each vendor's usage as its adapter normalizes it.
 * Prices are the bundled catalog's (config/pricing.json), per million tokens.
 */
import { describe, expect, it } from 'vitest'
import { costOf, worstCaseOf } from '../../../src/accounting/cost.ts'
import { loadBundledCatalog, lookupPrice, parseCatalog } from '../../../src/accounting/catalog.ts'
import { createPricing } from '../../../src/accounting/pricing.ts'
import { usageFromOpenAI } from '../../../src/core/usage.ts'
import { anthropicUsageToUsage, readAnthropicUsage } from '../../../src/providers/anthropic/usage.ts'
import { usageFromGemini } from '../../../src/providers/gemini/common.ts'
import { parseConfig } from '../../../src/config/load.ts'
import type { CallInfo } from '../../../src/core/call.ts'

const catalog = loadBundledCatalog()
const price = (m: string) => {
  const p = lookupPrice(catalog, m)
  if (!p) throw new Error(`no price for ${m}`)
  return p
}

describe('cost of normalized usage', () => {
  it('OpenAI o4-mini: cached tokens are inside prompt_tokens and billed once, at the cached rate; reasoning inside output', () => {
    // o4-mini: input 1.10, cached 0.275, output 4.40.
    // fresh 12000-8000 = 4000 x 1.10 = 4400; cached 8000 x 0.275 = 2200; output 3000 x 4.40 = 13200 -> 19800 / 1e6
    const u = usageFromOpenAI({ prompt_tokens: 12000, completion_tokens: 3000, total_tokens: 15000, prompt_tokens_details: { cached_tokens: 8000 }, completion_tokens_details: { reasoning_tokens: 1000 } })!
    expect(costOf(price('o4-mini'), u)).toBe(0.0198)
  })

  it('Anthropic claude-sonnet-4-5: cache reads and writes reported apart are each billed at their own rate', () => {
    // input 3, cache read 0.30, cache write 3.75, output 15.
    // 2000 x 3 = 6000; 10000 x 0.30 = 3000; 4000 x 3.75 = 15000; 1500 x 15 = 22500 -> 46500 / 1e6
    const u = anthropicUsageToUsage(readAnthropicUsage({ input_tokens: 2000, cache_read_input_tokens: 10000, cache_creation_input_tokens: 4000, output_tokens: 1500 })!)
    expect(u.inputTokens).toBe(16000)
    expect(costOf(price('claude-sonnet-4-5-20250929'), u)).toBe(0.0465)
  })

  it('Anthropic claude-haiku-4-5 with thinking: thinking tokens are inside output, at the output rate', () => {
    // input 1, read 0.10, write 1.25, output 5: 500 x 1 = 500; 20000 x 0.10 = 2000; 0 writes; 2400 x 5 = 12000 -> 14500 / 1e6
    const u = anthropicUsageToUsage(readAnthropicUsage({ input_tokens: 500, cache_read_input_tokens: 20000, output_tokens: 2400, output_tokens_details: { thinking_tokens: 1800 } })!)
    expect(costOf(price('claude-haiku-4-5'), u)).toBe(0.0145)
  })

  it('Gemini gemini-2.5-flash: cachedContentTokenCount inside promptTokenCount; thoughts billed as output', () => {
    // input 0.30, cached 0.03, output 2.50: fresh 5000 x 0.30 = 1500; 15000 x 0.03 = 450; (800 + 1200) x 2.50 = 5000 -> 6950 / 1e6
    const u = usageFromGemini({ promptTokenCount: 20000, cachedContentTokenCount: 15000, candidatesTokenCount: 800, thoughtsTokenCount: 1200, totalTokenCount: 22000 })!
    expect(u.reasoningTokens).toBe(1200)
    expect(costOf(price('gemini-2.5-flash'), u)).toBe(0.00695)
  })

  it('DeepSeek deepseek-reasoner: cache hits at the hit price', () => {
    // input 0.28, cached 0.028, output 0.42: 1000 x 0.28 = 280; 9000 x 0.028 = 252; 4000 x 0.42 = 1680 -> 2212 / 1e6
    const u = usageFromOpenAI({ prompt_tokens: 10000, completion_tokens: 4000, total_tokens: 14000, prompt_tokens_details: { cached_tokens: 9000 } })!
    expect(costOf(price('deepseek-reasoner'), u)).toBe(0.002212)
  })

  it('a separate reasoning price applies only to reasoning tokens; absent cached/write prices default to input', () => {
    const p = { input: 2, output: 10, reasoning: 20 }
    // fresh 100 + cached 300 + written 600 all at 2 = 2000; output 600 x 10 = 6000; reasoning 400 x 20 = 8000 -> 16000 / 1e6
    expect(costOf(p, { inputTokens: 1000, cachedInputTokens: 300, cacheWriteTokens: 600, outputTokens: 1000, reasoningTokens: 400, estimated: false })).toBe(0.016)
  })

  it('worst case: estimated prompt at the input price plus max output at the output price', () => {
    // gpt-4o: 1000 x 2.5 + 500 x 10 = 7500 / 1e6
    expect(worstCaseOf(price('gpt-4o'), 1000, 500)).toBe(0.0075)
  })
})

describe('catalog lookup', () => {
  it('exact, dated suffix stripped, vendor prefix stripped, -latest alias', () => {
    expect(lookupPrice(catalog, 'gpt-4o-mini-2024-07-18')).toEqual({ input: 0.15, cached_input: 0.075, output: 0.6 })
    expect(lookupPrice(catalog, 'claude-haiku-4-5-20251001')?.cache_write).toBe(1.25)
    expect(lookupPrice(catalog, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')?.input).toBe(3)
    expect(lookupPrice(catalog, 'openai/gpt-4.1-mini')?.output).toBe(1.6)
    expect(lookupPrice(catalog, 'mistral-large')?.output).toBe(6)
    expect(lookupPrice(catalog, 'GPT-5')?.input).toBe(1.25)
    expect(lookupPrice(catalog, 'no-such-model')).toBeUndefined()
  })

  it('every catalog entry has input and output prices', () => {
    for (const [, p] of catalog) {
      expect(typeof p.input).toBe('number')
      expect(typeof p.output).toBe('number')
    }
    expect(() => parseCatalog('{"vendors":{"x":{"read_on":"2026-01-01","source":"s","models":{"m":{"input":1}}}}}')).toThrow()
  })
})

describe('pricing port', () => {
  const config = parseConfig(`
providers:
  p: { type: mock }
models:
  priced: { targets: [{ provider: p, model: gpt-4o-mini }] }
  overridden: { targets: [{ provider: p, model: gpt-4o-mini }], pricing: { input: 1, output: 2 } }
  unknown: { targets: [{ provider: p, model: my-private-model }] }
  with-fallback: { targets: [{ provider: p, model: gpt-4o-mini }], fallbacks: [dear] }
  dear: { targets: [{ provider: p, model: gpt-4o }] }
`, 'test.yaml', {}).config
  const warnings: string[] = []
  const pricing = createPricing(config, (msg, f) => warnings.push(`${msg} ${String(f.upstream_model)}`), catalog)
  const u = { inputTokens: 1_000_000, outputTokens: 1_000_000, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }

  it('config pricing wins over the catalog', () => {
    expect(pricing.cost('priced', 'p', 'gpt-4o-mini', u)).toBe(0.75)
    expect(pricing.cost('overridden', 'p', 'gpt-4o-mini', u)).toBe(3)
  })

  it('unknown price: null (never 0), warned once per model', () => {
    expect(pricing.cost('unknown', 'p', 'my-private-model', u)).toBeNull()
    expect(pricing.cost('unknown', 'p', 'my-private-model', u)).toBeNull()
    expect(warnings.filter((w) => w.endsWith('my-private-model'))).toHaveLength(1)
  })

  it('worst case covers the dearest target, fallbacks included', () => {
    const call = { estimatedInputTokens: 1000, maxOutputTokens: 100 } as CallInfo
    // gpt-4o: 1000 x 2.5 + 100 x 10 = 3500 / 1e6
    expect(pricing.worstCase('with-fallback', call)).toBe(0.0035)
    expect(pricing.worstCase('unknown', call)).toBeNull()
  })
})
