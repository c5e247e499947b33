// The Sprig and Helm functions the chart uses, written to match their Go behaviour for the inputs the chart gives
// them. Anything not here is "not defined" and fails rendering, which keeps the chart inside what this test can check.
import { createHash } from 'node:crypto'
import { stringify } from 'yaml'
import { TemplateError, goEq, goKind, goCompare, goPrint, isMap, truthy } from './go-template.ts'
import type { FuncMap } from './go-template.ts'

export class HelmFail extends TemplateError {}

/** Sprig's toInt64 (via spf13/cast): floats truncate, numeric strings parse, anything else is 0. */
export function toInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') return BigInt(Math.trunc(v))
  if (typeof v === 'boolean') return v ? 1n : 0n
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim())
  return 0n
}

function str(v: unknown): string {
  return goPrint(v)
}

/** JSON-able copy: Helm's toYaml goes through encoding/json, so ints and floats both become plain numbers. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (v === undefined) return null
  if (Array.isArray(v)) return v.map(plain)
  if (isMap(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, plain(v[k])]))
  return v
}

export function toYaml(v: unknown): string {
  const out = stringify(plain(v), { lineWidth: 0, sortMapEntries: true, aliasDuplicateObjects: false })
  return out.replace(/\n$/, '')
}

function indent(n: unknown, s: unknown): string {
  const pad = ' '.repeat(Number(toInt(n)))
  return pad + str(s).replace(/\n/g, `\n${pad}`)
}

function goQuote(s: string): string {
  return JSON.stringify(s)
}

function printf(format: unknown, ...args: unknown[]): string {
  let i = 0
  return str(format).replace(/%([%sdvq])/g, (_m, verb: string) => {
    if (verb === '%') return '%'
    const a = args[i++]
    if (verb === 'd') return toInt(a).toString()
    if (verb === 'q') return goQuote(str(a))
    return str(a)
  })
}

export function sprigFuncs(): FuncMap {
  return {
    default: (def, given) => (truthy(given) ? given : def),
    empty: (v) => !truthy(v),
    coalesce: (...vs) => vs.find(truthy) ?? null,
    ternary: (a, b, cond) => (truthy(cond) ? a : b),
    required: (msg, v) => {
      if (v === null || v === undefined || v === '') throw new HelmFail(str(msg))
      return v
    },
    fail: (msg) => { throw new HelmFail(str(msg)) },
    quote: (...vs) => vs.filter((v) => v !== null && v !== undefined).map((v) => goQuote(str(v))).join(' '),
    squote: (...vs) => vs.filter((v) => v !== null && v !== undefined).map((v) => `'${str(v)}'`).join(' '),
    printf: (f, ...a) => printf(f, ...a),
    print: (...vs) => vs.map(str).join(''),
    toString: (v: unknown) => str(v),
    trunc: (n, s) => str(s).slice(0, Number(toInt(n))),
    trimSuffix: (suf, s) => (str(s).endsWith(str(suf)) ? str(s).slice(0, str(s).length - str(suf).length) : str(s)),
    trimPrefix: (pre, s) => (str(s).startsWith(str(pre)) ? str(s).slice(str(pre).length) : str(s)),
    trim: (s) => str(s).trim(),
    replace: (a, b, s) => str(s).split(str(a)).join(str(b)),
    lower: (s) => str(s).toLowerCase(),
    upper: (s) => str(s).toUpperCase(),
    contains: (sub, s) => str(s).includes(str(sub)),
    hasPrefix: (pre, s) => str(s).startsWith(str(pre)),
    hasSuffix: (suf, s) => str(s).endsWith(str(suf)),
    regexMatch: (re, s) => new RegExp(str(re)).test(str(s)),
    indent: (n, s) => indent(n, s),
    nindent: (n, s) => `\n${indent(n, s)}`,
    toYaml: (v) => toYaml(v),
    toJson: (v) => JSON.stringify(plain(v)),
    b64enc: (s) => Buffer.from(str(s)).toString('base64'),
    sha256sum: (s) => createHash('sha256').update(str(s)).digest('hex'),
    dict: (...kv) => {
      const out: Record<string, unknown> = {}
      for (let i = 0; i < kv.length; i += 2) out[str(kv[i])] = kv[i + 1] ?? ''
      return out
    },
    list: (...vs) => vs,
    append: (l, v) => [...(Array.isArray(l) ? l : []), v],
    set: (m, k, v) => { if (isMap(m)) m[str(k)] = v; return m },
    hasKey: (m, k) => isMap(m) && Object.hasOwn(m, str(k)),
    get: (m, k) => (isMap(m) && Object.hasOwn(m, str(k)) ? m[str(k)] : ''),
    keys: (...ms) => ms.flatMap((m) => (isMap(m) ? Object.keys(m) : [])),
    sortAlpha: (l) => (Array.isArray(l) ? l.map(str).sort() : []),
    join: (sep, l) => (Array.isArray(l) ? l.map(str).join(str(sep)) : str(l)),
    has: (needle, l) => Array.isArray(l) && l.some((x) => x === needle),
    kindIs: (kind, v) => {
      const k = goKind(v)
      return str(kind) === (k === 'int' ? 'int64' : k)
    },
    int: (v) => toInt(v),
    int64: (v) => toInt(v),
    float64: (v) => Number(toInt(v)),
    add: (...vs) => vs.reduce<bigint>((a, b) => a + toInt(b), 0n),
    sub: (a, b) => toInt(a) - toInt(b),
    mul: (...vs) => vs.reduce<bigint>((a, b) => a * toInt(b), 1n),
    div: (a, b) => toInt(a) / toInt(b),
    mod: (a, b) => toInt(a) % toInt(b),
    max: (...vs) => vs.map(toInt).reduce((a, b) => (b > a ? b : a)),
    min: (...vs) => vs.map(toInt).reduce((a, b) => (b < a ? b : a)),
    len: (v) => BigInt(typeof v === 'string' || Array.isArray(v) ? v.length : isMap(v) ? Object.keys(v).length : 0),
    eq: (a, ...b) => goEq(a, ...b),
    ne: (a, b) => !goEq(a, b),
    lt: (a, b) => goCompare(a, b, 'lt').less,
    gt: (a, b) => { const c = goCompare(a, b, 'gt'); return !c.less && !c.equal },
    le: (a, b) => { const c = goCompare(a, b, 'le'); return c.less || c.equal },
    ge: (a, b) => !goCompare(a, b, 'ge').less,
    not: (v) => !truthy(v),
    // `helm template` and `helm lint` have no cluster, so lookup returns an empty map there too.
    lookup: () => ({}),
  }
}
