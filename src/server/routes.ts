/**
 * The data-plane route table. These paths are served straight on Node's request and response
 * objects (see server/listener.ts); everything else goes through the Hono app.
 */
import { GatewayError } from '../core/errors.ts'
import type { Route } from '../pipeline/handle-call.ts'

export const MODEL_ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/v1/chat/completions', { operation: 'chat', ingress: 'openai' }],
  ['/v1/completions', { operation: 'completions', ingress: 'openai' }],
  ['/v1/embeddings', { operation: 'embeddings', ingress: 'openai' }],
  ['/v1/responses', { operation: 'responses', ingress: 'openai' }],
  ['/v1/messages', { operation: 'messages', ingress: 'anthropic' }],
  ['/v1/messages/count_tokens', { operation: 'count_tokens', ingress: 'anthropic' }],
])

/** /v1 paths the Hono app answers itself; any other /v1/* is forwarded to an OpenAI-type target. */
export const isGatewayOwnedV1 = (path: string, method: string): boolean =>
  (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) ||
  // Responses the gateway stored itself (ids `resp_sb...`); OpenAI's own ids are forwarded.
  ((method === 'GET' || method === 'DELETE') && path.startsWith('/v1/responses/resp_sb'))

/**
 * Why a forwarded path is refused, or undefined. A forwarded path goes to the vendor as written,
 * with the gateway's vendor key, while the gateway decides on it as written: a path that a vendor
 * (or a proxy in front of it) would resolve to another path must not be forwarded. `/v1/../x`
 * escapes the provider's base path, `/v1/./chat/completions` reaches the chat API as an unpriced
 * passthrough, and Spring-like servers drop `;params` and Express-like ones a trailing slash.
 * Refused: `.`/`..` segments (raw or percent-encoded, any case), empty segments (`//`, a trailing
 * `/`), backslashes, encoded `/` or `\`, `;`, and a POST to a model route spelled in another case.
 */
export function forwardRefusal(path: string, method: string): GatewayError | undefined {
  const lower = method === 'POST' ? path.toLowerCase() : path
  const miscased = method === 'POST' && lower !== path && MODEL_ROUTES.has(lower)
  // One scan for the few characters that can make a path non-canonical; ordinary paths stop here.
  if (!miscased && !SUSPECT.test(path)) return undefined
  const why = miscased ? `is ${lower} spelled in another case; send it as ${lower}` : nonCanonical(path)
  if (!why) return undefined
  return new GatewayError({
    status: 400,
    code: 'invalid_request',
    message: `The path '${path.slice(0, 200)}' ${why}. Switchboard forwards /v1/* paths only as written, so it refuses any a server could read as another path: no '.' or '..' segments (also percent-encoded), empty segments (// or a trailing /), backslashes, encoded slashes (%2F, %5C) or ';'.`,
  })
}

const SUSPECT = /[.%\\;]|\/\/|\/$/

function nonCanonical(path: string): string | undefined {
  if (path.includes('\\')) return 'contains a backslash'
  if (path.includes(';')) return "contains ';'"
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'has an empty segment'
    if (!segment.includes('%')) {
      if (segment === '.' || segment === '..') return `has a '${segment}' segment`
      continue
    }
    let once: string
    try {
      once = decodeURIComponent(segment)
    } catch {
      return 'has a malformed percent-encoding'
    }
    // Decoded twice too: a proxy that decodes once must not hand the vendor a `..` to decode again.
    let twice = once
    try { twice = decodeURIComponent(once) } catch { /* a literal '%': nothing more to decode */ }
    for (const d of [once, twice]) {
      if (d === '.' || d === '..') return `has a '${segment}' segment (decoded: '${d}')`
      if (d.includes('/') || d.includes('\\')) return 'has an encoded slash or backslash'
    }
  }
  return undefined
}
