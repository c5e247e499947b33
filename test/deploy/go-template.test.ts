// The chart tests are only as good as this renderer, so its Go/Sprig behaviours are pinned here.
import { describe, expect, it } from 'vitest'
import { makeExec, parseInto } from './go-template.ts'
import type { TemplateSet } from './go-template.ts'
import { sprigFuncs, toYaml } from './sprig.ts'

function render(src: string, data: unknown, defs = ''): string {
  const set: TemplateSet = new Map()
  parseInto(set, 'defs', defs)
  parseInto(set, 't', src)
  const funcs = sprigFuncs()
  const exec = makeExec(set, funcs)
  funcs.include = (name, d) => exec.run(String(name), d)
  return exec.run('t', data)
}

describe('go-template subset', () => {
  it('trims whitespace on the marked side only', () => {
    expect(render('a  {{- "b" }}  c', {})).toBe('ab  c')
    expect(render('a  {{ "b" -}}  \n c', {})).toBe('a  bc')
    expect(render('x\n{{- /* gone */}}\ny', {})).toBe('x\ny')
  })

  it('follows Go truthiness in if / else if / else, with and range', () => {
    const t = '{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}'
    expect(render(t, { a: 0, b: [] })).toBe('C')
    expect(render(t, { a: {}, b: 'x' })).toBe('B')
    expect(render('{{ with .m }}{{ .k }}{{ else }}none{{ end }}', { m: { k: 'v' } })).toBe('v')
    expect(render('{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } })).toBe('a=1;b=2;')
    expect(render('{{ range .l }}[{{ . }}]{{ else }}empty{{ end }}', { l: [] })).toBe('empty')
  })

  it('fails on a field of nil, like Go does', () => {
    expect(() => render('{{ .a.b.c }}', { a: {} })).toThrow('nil pointer evaluating interface {}.c')
    expect(render('{{ .a.b }}', { a: {} })).toBe('')
  })

  it('refuses to compare a YAML number (float64) with an int literal, and accepts int casts', () => {
    expect(() => render('{{ gt .n 1 }}', { n: 2 })).toThrow('incompatible types for comparison (float64 and int)')
    expect(render('{{ gt (int .n) 1 }}', { n: 2 })).toBe('true')
    expect(() => render('{{ eq .n 2 }}', { n: 2 })).toThrow('incompatible types')
  })

  it('prints float64 as Go does (large numbers in e-notation), ints plainly', () => {
    expect(render('{{ .a }} {{ .b }} {{ int .b }} {{ .c }}', { a: 8080, b: 1000000, c: 0.5 })).toBe('8080 1e+06 1000000 0.5')
  })

  it('short-circuits and/or and returns the deciding operand', () => {
    expect(render('{{ and .x .x.y }}', { x: null })).toBe('')
    expect(render('{{ or .a "d" }}', { a: '' })).toBe('d')
  })

  it('scopes variables to their block and lets = assign an outer one', () => {
    expect(render('{{ $x := 1 }}{{ range .l }}{{ $x = . }}{{ end }}{{ $x }}', { l: ['p', 'q'] })).toBe('q')
    expect(() => render('{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}', {})).toThrow('undefined variable: $y')
  })

  it('runs defines through include with pipes, and calls functions found in the data', () => {
    const defs = '{{- define "greet" -}}hi {{ . }}{{- end }}'
    expect(render('{{ include "greet" .n | upper | quote }}', { n: 'bo' }, defs)).toBe('"HI BO"')
    expect(render('{{ .Caps.Has "x/v1" }}', { Caps: { Has: (v: unknown) => v === 'x/v1' } })).toBe('true')
  })

  it('fails on functions it does not implement, so the chart stays inside the tested subset', () => {
    expect(() => render('{{ semverCompare ">=1" "1.2" }}', {})).toThrow('function "semverCompare" not defined')
    expect(() => render('{{ (dict "a" 1).a }}', {})).toThrow('(pipe).Field is not supported')
  })

  it('implements the Sprig and Helm functions the chart relies on', () => {
    expect(render('{{ default "d" .a }}|{{ default "d" "x" }}', { a: 0 })).toBe('d|x')
    expect(() => render('{{ required "need a" .a }}', {})).toThrow('need a')
    expect(() => render('{{ fail "stop" }}', {})).toThrow('stop')
    expect(render('{{ "abcdef" | trunc 3 }}-{{ "a-" | trimSuffix "-" }}-{{ printf "%s:%d" "p" 5 }}', {})).toBe('abc-a-p:5')
    expect(render('{{ div (add 30001 999) 1000 }} {{ mul 5 1000 }}', {})).toBe('31 5000')
    expect(render('{{ "x" | sha256sum }}', {})).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881')
    expect(render('{{ "a: 1" | nindent 2 }}', {})).toBe('\n  a: 1')
    expect(render('{{ ternary "y" "n" false }} {{ get .m "k" }} {{ hasKey .m "k" }}', { m: { k: 'v' } })).toBe('n v true')
  })

  it('toYaml sorts keys, drops the trailing newline and writes ints as numbers', () => {
    expect(toYaml({ b: 1n, a: { d: [1, 'x'], c: null } })).toBe('a:\n  c: null\n  d:\n    - 1\n    - x\nb: 1')
    expect(toYaml({})).toBe('{}')
  })
})
