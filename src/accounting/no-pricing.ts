/** Placeholder until the pricing catalog is wired: every cost is unknown (never silently zero). */
import type { Pricing } from '../core/ports.ts'

export const unknownPricing: Pricing = {
  cost: () => null,
  worstCase: () => null,
}
