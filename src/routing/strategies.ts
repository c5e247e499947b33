/**
 * The routing strategies: each orders a model's usable targets for one request, best first. Pure
 * functions over the targets and what this replica has measured; the plan walks the order, so the
 * rest of the list is the failover order.
 */

export interface Candidate {
  weight: number
  /** Attempts in flight on this target from this replica. */
  inFlight: number
  /** Moving average of time to first byte in ms; undefined until measured. */
  latencyMs: number | undefined
  /** Price of a nominal call in USD; null when unknown. */
  price: number | null
}

/** Weighted random order without replacement; zero weights go last. */
export function weightedOrder<T extends { weight: number }>(items: readonly T[], random: () => number): T[] {
  const pool = [...items]
  const out: T[] = []
  while (pool.length > 0) {
    let total = 0
    for (const t of pool) total += Math.max(0, t.weight)
    let idx = 0
    if (total > 0) {
      let r = random() * total
      idx = pool.findIndex((t) => (r -= Math.max(0, t.weight)) < 0)
      if (idx < 0) idx = pool.length - 1
    }
    out.push(pool.splice(idx, 1)[0]!)
  }
  return out
}

/** Rotates the list by a counter: each request starts one further along. */
export function roundRobinOrder<T>(items: readonly T[], counter: number): T[] {
  const k = counter % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

/** Fewest attempts in flight first; ties in weighted random order (so weights still split a quiet group). */
export function leastBusyOrder<T extends Candidate>(items: readonly T[], random: () => number): T[] {
  return weightedOrder(items, random).sort((a, b) => a.inFlight - b.inFlight)
}

/**
 * Lowest moving-average time to first byte first. Unmeasured targets go first (so each gets
 * measured), and with probability `epsilon` the order is weighted random instead, so a target that
 * was slow once gets another look.
 */
export function latencyOrder<T extends Candidate>(items: readonly T[], random: () => number, epsilon = 0.1): T[] {
  const shuffled = weightedOrder(items, random)
  if (random() < epsilon) return shuffled
  return shuffled.sort((a, b) => (a.latencyMs ?? -1) - (b.latencyMs ?? -1))
}

/** Cheapest first; unknown prices last; equal prices in weighted random order. */
export function costOrder<T extends Candidate>(items: readonly T[], random: () => number): T[] {
  return weightedOrder(items, random).sort((a, b) => {
    if (a.price === null || b.price === null) return (a.price === null ? 1 : 0) - (b.price === null ? 1 : 0)
    return a.price - b.price
  })
}
