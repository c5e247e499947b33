/**
 * The canonical form of a request: what makes two requests "the same question". Keys are sorted at
 * every level and whitespace is gone, so client key order and formatting do not matter. Fields that
 * never change the answer are left out (see OMITTED); everything else stays, including `stream` and
 * `stream_options`, because a streamed request is replayed as a stream of that exact shape.
 */
import { createHash } from 'node:crypto'
import type { CallInfo } from '../core/call.ts'
import type { Json, JsonObject } from '../core/json.ts'

/**
 * Top-level fields that identify or annotate the caller but never change the model's answer:
 * OpenAI's end-user id and safety id, stored-completion flags and metadata, its prompt-cache
 * routing hint, and Anthropic's metadata.user_id.
 */
const OMITTED = new Set(['user', 'safety_identifier', 'metadata', 'store', 'prompt_cache_key'])

/**
 * A copy of `v` whose objects hold their keys in sorted order, so that one native JSON.stringify
 * writes the canonical text (building the text in JavaScript, piece by piece, cost ~3x as much on a
 * 65 KB agent body). A `__proto__` member is defined as an ordinary member, never a prototype.
 * V8 writes integer-like keys first in numeric order whatever the insertion order; the text is
 * still the same for the same members, which is all a cache key needs.
 */
function sortedCopy(v: Json): Json {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) {
    const out: Json[] = new Array<Json>(v.length)
    for (let i = 0; i < v.length; i++) out[i] = sortedCopy(v[i]!)
    return out
  }
  const out: JsonObject = {}
  for (const k of Object.keys(v).sort()) {
    const item = v[k]
    if (item !== undefined) put(out, k, sortedCopy(item))
  }
  return out
}

/** Plain objects built in one key order share V8's fast shapes; only `__proto__` needs defining. */
function put(o: JsonObject, k: string, v: Json): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  else o[k] = v
}

/**
 * sha256 (hex) of the ingress, the operation and the canonical body: the same request on
 * /v1/messages and /v1/chat/completions hashes differently because the answers have different shapes.
 * The `anthropic-beta` header is part of the question too, on every ingress: a beta changes what
 * the model may do and send (extended output, interleaved thinking, context management), and the
 * Anthropic adapter forwards the client's betas on every operation, translated chat included
 * (providers/anthropic/build-request.ts). Whether the model's targets are Anthropic ones is not
 * known here; a beta sent to an OpenAI model only splits its entries, it never shares a wrong one.
 */
export function requestHash(call: CallInfo): string {
  const top: JsonObject = {}
  for (const k of Object.keys(call.body).sort()) {
    const item = call.body[k]
    if (item !== undefined && !OMITTED.has(k)) put(top, k, sortedCopy(item))
  }
  const hash = createHash('sha256').update(call.ingress).update('\n').update(call.operation).update('\n').update(JSON.stringify(top))
  // Only when the header is there: requests without it (nearly all of them) pay nothing more.
  const beta = call.headers['anthropic-beta']
  const betas = beta === undefined ? '' : betaSet(beta)
  // An empty header sends no beta upstream either, so it is the same question as none.
  if (betas !== '') hash.update('\nanthropic-beta:').update(betas)
  return hash.digest('hex')
}

/** The betas as a sorted set: their order and spacing in the header do not matter. */
function betaSet(v: string | string[]): string {
  return [...new Set((Array.isArray(v) ? v.join(',') : v).split(',').map((b) => b.trim()).filter(Boolean))].sort().join(',')
}

/** sha256 (hex) of parts joined by newlines: for storage keys that must not show tenant names. */
export function hashOf(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex')
}
