/**
 * Writes to the client through Node's ServerResponse directly: no web streams on the hot path
 * (measured here at half the throughput). Errors are rendered in the ingress's one envelope.
 */
import type { ServerResponse } from 'node:http'
import { anthropicErrorBody, anthropicStatus, openAIErrorBody, type GatewayError } from '../core/errors.ts'
import type { IngressFormat, Operation } from '../core/call.ts'

const LONGEST_SDK_WAIT_S = 60

export function sendError(res: ServerResponse, err: GatewayError, ingress: IngressFormat, headers: Record<string, string>): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const body = ingress === 'anthropic' ? anthropicErrorBody(err) : openAIErrorBody(err)
  const out: Record<string, string | number> = { ...headers, ...err.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
  if (err.status === 429 || err.status === 503) {
    if (out['retry-after'] === undefined) out['retry-after'] = '1'
    // The official SDKs honour retry-after however long it is (the Anthropic SDK sleeps for days)
    // unless x-should-retry says otherwise: a wait beyond a minute is the caller's decision.
    else if (out['x-should-retry'] === undefined && Number(out['retry-after']) > LONGEST_SDK_WAIT_S) out['x-should-retry'] = 'false'
  }
  res.writeHead(ingress === 'anthropic' ? anthropicStatus(err) : err.status, out)
  res.end(body)
}

/** Takes `headers` over (adds content-type and -length to it): callers pass an object of their own. */
export function sendBody(res: ServerResponse, status: number, contentType: string, body: Buffer | string, headers: Record<string, string | number>): void {
  headers['content-type'] = contentType
  headers['content-length'] = Buffer.byteLength(body)
  res.writeHead(status, headers)
  res.end(body)
}

/**
 * Mid-stream failure, after bytes were sent: an error event in the client's format, then the end.
 * `op` is the vendor operation relayed: a Responses stream passed through as is gets the Responses
 * API's `error` event (its code, message and param, and the `error` object the SDKs raise from),
 * not a Chat Completions one.
 */
export function streamErrorEvent(err: GatewayError, ingress: IngressFormat, op?: Operation): string {
  if (ingress === 'anthropic') return `event: error\ndata: ${anthropicErrorBody(err)}\n\n`
  if (op === 'responses') {
    const error = { type: err.type, code: err.code, message: err.message, param: err.param }
    return `event: error\ndata: ${JSON.stringify({ type: 'error', code: err.code, message: err.message, param: err.param, error })}\n\n`
  }
  return `data: ${openAIErrorBody(err)}\n\n`
}
