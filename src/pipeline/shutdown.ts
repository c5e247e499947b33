/**
 * Ending the calls still running when the shutdown grace period is over. Their sockets used to be
 * destroyed, which left clients with a bare connection reset mid-stream. Instead each call is
 * aborted with SHUTDOWN (the vendor request is aborted as when a client leaves): a stream already
 * committed ends with an error event in the client's own format, as it does when a vendor fails
 * after the first frame; a call not answered yet gets a 503. Both carry `server_shutting_down`, a
 * retryable error (Anthropic clients read `overloaded_error`), and the ledger records the call
 * with that code.
 */
import { GatewayError } from '../core/errors.ts'
import { TransportError } from '../upstream/types.ts'

/** The abort reason of a call ended by shutdown. */
export const SHUTDOWN = new TransportError('aborted', 'the gateway is shutting down')

export const shuttingDown = (): GatewayError => new GatewayError({
  status: 503,
  code: 'server_shutting_down',
  message: 'The gateway is shutting down and ended this request before it was complete; retry it.',
  headers: { 'retry-after': '1' },
})

/** The abort controllers of the model calls in progress (handle-call.ts adds and removes them). */
export type InFlightCalls = Set<AbortController>

/** Aborts every call in progress with SHUTDOWN; returns how many there were. */
export function endInFlightCalls(calls: InFlightCalls): number {
  const n = calls.size
  for (const c of calls) c.abort(SHUTDOWN)
  return n
}
