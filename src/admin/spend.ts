/**
 * The admin API's window onto spend: implemented by the ledger/budget side and handed to the key
 * and team routes. Absent (or failing) = spend is shown as null.
 */
export interface SpendScope {
  type: 'team' | 'key'
  /** Team name, or key id (`cfg:<team>/<name>` or `key_...`). */
  id: string
}

/** USD spent in the scope's current budget period (monthly when it has no budget); null when unknown. */
export type SpendThisPeriod = (scope: SpendScope) => Promise<number | null> | number | null

export async function spendOrNull(fn: SpendThisPeriod | undefined, scope: SpendScope): Promise<number | null> {
  if (!fn) return null
  try {
    return await fn(scope)
  } catch {
    return null
  }
}
