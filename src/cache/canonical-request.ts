/**
 * The canonical form of a request: what makes two requests "the same question". Keys are sorted at
 * every level and whitespace is gone, so client key order and formatting do not matter. Fields that
 * never change the answer are left out (see OMITTED); everything else stays, including `stream` and
 * `stream_options`, because a streamed request is replayed as a stream of that exact shape.
 */
import { createHash } from 'node:crypto'
import type { CallInfo } from '../core/call.ts'
import type { Json } from '../core/json.ts'

/**
 * Top-level fields that identify or annotate the caller but never change the model's answer:
 * OpenAI's end-user id and safety id, stored-completion flags and metadata, its prompt-cache
 * routing hint, and Anthropic's metadata.user_id.
 */
const OMITTED = new Set(['user', 'safety_identifier', 'metadata', 'store', 'prompt_cache_key'])

function canonical(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v)
  if (Array.isArray(v)) {
    let out = '['
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + canonical(v[i]!)
    return out + ']'
  }
  const keys = Object.keys(v).sort()
  let out = '{'
  let first = true
  for (const k of keys) {
    const item = v[k]
    if (item === undefined) continue
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonical(item)
    first = false
  }
  return out + '}'
}

/**
 * sha256 (hex) of the ingress, the operation and the canonical body: the same request on
 * /v1/messages and /v1/chat/completions hashes differently because the answers have different shapes.
 */
export function requestHash(call: CallInfo): string {
  const keys = Object.keys(call.body).sort()
  let out = '{'
  let first = true
  for (const k of keys) {
    const item = call.body[k]
    if (item === undefined || OMITTED.has(k)) continue
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonical(item)
    first = false
  }
  out += '}'
  return createHash('sha256').update(call.ingress).update('\n').update(call.operation).update('\n').update(out).digest('hex')
}

/** sha256 (hex) of parts joined by newlines: for storage keys that must not show tenant names. */
export function hashOf(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex')
}
