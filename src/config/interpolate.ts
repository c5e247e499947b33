/**
 * `${VAR}`, `${VAR:-default}` and `${file:/path}` in string values. Interpolation runs on parsed
 * YAML scalars, not on the raw text, so a secret containing YAML syntax can never change the
 * document's structure.
 */
import { readFileSync } from 'node:fs'

export interface InterpolationResult {
  value: unknown
  /** Variables referenced without a default that were unset (their value became ''). */
  missing: Set<string>
}

const PATTERN = /\$\{([^}]+)\}/g

export class InterpolationError extends Error {
  readonly path: string
  constructor(path: string, message: string) {
    super(message)
    this.path = path
  }
}

/**
 * The paths of every `${file:/path}` in the string values of `value`, for the config watcher: a
 * rotated secret in one of them is a new version of the config although its text is the same.
 */
export function fileReferences(value: unknown): string[] {
  const found = new Set<string>()
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(PATTERN)) if (m[1]!.startsWith('file:')) found.add(m[1]!.slice(5))
    } else if (Array.isArray(v)) {
      v.forEach(walk)
    } else if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      Object.values(v).forEach(walk)
    }
  }
  walk(value)
  return [...found].sort()
}

export function interpolate(value: unknown, env: Record<string, string | undefined>): InterpolationResult {
  const missing = new Set<string>()
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') return v.includes('${') ? replace(v, path) : v
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`))
    if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      const out: Record<string, unknown> = {}
      for (const [k, item] of Object.entries(v)) {
        // Assigning it would set the object's prototype, and validation leaves it out of a map: a
        // team or model of that name would vanish, or its fields be inherited, without a word.
        if (k === '__proto__') throw new InterpolationError(path ? `${path}.${k}` : k, "'__proto__' cannot be used as a key or name")
        out[k] = walk(item, path ? `${path}.${k}` : k)
      }
      return out
    }
    return v
  }
  const replace = (s: string, path: string): string =>
    s.replace(PATTERN, (_m, expr: string) => {
      if (expr.startsWith('file:')) {
        const file = expr.slice(5)
        try {
          return readFileSync(file, 'utf8').trim()
        } catch (err) {
          throw new InterpolationError(path, `cannot read \${file:${file}}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
        }
      }
      const sep = expr.indexOf(':-')
      const name = (sep === -1 ? expr : expr.slice(0, sep)).trim()
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InterpolationError(path, `\${${expr}} is not a valid variable reference; expected \${NAME}, \${NAME:-default} or \${file:/path}`)
      const current = env[name]
      if (current !== undefined && current !== '') return current
      if (sep !== -1) return expr.slice(sep + 2)
      missing.add(name)
      return ''
    })
  return { value: walk(value, ''), missing }
}
