/**
 * The HTTP transport: one undici Agent per provider (it keeps a keep-alive pool per origin), so
 * each provider has its own connect timeout and connection budget. Bodies come back as Node
 * the pipeline reads bodies from a DispatchBody fed by undici's dispatch handler; nothing on this
 * path touches web streams or creates a Readable.
 *
 * Timeouts: connect (the Agent's, per provider), first byte (response headers), idle (longest gap
 * between body chunks, so a stalled stream fails), and an optional per-attempt total (armed only
 * when finite, so the default path costs no extra timer).
 */
import { Agent, type Dispatcher } from 'undici'
import { STREAM_FIRST_BYTE_MS, TransportError, type Timeouts, type Transport, type UpstreamRequest, type UpstreamResponse } from './types.ts'
import { DispatchBody } from './dispatch-body.ts'

export function createHttpTransport(opts: { connectMs: number; connections?: number }): Transport {
  const agent = new Agent({
    connect: { timeout: opts.connectMs },
    connections: opts.connections ?? 256,
    keepAliveTimeout: 30_000,
    pipelining: 1,
  })

  /**
   * Dispatches straight into a DispatchBody: no Readable, no promise per chunk. The promise
   * settles when the response headers arrive (or the request fails before them).
   */
  const send = (req: UpstreamRequest, signal: AbortSignal, timeouts: Timeouts, stream: boolean): Promise<UpstreamResponse> =>
    new Promise<UpstreamResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(classifyTransportError(signal.reason, signal))
        return
      }
      const body = new DispatchBody()
      let controller: Dispatcher.DispatchController | undefined
      let started = false
      const onAbort = () => controller?.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      signal.addEventListener('abort', onAbort, { once: true })
      const done = () => signal.removeEventListener('abort', onAbort)
      agent.dispatch({
        origin: req.origin,
        path: req.path,
        method: req.method,
        headers: req.headers,
        body: req.body,
        headersTimeout: headersTimeoutFor(timeouts, stream),
        bodyTimeout: timeouts.idleMs,
      }, {
        onRequestStart(c) {
          controller = c
          body.attach(c)
          if (signal.aborted) onAbort()
        },
        onResponseStart(_c, statusCode, headers) {
          started = true
          resolve({ status: statusCode, headers: headers as UpstreamResponse['headers'], body })
        },
        onResponseData(_c, chunk) {
          body.push(chunk)
        },
        onResponseEnd() {
          done()
          body.end()
        },
        onResponseError(_c, error) {
          done()
          const failure = classifyTransportError(error, signal)
          if (started) body.fail(failure)
          else reject(failure)
        },
      })
    })

  /** Per-attempt cap: our own controller, aborted by the caller's signal or by the timer. */
  const sendCapped = async (req: UpstreamRequest, signal: AbortSignal, timeouts: Timeouts, stream: boolean): Promise<UpstreamResponse> => {
    const ac = new AbortController()
    const onAbort = () => ac.abort(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(() => ac.abort(new TransportError('total_timeout', `the attempt exceeded its total_ms (${timeouts.totalMs} ms)`)), timeouts.totalMs)
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
    try {
      const res = await send(req, ac.signal, timeouts, stream)
      res.body.on('close', done)
      return res
    } catch (err) {
      done()
      throw err
    }
  }

  return {
    // Not async: returning `send`'s promise from an async function would add microtask hops per request.
    send: (req, { signal, timeouts, stream }) => (Number.isFinite(timeouts.totalMs) ? sendCapped(req, signal, timeouts, stream) : send(req, signal, timeouts, stream)),
    close: () => agent.close(),
  }
}

/**
 * undici's wait for the response headers (0: none). A configured first_byte_ms applies to every
 * call; unset, a stream gets STREAM_FIRST_BYTE_MS and a non-streamed call none, since its headers
 * come with the whole answer and only total_ms should bound how long a model may think.
 */
export const headersTimeoutFor = (timeouts: Timeouts, stream: boolean): number => timeouts.firstByteMs ?? (stream ? STREAM_FIRST_BYTE_MS : 0)

/** Maps undici and socket errors (also those raised later while reading a body) to our failures. */
export function classifyTransportError(err: unknown, signal?: AbortSignal): TransportError {
  if (err instanceof TransportError) return err
  if (signal?.aborted && signal.reason instanceof TransportError) return signal.reason
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } }
  const code = e?.code ?? e?.cause?.code
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT': return new TransportError('connect_timeout', 'connecting to the vendor timed out', err)
    case 'UND_ERR_HEADERS_TIMEOUT': return new TransportError('first_byte_timeout', 'the vendor sent no response headers in time', err)
    case 'UND_ERR_BODY_TIMEOUT': return new TransportError('idle_timeout', 'the vendor stopped sending the body (idle timeout)', err)
    case 'ECONNREFUSED': return new TransportError('connection_refused', 'the vendor refused the connection', err)
    case 'ECONNRESET': case 'UND_ERR_SOCKET': case 'EPIPE': return new TransportError('connection_reset', 'the connection to the vendor was reset', err)
    case 'UND_ERR_ABORTED': case 'ABORT_ERR': return new TransportError('aborted', 'the upstream request was aborted', err)
  }
  if (e?.name === 'AbortError') return new TransportError('aborted', 'the upstream request was aborted', err)
  return new TransportError('network', `network error talking to the vendor: ${e?.message ?? String(err)}`, err)
}
