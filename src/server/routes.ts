/**
 * The data-plane route table. These paths are served straight on Node's request and response
 * objects (see server/listener.ts); everything else goes through the Hono app.
 */
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
