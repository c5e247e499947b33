/** Model-name globs (`gpt-4o*`, `claude-*`): `*` matches any run of characters, nothing else is special. */
const compiled = new Map<string, RegExp>()

export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value
  let re = compiled.get(pattern)
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
    // Patterns come from config and keys, a bounded set; still, never let this grow without bound.
    if (compiled.size > 10_000) compiled.clear()
    compiled.set(pattern, re)
  }
  return re.test(value)
}

export const anyGlobMatches = (patterns: readonly string[] | undefined, value: string): boolean =>
  patterns === undefined || patterns.some((p) => globMatch(p, value))
