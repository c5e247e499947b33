/**
 * Gemini 3 can stream a function call's arguments (`streamFunctionCallArguments`): the call opens
 * with `{name, willContinue: true}`, then parts carry `partialArgs: [{jsonPath, stringValue|numberValue|
 * boolValue|nullValue, willContinue}]`, and a `functionCall` without `willContinue` closes it.
 * Strings arrive in pieces at the same path and are concatenated.
 */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'

type Key = string | number

/** `$.a.b[0]["c d"]` -> ['a', 'b', 0, 'c d']; undefined when the path is not understood. */
export function parseJsonPath(path: string): Key[] | undefined {
  if (!path.startsWith('$')) return undefined
  const keys: Key[] = []
  const re = /\.([^.[\]]+)|\[(\d+)\]|\[['"]((?:[^'"\\]|\\.)*)['"]\]/y
  re.lastIndex = 1
  while (re.lastIndex < path.length) {
    const m = re.exec(path)
    if (!m) return undefined
    if (m[1] !== undefined) keys.push(m[1])
    else if (m[2] !== undefined) keys.push(Number(m[2]))
    else keys.push(m[3] ?? '')
  }
  return keys
}

function valueOf(arg: JsonObject): Json | undefined {
  if ('stringValue' in arg) return arg['stringValue']
  if ('numberValue' in arg) return arg['numberValue']
  if ('boolValue' in arg) return arg['boolValue']
  if ('nullValue' in arg) return null
  return undefined
}

/** Applies one partialArgs entry to `args` in place (args belongs to the translator, never to a caller). */
export function applyPartialArg(args: JsonObject, arg: Json): void {
  if (!isObject(arg) || typeof arg['jsonPath'] !== 'string') return
  const keys = parseJsonPath(arg['jsonPath'])
  const value = valueOf(arg)
  if (!keys || keys.length === 0 || value === undefined) return
  let node: JsonObject | Json[] = args
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i] as Key
    const nextIsIndex = typeof keys[i + 1] === 'number'
    const existing: Json | undefined = getAt(node, key)
    const child: JsonObject | Json[] = nextIsIndex
      ? (Array.isArray(existing) ? existing : [])
      : (isObject(existing) ? existing : {})
    if (child !== existing) setAt(node, key, child)
    node = child
  }
  const last = keys[keys.length - 1] as Key
  const prev = getAt(node, last)
  setAt(node, last, typeof value === 'string' && typeof prev === 'string' ? prev + value : value)
}

function getAt(node: JsonObject | Json[], key: Key): Json | undefined {
  if (Array.isArray(node)) return typeof key === 'number' ? node[key] : undefined
  return typeof key === 'string' ? node[key] : undefined
}

function setAt(node: JsonObject | Json[], key: Key, value: Json): void {
  if (Array.isArray(node)) {
    if (typeof key !== 'number') return
    while (node.length < key) node.push(null)
    node[key] = value
  } else if (typeof key === 'string') {
    node[key] = value
  }
}
