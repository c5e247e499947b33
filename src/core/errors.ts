/**
 * One error class for everything a client can be told. Rendered in exactly one place per ingress
 * format (OpenAI's envelope, or Anthropic's on /v1/messages). Codes are stable and machine-readable.
 */
export type GatewayErrorCode =
  | 'invalid_request'
  | 'invalid_api_key'
  | 'permission_denied'
  | 'model_not_allowed'
  | 'model_not_found'
  | 'not_found'
  | 'request_too_large'
  | 'rate_limit_exceeded'
  | 'budget_exceeded'
  | 'idempotency_conflict'
  | 'upstream_error'
  | 'no_healthy_upstream'
  | 'upstream_timeout'
  | 'internal_error'

export interface GatewayErrorInit {
  status: number
  /** One of ours, or a vendor's own code when a vendor 4xx is passed through. */
  code: GatewayErrorCode | (string & {})
  message: string
  type?: string
  param?: string | null
  headers?: Record<string, string>
  cause?: unknown
  /**
   * The vendor was overloaded (Anthropic's 529, an overloaded 503). OpenAI clients get the status
   * above (502 upstream_error); Anthropic clients get what Anthropic sends, 529 overloaded_error,
   * which Claude Code treats apart from other failures.
   */
  overloaded?: boolean
}

export class GatewayError extends Error {
  readonly status: number
  readonly code: string
  readonly type: string
  readonly param: string | null
  readonly headers: Record<string, string>
  readonly overloaded: boolean

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'GatewayError'
    this.status = init.status
    this.code = init.code
    this.type = init.type ?? openAITypeForStatus(init.status)
    this.param = init.param ?? null
    this.headers = init.headers ?? {}
    this.overloaded = init.overloaded ?? false
  }
}

/** The status an Anthropic client sees. */
export const anthropicStatus = (err: GatewayError): number => (err.overloaded ? 529 : err.status)

function openAITypeForStatus(status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 429) return 'rate_limit_error'
  if (status === 504) return 'timeout_error'
  if (status >= 500) return 'api_error'
  return 'invalid_request_error'
}

/** Anthropic's error `type` for a status, used on the Anthropic ingress. */
export function anthropicTypeForStatus(status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error'
    case 401: return 'authentication_error'
    case 403: return 'permission_error'
    case 404: return 'not_found_error'
    case 413: return 'request_too_large'
    case 429: return 'rate_limit_error'
    case 503: case 529: return 'overloaded_error'
    case 504: return 'timeout_error'
    default: return status >= 500 ? 'api_error' : 'invalid_request_error'
  }
}

export function openAIErrorBody(err: GatewayError): string {
  return JSON.stringify({ error: { message: err.message, type: err.type, param: err.param, code: err.code } })
}

export function anthropicErrorBody(err: GatewayError): string {
  return JSON.stringify({ type: 'error', error: { type: anthropicTypeForStatus(anthropicStatus(err)), message: err.message } })
}

/** Shorthands for the errors raised most often, so call sites stay one line. */
export const invalidRequest = (message: string, param: string | null = null): GatewayError =>
  new GatewayError({ status: 400, code: 'invalid_request', message, param })

export const toGatewayError = (err: unknown): GatewayError =>
  err instanceof GatewayError
    ? err
    : new GatewayError({ status: 500, code: 'internal_error', message: 'Internal gateway error; the request id identifies it in the logs.', cause: err })
