/** One HTTP request to a vendor, fully built: the transport adds nothing but the connection. */
export interface UpstreamRequest {
  /** scheme://host[:port] — selects the connection pool. */
  origin: string
  /** Path and query, e.g. `/v1/chat/completions?api-version=...`. */
  path: string
  method: 'GET' | 'POST' | 'DELETE' | 'HEAD' | 'PUT' | 'PATCH'
  /** Built fresh for each attempt (never shared): the pipeline adds trace context to it in place. */
  headers: Record<string, string>
  body?: string | Buffer
}

/**
 * The part of a Node stream the pipeline uses to read a response body. A Readable satisfies it
 * (the mock vendor uses one); the HTTP transport feeds a lighter object straight from undici.
 */
export interface UpstreamBody {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'end' | 'close', listener: () => void): unknown
  pause(): void
  resume(): void
  destroy(error?: Error): void
}

export interface UpstreamResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The body; consume it or call `destroy()`. */
  body: UpstreamBody
}

/** A stream's wait for its response headers when first_byte_ms is not configured. */
export const STREAM_FIRST_BYTE_MS = 60_000

export interface Timeouts {
  connectMs: number
  /**
   * Sending the request to the response headers. Undefined: STREAM_FIRST_BYTE_MS for a stream,
   * and no separate limit for a non-streamed call, whose headers come with the whole answer (a
   * reasoning model may think for minutes); total_ms bounds it.
   */
  firstByteMs: number | undefined
  idleMs: number
  totalMs: number
}

/** Sends one request. Implementations: undici pools (HTTP), the mock provider (in memory). */
export interface Transport {
  send(req: UpstreamRequest, opts: { signal: AbortSignal; timeouts: Timeouts; stream: boolean }): Promise<UpstreamResponse>
  close(): Promise<void>
}

/** Why an upstream call failed before a status arrived (mapped to 502/504 and to retry decisions). */
export type TransportFailure = 'connect_timeout' | 'first_byte_timeout' | 'idle_timeout' | 'total_timeout' | 'connection_refused' | 'connection_reset' | 'aborted' | 'network'

export class TransportError extends Error {
  readonly failure: TransportFailure
  constructor(failure: TransportFailure, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'TransportError'
    this.failure = failure
  }
}

/** One server-sent event as parsed by the shared SSE parser (and by the AWS event-stream decoder). */
export interface StreamEvent {
  /** The `event:` field, or for AWS event streams the `:event-type` header. */
  event: string | undefined
  /** The `data:` payload (lines joined with \n). */
  data: string
  /** The exact bytes the vendor sent for this event, for byte-faithful pass-through. */
  raw: Buffer
}
