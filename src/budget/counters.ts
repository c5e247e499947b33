/**
 * Budget counters: per scope and period, what is spent and what is reserved by calls in flight,
 * in integer nano-dollars. A reservation is checked and taken against every scope of a call at
 * once, or against none.
 */
import type { Scope } from './scopes.ts'

export interface Totals {
  spent: number
  reserved: number
}

export type ReserveResult =
  | { ok: true; totals: Totals[] }
  /** `index` is the scope that did not fit; totals are that scope's. */
  | { ok: false; index: number; totals: Totals }

/** Loads a scope's spend from the ledger when its counter does not exist yet (first use, restart). */
export type Baseline = (scope: Scope) => Promise<number>

export interface BudgetCounters {
  readonly kind: 'memory' | 'redis'
  /** A plain value when it could be decided at once (memory counters already loaded): no promise per call. */
  reserve(scopes: readonly Scope[], amount: number, token: string, baseline: Baseline): ReserveResult | Promise<ReserveResult>
  /** Releases the reservation and adds the real cost; returns the new totals (at once, or later from a store). */
  settle(scopes: readonly Scope[], amount: number, token: string, cost: number): Totals[] | Promise<Totals[]>
  /** Current totals of one scope (loading its baseline if needed). */
  read(scope: Scope, baseline: Baseline): Promise<Totals>
  /** Claims the alert of a scope's period; true once per period across replicas. */
  claimAlert(scope: Scope): Promise<boolean>
}

/** A reservation fits when the scope is not spent yet and the worst case fits in what is left. */
export const fits = (t: Totals, amount: number, limit: number): boolean => t.spent + t.reserved < limit && t.spent + t.reserved + amount <= limit
