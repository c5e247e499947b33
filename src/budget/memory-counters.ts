/**
 * Budget counters in this process's memory (no Redis): exact for one replica. Bounded: beyond
 * MAX entries, idle counters of past periods and finished runs are forgotten first; a forgotten
 * counter is rebuilt from the ledger on its next use.
 */
import { counterId, toNano, type Scope } from './scopes.ts'
import { fits, type Baseline, type BudgetCounters, type ReserveResult, type Totals } from './counters.ts'

const MAX = 100_000

interface Entry extends Totals {
  end: number
}

export function memoryCounters(): BudgetCounters {
  const entries = new Map<string, Entry>()
  const loading = new Map<string, Promise<void>>()
  const alerted = new Set<string>()

  const load = (s: Scope, baseline: Baseline): Promise<void> | undefined => {
    const id = counterId(s)
    if (entries.has(id)) return undefined
    let p = loading.get(id)
    if (!p) {
      p = baseline(s).then((usd) => {
        if (!entries.has(id)) insert(id, { spent: toNano(usd), reserved: 0, end: s.window.end })
      }).finally(() => loading.delete(id))
      loading.set(id, p)
    }
    return p
  }

  const insert = (id: string, e: Entry) => {
    if (entries.size >= MAX) evict()
    entries.set(id, e)
  }
  const evict = () => {
    const now = Date.now()
    let n = 0
    for (const [id, e] of entries) {
      if (e.reserved === 0 && (e.end <= now || n < MAX / 10)) {
        entries.delete(id)
        n++
      }
      if (n >= MAX / 10) break
    }
  }

  /** Undefined when every scope's counter exists (the usual case): then nothing waits. */
  const ensure = (scopes: readonly Scope[], baseline: Baseline): Promise<unknown> | undefined => {
    let waits: Array<Promise<void>> | undefined
    for (const s of scopes) {
      const p = load(s, baseline)
      if (p) (waits ??= []).push(p)
    }
    return waits && Promise.all(waits)
  }

  const entry = (s: Scope): Entry => {
    const id = counterId(s)
    let e = entries.get(id)
    if (!e) {
      e = { spent: 0, reserved: 0, end: s.window.end }
      insert(id, e)
    }
    return e
  }

  /** Checks and takes in one synchronous step, so no other call can interleave. */
  const take = (scopes: readonly Scope[], amount: number): ReserveResult => {
    const es = scopes.map(entry)
    for (let i = 0; i < es.length; i++) {
      if (!fits(es[i]!, amount, toNano(scopes[i]!.limitUsd))) return { ok: false, index: i, totals: { spent: es[i]!.spent, reserved: es[i]!.reserved } }
    }
    for (const e of es) e.reserved += amount
    return { ok: true, totals: es.map((e) => ({ spent: e.spent, reserved: e.reserved })) }
  }

  return {
    kind: 'memory',
    reserve(scopes, amount, _token, baseline): ReserveResult | Promise<ReserveResult> {
      const loading = ensure(scopes, baseline)
      return loading ? loading.then(() => take(scopes, amount)) : take(scopes, amount)
    },
    settle(scopes, amount, _token, cost) {
      return scopes.map((s) => {
        const e = entry(s)
        e.reserved = Math.max(0, e.reserved - amount)
        e.spent += cost
        return { spent: e.spent, reserved: e.reserved }
      })
    },
    async read(scope, baseline) {
      await ensure([scope], baseline)
      const e = entry(scope)
      return { spent: e.spent, reserved: e.reserved }
    },
    async claimAlert(scope) {
      const id = counterId(scope)
      if (alerted.has(id)) return false
      if (alerted.size >= MAX) alerted.clear()
      alerted.add(id)
      return true
    },
  }
}
