// A small interpreter for the subset of Go's text/template that the Helm chart uses, so the chart can be rendered
// in tests without a helm binary. It follows Go's rules where a chart bug would otherwise slip through: field access
// on nil fails, comparing a YAML number (float64) with an integer literal fails, `and`/`or` short-circuit, `{{-`/`-}}`
// trim whitespace. Not supported (a template using them fails to parse): `(pipe).Field`, `block`, `break`/`continue`,
// `else with`, range over integers, method calls other than functions stored in the data.
//
// Value model: JS number = Go float64 (what Helm's values are), bigint = Go int (template literals, `int`, arithmetic),
// null/undefined = nil, arrays = slices, plain objects = map[string]interface{}.

export type Fn = (...args: unknown[]) => unknown
export type FuncMap = Record<string, Fn>

export class TemplateError extends Error {}

type Operand =
  | { k: 'lit'; v: unknown }
  | { k: 'dot' }
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'ident'; name: string }
  | { k: 'sub'; pipe: Pipe }
type Cmd = Operand[]
type Pipe = { decl?: { names: string[]; op: ':=' | '=' }; cmds: Cmd[] }
type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipe; pos: string }
  | { t: 'if'; branches: { pipe: Pipe; body: Node[] }[]; elseBody: Node[] }
  | { t: 'range'; pipe: Pipe; body: Node[]; elseBody: Node[] }
  | { t: 'with'; pipe: Pipe; body: Node[]; elseBody: Node[] }
  | { t: 'template'; name: string; pipe: Pipe | undefined }

type Tok =
  | { t: '(' | ')' | '|' | ':=' | '=' | ',' }
  | { t: 'lit'; v: unknown }
  | { t: 'dot' }
  | { t: 'field'; path: string[] }
  | { t: 'var'; name: string; path: string[] }
  | { t: 'ident'; name: string }

function lexAction(src: string, where: string): Tok[] {
  const toks: Tok[] = []
  let i = 0
  const ident = /[A-Za-z_][A-Za-z0-9_]*/y
  const fieldChain = (): string[] => {
    const path: string[] = []
    while (src[i] === '.') {
      ident.lastIndex = i + 1
      const m = ident.exec(src)
      if (!m) break
      path.push(m[0])
      i = ident.lastIndex
    }
    return path
  }
  while (i < src.length) {
    const c = src[i] as string
    if (/\s/.test(c)) { i++; continue }
    if ('()|,'.includes(c)) { toks.push({ t: c as '(' | ')' | '|' | ',' }); i++; continue }
    if (src.startsWith(':=', i)) { toks.push({ t: ':=' }); i += 2; continue }
    if (c === '=') { toks.push({ t: '=' }); i++; continue }
    if (c === '"') {
      let j = i + 1
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1
      toks.push({ t: 'lit', v: JSON.parse(src.slice(i, j + 1)) as string })
      i = j + 1
      continue
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1)
      if (j < 0) throw new TemplateError(`${where}: unterminated raw string`)
      toks.push({ t: 'lit', v: src.slice(i + 1, j) })
      i = j + 1
      continue
    }
    const num = /-?\d+(\.\d+)?([eE][-+]?\d+)?/y
    num.lastIndex = i
    const n = num.exec(src)
    if (n) {
      toks.push({ t: 'lit', v: n[1] || n[2] ? Number(n[0]) : BigInt(n[0]) })
      i = num.lastIndex
      continue
    }
    if (c === '$') {
      ident.lastIndex = i + 1
      const m = ident.exec(src)
      i = m ? ident.lastIndex : i + 1
      toks.push({ t: 'var', name: m ? m[0] : '', path: fieldChain() })
      continue
    }
    if (c === '.') {
      if (src[i - 1] === ')') throw new TemplateError(`${where}: (pipe).Field is not supported`)
      const path = fieldChain()
      if (path.length === 0) { toks.push({ t: 'dot' }); i++ } else toks.push({ t: 'field', path })
      continue
    }
    ident.lastIndex = i
    const m = ident.exec(src)
    if (!m) throw new TemplateError(`${where}: unexpected character ${JSON.stringify(c)} in action`)
    i = ident.lastIndex
    if (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) throw new TemplateError(`${where}: (pipe).Field is not supported`)
    if (m[0] === 'true' || m[0] === 'false') toks.push({ t: 'lit', v: m[0] === 'true' })
    else if (m[0] === 'nil') toks.push({ t: 'lit', v: null })
    else toks.push({ t: 'ident', name: m[0] })
  }
  return toks
}

function parsePipe(toks: Tok[], where: string): Pipe {
  let i = 0
  const pipe: Pipe = { cmds: [] }
  // Declarations: `$a := ...`, `$a, $b := ...` (range), `$a = ...`.
  const names: string[] = []
  let j = 0
  while (toks[j]?.t === 'var') {
    const v = toks[j] as { t: 'var'; name: string; path: string[] }
    if (v.path.length) break
    names.push(v.name)
    j++
    if (toks[j]?.t === ',') j++
    else break
  }
  const op = toks[j]?.t
  if (names.length && (op === ':=' || op === '=')) {
    pipe.decl = { names, op }
    i = j + 1
  }
  const parseOperands = (stopAtParen: boolean): Pipe => {
    const p: Pipe = { cmds: [] }
    let cmd: Cmd = []
    while (i < toks.length) {
      const tok = toks[i] as Tok
      if (tok.t === ')') {
        if (!stopAtParen) throw new TemplateError(`${where}: unexpected )`)
        break
      }
      i++
      if (tok.t === '|') { if (!cmd.length) throw new TemplateError(`${where}: empty command`); p.cmds.push(cmd); cmd = []; continue }
      if (tok.t === '(') {
        const sub = parseOperands(true)
        if (toks[i]?.t !== ')') throw new TemplateError(`${where}: unclosed (`)
        i++
        cmd.push({ k: 'sub', pipe: sub })
        continue
      }
      if (tok.t === 'lit') cmd.push({ k: 'lit', v: tok.v })
      else if (tok.t === 'dot') cmd.push({ k: 'dot' })
      else if (tok.t === 'field') cmd.push({ k: 'field', path: tok.path })
      else if (tok.t === 'var') cmd.push({ k: 'var', name: tok.name, path: tok.path })
      else if (tok.t === 'ident') cmd.push({ k: 'ident', name: tok.name })
      else throw new TemplateError(`${where}: unexpected ${tok.t}`)
    }
    if (cmd.length) p.cmds.push(cmd)
    if (!p.cmds.length) throw new TemplateError(`${where}: missing value`)
    return p
  }
  pipe.cmds = parseOperands(false).cmds
  return pipe
}

type Raw = { kind: 'text'; text: string } | { kind: 'action'; body: string; pos: string }

function lexTemplate(src: string, name: string): Raw[] {
  const out: Raw[] = []
  let i = 0
  let trimNext = false
  while (i < src.length) {
    const open = src.indexOf('{{', i)
    let text = open < 0 ? src.slice(i) : src.slice(i, open)
    if (trimNext) text = text.replace(/^\s+/, '')
    trimNext = false
    if (open < 0) { out.push({ kind: 'text', text }); break }
    const line = src.slice(0, open).split('\n').length
    const pos = `${name}:${line}`
    let j = open + 2
    const trimLeft = src.startsWith('- ', j) || src.startsWith('-\n', j)
    if (trimLeft) { text = text.replace(/\s+$/, ''); j += 1 }
    out.push({ kind: 'text', text })
    // Find the closing braces, skipping quoted strings and comments.
    let k = j
    let body = ''
    if (src.slice(j).trimStart().startsWith('/*')) {
      const end = src.indexOf('*/', j)
      if (end < 0) throw new TemplateError(`${pos}: unclosed comment`)
      k = end + 2
      body = ''
    } else {
      while (k < src.length && !src.startsWith('}}', k) && !src.startsWith(' -}}', k)) {
        const c = src[k]
        if (c === '"') { k++; while (k < src.length && src[k] !== '"') k += src[k] === '\\' ? 2 : 1 }
        else if (c === '`') k = src.indexOf('`', k + 1)
        if (k < 0) throw new TemplateError(`${pos}: unterminated string`)
        k++
      }
      body = src.slice(j, k)
    }
    if (src.startsWith(' -}}', k)) { trimNext = true; k += 4 }
    else if (src.startsWith('}}', k)) k += 2
    else throw new TemplateError(`${pos}: unclosed action`)
    if (body.trim()) out.push({ kind: 'action', body: body.trim(), pos })
    i = k
  }
  return out.filter((r) => r.kind === 'action' || r.text !== '')
}

export type TemplateSet = Map<string, Node[]>

/** Parses one file into the set: its top-level content under `name`, and each `define` under its own name. */
export function parseInto(set: TemplateSet, name: string, src: string): void {
  const raws = lexTemplate(src, name)
  let i = 0
  // Returns the nodes up to an `end`/`else` keyword, which it leaves for the caller.
  const parseList = (stopWords: string[]): { nodes: Node[]; stop: string; rest: string; pos: string } => {
    const nodes: Node[] = []
    while (i < raws.length) {
      const r = raws[i++] as Raw
      if (r.kind === 'text') { nodes.push({ t: 'text', text: r.text }); continue }
      const m = /^(\w+)\b\s*([\s\S]*)$/.exec(r.body)
      const word = m?.[1] ?? ''
      const rest = m?.[2] ?? ''
      if (stopWords.includes(word)) return { nodes, stop: word, rest, pos: r.pos }
      const where = r.pos
      if (word === 'if' || word === 'with' || word === 'range') {
        const pipe = parsePipe(lexAction(rest, where), where)
        const branches: { pipe: Pipe; body: Node[] }[] = []
        let cur = parseList(['else', 'end'])
        branches.push({ pipe, body: cur.nodes })
        let elseBody: Node[] = []
        while (cur.stop === 'else') {
          const elseIf = /^if\b\s*([\s\S]*)$/.exec(cur.rest)
          if (elseIf && word === 'if') {
            const p = parsePipe(lexAction(elseIf[1] ?? '', cur.pos), cur.pos)
            cur = parseList(['else', 'end'])
            branches.push({ pipe: p, body: cur.nodes })
          } else if (cur.rest.trim()) {
            throw new TemplateError(`${cur.pos}: unsupported else form: else ${cur.rest}`)
          } else {
            cur = parseList(['end'])
            elseBody = cur.nodes
          }
        }
        if (cur.stop !== 'end') throw new TemplateError(`${where}: missing end for ${word}`)
        const first = branches[0] as { pipe: Pipe; body: Node[] }
        if (word === 'if') nodes.push({ t: 'if', branches, elseBody })
        else if (word === 'with') {
          if (branches.length > 1) throw new TemplateError(`${where}: else if inside with`)
          nodes.push({ t: 'with', pipe: first.pipe, body: first.body, elseBody })
        } else nodes.push({ t: 'range', pipe: first.pipe, body: first.body, elseBody })
        continue
      }
      if (word === 'define') {
        const nm = /^"([^"]+)"$/.exec(rest.trim())
        if (!nm) throw new TemplateError(`${where}: bad define`)
        const inner = parseList(['end'])
        if (inner.stop !== 'end') throw new TemplateError(`${where}: missing end for define`)
        set.set(nm[1] as string, inner.nodes)
        continue
      }
      if (word === 'template') {
        const nm = /^"([^"]+)"\s*([\s\S]*)$/.exec(rest)
        if (!nm) throw new TemplateError(`${where}: bad template call`)
        const arg = (nm[2] ?? '').trim()
        nodes.push({ t: 'template', name: nm[1] as string, pipe: arg ? parsePipe(lexAction(arg, where), where) : undefined })
        continue
      }
      if (['end', 'else', 'block', 'break', 'continue'].includes(word)) throw new TemplateError(`${where}: unexpected or unsupported ${word}`)
      nodes.push({ t: 'action', pipe: parsePipe(lexAction(r.body, where), where), pos: where })
    }
    return { nodes, stop: '', rest: '', pos: '' }
  }
  const top = parseList([])
  set.set(name, top.nodes)
}

// ---- values and Go semantics ----

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '' || v === 0 || v === 0n) return false
  if (Array.isArray(v)) return v.length > 0
  if (isMap(v)) return Object.keys(v).length > 0
  return true
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64), which is what `{{ .Values.n }}` prints for a YAML number. */
export function goFloat(f: number): string {
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : f < 0 ? '-Inf' : 'NaN'
  if (f === 0) return '0'
  const [mant, e] = f.toExponential().split('e') as [string, string]
  const exp = Number(e)
  // Shortest %g switches to exponent form below 1e-4 and from 1e6 up (precision 6 decides, as in strconv).
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  return String(f)
}

/** Go's fmt %v for the value kinds templates meet. */
export function goPrint(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return goFloat(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goPrint(v[k])}`).join(' ')}]`
  return String(v)
}

export function goKind(v: unknown): string {
  if (v === null || v === undefined) return 'invalid'
  if (typeof v === 'string') return 'string'
  if (typeof v === 'bigint') return 'int'
  if (typeof v === 'number') return 'float64'
  if (typeof v === 'boolean') return 'bool'
  if (Array.isArray(v)) return 'slice'
  if (isMap(v)) return 'map'
  return 'func'
}

function basic(v: unknown, fn: string): string {
  const k = goKind(v)
  if (!['string', 'int', 'float64', 'bool', 'invalid'].includes(k)) throw new TemplateError(`error calling ${fn}: invalid type for comparison`)
  return k
}

export function goEq(a: unknown, ...bs: unknown[]): boolean {
  const ka = basic(a, 'eq')
  for (const b of bs) {
    const kb = basic(b, 'eq')
    if (ka === 'invalid' || kb === 'invalid') { if (ka === kb) return true; continue }
    if (ka !== kb) throw new TemplateError(`error calling eq: incompatible types for comparison (${ka} and ${kb})`)
    if (a === b) return true
  }
  return false
}

/** Go's lt/le/gt/ge: both operands of one basic kind, else an error. Returns a < b, a == b. */
export function goCompare(a: unknown, b: unknown, fn: string): { less: boolean; equal: boolean } {
  const ka = basic(a, fn)
  const kb = basic(b, fn)
  if (ka !== kb || ka === 'bool' || ka === 'invalid') throw new TemplateError(`error calling ${fn}: incompatible types for comparison (${ka} and ${kb})`)
  const x = a as string | number | bigint
  const y = b as string | number | bigint
  return { less: x < y, equal: x === y }
}

// ---- execution ----

type Scope = Map<string, unknown>[]

export type Exec = {
  set: TemplateSet
  funcs: FuncMap
  /** Renders a named template with `data` as dot and `$`. */
  run(name: string, data: unknown): string
}

export function makeExec(set: TemplateSet, funcs: FuncMap): Exec {
  const exec: Exec = { set, funcs, run: (name, data) => runNodes(lookup(name), data, [new Map([['', data]])]) }
  function lookup(name: string): Node[] {
    const t = set.get(name)
    if (!t) throw new TemplateError(`no template "${name}" associated with template set`)
    return t
  }
  function getVar(scope: Scope, name: string): unknown {
    for (let i = scope.length - 1; i >= 0; i--) {
      const s = scope[i] as Map<string, unknown>
      if (s.has(name)) return s.get(name)
    }
    throw new TemplateError(`undefined variable: $${name}`)
  }
  function setVar(scope: Scope, name: string, v: unknown): void {
    for (let i = scope.length - 1; i >= 0; i--) {
      const s = scope[i] as Map<string, unknown>
      if (s.has(name)) { s.set(name, v); return }
    }
    throw new TemplateError(`undefined variable: $${name}`)
  }
  function walk(base: unknown, path: string[], label: string): unknown {
    let cur = base
    let at = label
    for (const p of path) {
      if (cur === null || cur === undefined) throw new TemplateError(`nil pointer evaluating interface {}.${p} (at ${at})`)
      if (!isMap(cur)) throw new TemplateError(`can't evaluate field ${p} in type ${goKind(cur)} (at ${at})`)
      cur = cur[p]
      at = `${at}.${p}`
    }
    return cur
  }
  function evalOperand(op: Operand, dot: unknown, scope: Scope): unknown {
    switch (op.k) {
      case 'lit': return op.v
      case 'dot': return dot
      case 'field': return walk(dot, op.path, '')
      case 'var': return walk(getVar(scope, op.name), op.path, `$${op.name}`)
      case 'sub': return evalPipe(op.pipe, dot, scope)
      case 'ident': return callFn(op.name, [], dot, scope, undefined)
    }
  }
  function callFn(name: string, args: Operand[], dot: unknown, scope: Scope, piped: { v: unknown } | undefined): unknown {
    // and/or evaluate lazily and return the deciding operand, as Go 1.18+ does.
    if (name === 'and' || name === 'or') {
      const thunks = args.map((a) => () => evalOperand(a, dot, scope))
      if (piped) thunks.push(() => piped.v)
      let last: unknown
      for (const t of thunks) {
        last = t()
        if (name === 'and' ? !truthy(last) : truthy(last)) return last
      }
      return last
    }
    const fn = funcs[name]
    if (!fn) throw new TemplateError(`function "${name}" not defined`)
    const vals = args.map((a) => evalOperand(a, dot, scope))
    if (piped) vals.push(piped.v)
    return fn(...vals)
  }
  function evalCmd(cmd: Cmd, dot: unknown, scope: Scope, piped: { v: unknown } | undefined): unknown {
    const head = cmd[0] as Operand
    if (head.k === 'ident') return callFn(head.name, cmd.slice(1), dot, scope, piped)
    const v = evalOperand(head, dot, scope)
    if (typeof v === 'function') {
      const args = cmd.slice(1).map((a) => evalOperand(a, dot, scope))
      if (piped) args.push(piped.v)
      return (v as Fn)(...args)
    }
    if (cmd.length > 1 || piped) throw new TemplateError(`can't give argument to non-function`)
    return v
  }
  function evalPipe(pipe: Pipe, dot: unknown, scope: Scope): unknown {
    let piped: { v: unknown } | undefined
    for (const cmd of pipe.cmds) piped = { v: evalCmd(cmd, dot, scope, piped) }
    const v = piped?.v
    if (pipe.decl) {
      const nm = pipe.decl.names[0] as string
      if (pipe.decl.op === ':=') (scope[scope.length - 1] as Map<string, unknown>).set(nm, v)
      else setVar(scope, nm, v)
    }
    return v
  }
  function runNodes(nodes: Node[], dot: unknown, scope: Scope): string {
    let out = ''
    for (const n of nodes) {
      switch (n.t) {
        case 'text': out += n.text; break
        case 'action': {
          const v = evalPipe(n.pipe, dot, scope)
          if (!n.pipe.decl) out += goPrint(v)
          break
        }
        case 'if': {
          let done = false
          for (const b of n.branches) {
            const inner = [...scope, new Map<string, unknown>()]
            if (truthy(evalPipe(b.pipe, dot, inner))) { out += runNodes(b.body, dot, inner); done = true; break }
          }
          if (!done) out += runNodes(n.elseBody, dot, [...scope, new Map()])
          break
        }
        case 'with': {
          const inner = [...scope, new Map<string, unknown>()]
          const v = evalPipe(n.pipe, dot, inner)
          out += truthy(v) ? runNodes(n.body, v, inner) : runNodes(n.elseBody, dot, [...scope, new Map()])
          break
        }
        case 'range': {
          const names = n.pipe.decl?.names ?? []
          const pipe: Pipe = { cmds: n.pipe.cmds }
          const coll = evalPipe(pipe, dot, scope)
          const entries: [unknown, unknown][] = Array.isArray(coll)
            ? coll.map((v, i) => [BigInt(i), v])
            : isMap(coll)
              ? Object.keys(coll).sort().map((k) => [k, coll[k]])
              : coll === null || coll === undefined
                ? []
                : (() => { throw new TemplateError(`range can't iterate over ${goPrint(coll)}`) })()
          if (!entries.length) { out += runNodes(n.elseBody, dot, [...scope, new Map()]); break }
          for (const [k, v] of entries) {
            const iter = new Map<string, unknown>()
            if (names.length === 1) iter.set(names[0] as string, v)
            if (names.length === 2) { iter.set(names[0] as string, k); iter.set(names[1] as string, v) }
            out += runNodes(n.body, v, [...scope, iter])
          }
          break
        }
        case 'template': {
          const data = n.pipe ? evalPipe(n.pipe, dot, scope) : null
          out += exec.run(n.name, data)
          break
        }
      }
    }
    return out
  }
  return exec
}
