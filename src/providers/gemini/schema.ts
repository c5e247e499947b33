/**
 * Gemini's function declarations and responseSchema take an OpenAPI 3.0 Schema subset, not JSON
 * Schema: unknown keywords (`$schema`, `additionalProperties`, `strict`, `$ref`...) are rejected
 * with 400 INVALID_ARGUMENT. This keeps the keywords Gemini documents, inlines local `$ref`s,
 * and rewrites the JSON Schema idioms that have an OpenAPI equivalent.
 */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import { nameMap } from '../../core/name-map.ts'

/** Keywords of Gemini's Schema object (ai.google.dev/api/caching#Schema). */
const KEPT = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering',
  'default', 'items', 'minimum', 'maximum',
])

/** Gemini rejects other `format` values ("only 'enum' and 'date-time' are supported for STRING type"). */
const FORMATS: Record<string, ReadonlySet<string>> = nameMap({
  string: new Set(['enum', 'date-time']),
  integer: new Set(['int32', 'int64']),
  number: new Set(['float', 'double']),
})

const MAX_REF_DEPTH = 8

export function sanitizeGeminiSchema(schema: JsonObject): JsonObject {
  const defs = { ...asObject(schema['definitions']), ...asObject(schema['$defs']) }
  return clean(schema, defs, 0)
}

function asObject(v: Json | undefined): JsonObject {
  return isObject(v) ? v : {}
}

function resolveRef(node: JsonObject, defs: JsonObject, depth: number): JsonObject {
  const ref = node['$ref']
  if (typeof ref !== 'string' || depth > MAX_REF_DEPTH) return node
  const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)?.[1]
  const target = name === undefined ? undefined : defs[decodeURIComponent(name)]
  if (!isObject(target)) return node
  // Sibling keywords (e.g. a description next to $ref) win over the definition's.
  const { $ref: _ref, ...siblings } = node
  return { ...target, ...siblings }
}

/**
 * Gemini has no `allOf`; Pydantic v1 and some zod output wrap a nested object's `$ref` in a
 * one-item `allOf` (to put a description beside it), and dropping the keyword lost the object's
 * whole structure. Its items are merged into the node instead (properties joined, `required`
 * united, the node's own keywords winning), which is exact for the usual one-item case.
 */
function mergeAllOf(node: JsonObject, defs: JsonObject, depth: number): JsonObject {
  const list = node['allOf']
  if (!Array.isArray(list) || depth > MAX_REF_DEPTH) return node
  const { allOf: _allOf, ...own } = node
  let merged: JsonObject = {}
  for (const item of list) if (isObject(item)) merged = mergeSchemas(merged, mergeAllOf(resolveRef(item, defs, depth), defs, depth + 1))
  return mergeSchemas(merged, own)
}

function mergeSchemas(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a, ...b }
  if (isObject(a['properties']) && isObject(b['properties'])) out['properties'] = { ...a['properties'], ...b['properties'] }
  if (Array.isArray(a['required']) && Array.isArray(b['required'])) out['required'] = [...new Set([...a['required'], ...b['required']])]
  return out
}

function clean(input: JsonObject, defs: JsonObject, depth: number): JsonObject {
  const node = mergeAllOf(resolveRef(input, defs, depth), defs, depth)
  const next = node === input ? depth : depth + 1
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' && Array.isArray(value)) {
      // JSON Schema's ["string","null"] is OpenAPI's type + nullable.
      const types = value.filter((t): t is string => typeof t === 'string' && t !== 'null')
      if (types.length !== value.length) out['nullable'] = true
      if (types.length === 1 && types[0] !== undefined) out['type'] = types[0]
      else if (types.length > 1) out['anyOf'] = types.map((t) => ({ type: t }))
      continue
    }
    if (key === 'const') {
      if (typeof value === 'string') out['enum'] = [value]
      continue
    }
    if (key === 'oneOf' && Array.isArray(value)) {
      out['anyOf'] = cleanList(value, defs, next)
      continue
    }
    if (!KEPT.has(key)) continue
    if (key === 'properties' && isObject(value)) {
      const props: JsonObject = {}
      for (const [name, sub] of Object.entries(value)) if (isObject(sub)) props[name] = clean(sub, defs, next)
      out[key] = props
    } else if (key === 'items' && isObject(value)) {
      out[key] = clean(value, defs, next)
    } else if (key === 'anyOf' && Array.isArray(value)) {
      out[key] = cleanList(value, defs, next)
    } else if (key === 'enum' && Array.isArray(value)) {
      // Gemini enums are strings only; a numeric enum would be rejected.
      if (value.every((v) => typeof v === 'string')) out[key] = value
    } else {
      out[key] = value
    }
  }
  const type = out['type']
  const format = out['format']
  if (typeof format === 'string' && !(typeof type === 'string' && FORMATS[type]?.has(format))) delete out['format']
  const anyOf = out['anyOf']
  if (Array.isArray(anyOf)) {
    // anyOf: [X, {type:'null'}] is how JSON Schema spells "nullable X".
    const variants = anyOf.filter((v) => !(isObject(v) && v['type'] === 'null' && Object.keys(v).length === 1))
    if (variants.length !== anyOf.length) out['nullable'] = true
    const only = variants[0]
    delete out['anyOf']
    if (variants.length === 1 && isObject(only)) return { ...only, ...out }
    out['anyOf'] = variants
  }
  return out
}

function cleanList(list: Json[], defs: JsonObject, depth: number): Json[] {
  return list.filter(isObject).map((s) => clean(s, defs, depth))
}
