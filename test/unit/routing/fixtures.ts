/** Real config and deployments for routing unit tests, from YAML. */
import { parseConfig } from '../../../src/config/load.ts'
import type { Config } from '../../../src/config/schema.ts'
import { buildDeployments, type Deployments } from '../../../src/routing/deployments.ts'

export function setup(yaml: string): { config: Config; deployments: Deployments } {
  const { config } = parseConfig(yaml, 'test.yaml', {})
  return { config, deployments: buildDeployments(config, () => {}) }
}

/** A deterministic random source: a fixed sequence, repeated. */
export function seq(...values: number[]): () => number {
  let i = 0
  return () => values[i++ % values.length]!
}

/** A small seeded PRNG (mulberry32) for distribution tests. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
