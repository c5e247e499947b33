/**
 * Tables looked up by a name that comes from outside: the config's team, model, provider and key
 * names (looked up by what clients and admins send), a client's reasoning effort or image type, a
 * vendor's error type. A plain object also "has" `constructor`, `toString`, `__proto__`... from
 * Object.prototype, so such a name was found as if declared: a key created for team `constructor`
 * with no scope, limits or budget; a 500 for model `toString`. Without a prototype only the
 * table's own names are found, and a lookup costs the same (measured: ~7 ns either way).
 */
export function nameMap<T>(entries: Readonly<Record<string, T>>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries)
}
