/**
 * The bundled price catalog (config/pricing.json): read once at start-up, flattened into one map
 * by upstream model name. Vendor blocks only group entries and carry the date they were read.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'

/** USD per million tokens. Absent cached/write prices default to the input price. */
export interface ModelPrice {
  input: number
  output: number
  cached_input?: number
  cache_write?: number
  /** Only when a vendor bills reasoning tokens apart from output tokens. */
  reasoning?: number
}

const price = z.strictObject({
  input: z.number().min(0),
  output: z.number().min(0),
  cached_input: z.number().min(0).optional(),
  cache_write: z.number().min(0).optional(),
  reasoning: z.number().min(0).optional(),
  read_on: z.string().optional(),
})
const catalogFile = z.object({
  vendors: z.record(z.string(), z.strictObject({
    read_on: z.string(),
    source: z.string(),
    models: z.record(z.string(), price),
  })),
})

export type Catalog = ReadonlyMap<string, ModelPrice>

export const bundledCatalogPath = new URL('../../config/pricing.json', import.meta.url)

export function parseCatalog(text: string): Catalog {
  const file = catalogFile.parse(JSON.parse(text))
  const out = new Map<string, ModelPrice>()
  for (const vendor of Object.values(file.vendors)) {
    for (const [name, p] of Object.entries(vendor.models)) {
      const { read_on: _readOn, ...rates } = p
      out.set(name.toLowerCase(), rates)
    }
  }
  return out
}

export function loadBundledCatalog(): Catalog {
  return parseCatalog(readFileSync(bundledCatalogPath, 'utf8'))
}

// gpt-4o-mini-2024-07-18, claude-haiku-4-5-20251001, claude-3-5-sonnet@20241022, ...-v1:0 (Bedrock)
const DATED = /(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}))?(?:-v\d+(?::\d+)?)?$/
// Bedrock inference profiles and vendor-qualified ids: us.anthropic.claude-..., meta.llama3-..., openai/gpt-4o
const VENDOR_PREFIX = /^(?:[a-z]{2,4}\.)?(?:anthropic|meta|mistral|amazon|cohere|deepseek|openai|qwen|ai21)\.|^.*\//

/**
 * Finds the price of an upstream model name: exact, then without a dated suffix, then without a
 * vendor prefix (and both), then the `-latest` alias. Case-insensitive.
 */
export function lookupPrice(catalog: Catalog, upstreamModel: string): ModelPrice | undefined {
  const name = upstreamModel.toLowerCase()
  const unprefixed = name.replace(VENDOR_PREFIX, '')
  for (const candidate of [name, name.replace(DATED, ''), unprefixed, unprefixed.replace(DATED, '')]) {
    const hit = catalog.get(candidate) ?? catalog.get(`${candidate}-latest`)
    if (hit) return hit
  }
  return undefined
}
