/**
 * One upstream attempt: translate, send, and either relay the answer to the client or report a
 * failure for the plan to decide on. Streams are relayed event by event as they arrive, with
 * backpressure; the response is committed (headers sent) at the first frame, so a failure before
 * it can still be retried elsewhere.
 */
import type { ServerResponse } from 'node:http'
import type { AttemptRecord, CallInfo } from '../core/call.ts'
import { GatewayError } from '../core/errors.ts'
import type { CachedResponse, RequestObserver } from '../core/ports.ts'
import type { Usage } from '../core/usage.ts'
import { isObject, type JsonObject } from '../core/json.ts'
import type { ChatCompletion, ChatCompletionChunk } from '../core/openai-chat.ts'
import { VendorRefusal, type AttemptInput, type Operation, type ParsedResponse, type StreamFrame } from '../providers/types.ts'
import { canonicalChunk, canonicalCompletion } from '../providers/openai/chat-dialects.ts'
import type { Step, AttemptFailure } from '../routing/plan.ts'
import type { AttemptResultInfo } from '../routing/health.ts'
import { createSseParser, SSE_DONE } from '../upstream/sse.ts'
import { classifyTransportError } from '../upstream/http-transport.ts'
import type { StreamEvent, UpstreamRequest, UpstreamResponse } from '../upstream/types.ts'
import type { IngressCodec, StreamEncoder } from '../ingress/types.ts'
import type { PipelineDeps } from './deps.ts'
import type { Route } from './handle-call.ts'
import { sendBody, streamErrorEvent } from './client-response.ts'
import { SHUTDOWN, shuttingDown } from './shutdown.ts'
import { scrubSecrets, scrubVendorError, vendorErrorToClient } from './upstream-error.ts'
import { vendorSecrets } from '../providers/secrets.ts'
import { estimatePromptTokens } from './estimate.ts'
import { forwardingRefusal } from './forwarding.ts'
import { withStreamCost } from '../accounting/stream-cost.ts'
import { mayHoldGatewayItems, withoutGatewayItems } from '../ingress/responses/index.ts'

export interface ResponseState {
  headers: Record<string, string>
  committed: boolean
  ttftMs: number | undefined
}

export interface AttemptSuccess {
  ok: true
  usage: Usage | undefined
  provider: string
  upstreamModel: string
  responseModel?: string
  responseId?: string
  finishReasons: string[]
  costUsd: number | null
  /** Set when the stream ended with an in-stream vendor error after bytes were sent. */
  streamError?: string
  /** Vendor stream events relayed (streams only). */
  streamedEvents?: number
  /** The complete response, for the cache (only when collected and successful). */
  cacheable: CachedResponse | undefined
}

export type AttemptResult = AttemptSuccess | { ok: false; failure: AttemptFailure; committed: boolean }

export interface AttemptContext {
  call: CallInfo
  route: Route
  step: Step
  res: ServerResponse
  state: ResponseState
  signal: AbortSignal
  observer: RequestObserver | undefined
  attempts: AttemptRecord[]
  /** Keep the response's bytes for the cache. */
  collect: boolean
  /**
   * True while the target counts this attempt in flight (admitted by health.started, not yet
   * finished): if runAttempt throws then, the caller releases it, or least-busy would shun the
   * target and a half-open circuit keep its probe slot for good.
   */
  inFlight: boolean
}

const MAX_ERROR_BODY = 64 * 1024

/**
 * How this target serves the call: natively, or through OpenAI Chat with an ingress codec. A
 * GatewayError when this target cannot take the call (runAttempt reports it as 'unservable').
 */
function plan(deps: PipelineDeps, ctx: AttemptContext): { op: Operation; body: JsonObject; raw?: Buffer; codec?: IngressCodec } | GatewayError {
  const target = ctx.step.target
  const adapter = target.provider.kind.adapter
  const op = ctx.route.operation
  const translateResponses = op === 'responses' && deps.config.providers[target.provider.name]?.responses === 'translate'
  if (op === 'passthrough') {
    const refused = forwardingRefusal(target.provider.name, deps.config.providers[target.provider.name]?.passthrough, ctx.route.method ?? 'POST', `/v1${ctx.route.path ?? ''}`)
    if (refused) return refused
  }
  if (adapter.native.has(op) && !translateResponses) {
    // Turns a translated vendor answered (a fallback) hold reasoning and ids the vendor cannot know.
    if (op === 'responses' && ctx.call.rawBody && mayHoldGatewayItems(ctx.call.rawBody)) {
      const body = withoutGatewayItems(ctx.call.body)
      if (body) return { op, body, raw: Buffer.from(JSON.stringify(body)) }
    }
    return { op, body: ctx.call.body }
  }
  const codec = deps.codecs[op]
  if (codec && adapter.supports.has('chat')) {
    let chat: ReturnType<IngressCodec['toChat']>
    try {
      chat = codec.toChat(ctx.call.body)
    } catch (err) {
      if (err instanceof GatewayError) return err
      throw err
    }
    // Effort derived from Anthropic thinking or Responses reasoning breaks models that do not reason (docs/agents.md).
    if (chat.reasoning_effort !== undefined && !(target.entry.reasoning ?? target.provider.config.type !== 'openai-compatible')) delete chat.reasoning_effort
    return { op: 'chat', body: chat as unknown as JsonObject, codec }
  }
  if (adapter.supports.has(op)) return { op, body: ctx.call.body }
  return new GatewayError({
    status: 400,
    code: 'invalid_request',
    message: `The model '${ctx.call.publicModel}' is served by a ${adapter.schema} provider, which does not support ${ctx.route.operation === 'passthrough' ? `the path /v1${ctx.route.path ?? ''}` : `the ${ctx.route.operation} API`}.`,
  })
}

export async function runAttempt(deps: PipelineDeps, ctx: AttemptContext): Promise<AttemptResult> {
  const { step, call, state, res } = ctx
  const target = step.target
  const provider = target.provider
  const t0 = performance.now()
  const record = (status: number | undefined, error?: string) => {
    ctx.attempts.push({ provider: provider.name, upstreamModel: target.upstreamModel, publicModel: target.publicModel, attempt: step.attempt, fallback: step.fallback, status, error, durationMs: performance.now() - t0 })
  }
  if (provider.disabled) {
    record(undefined, 'provider_disabled')
    return { ok: false, failure: { kind: 'unavailable', reason: `No healthy upstream: ${provider.disabled}.` }, committed: false }
  }
  const apiKey = provider.keys.size > 0 ? provider.keys.pick(target.upstreamModel) : undefined
  if (provider.keys.size > 0 && apiKey === undefined) {
    record(undefined, 'no_key_available')
    return { ok: false, failure: { kind: 'unavailable', reason: `No healthy upstream: every vendor key of provider "${provider.name}" is rejected or resting after a 429.` }, committed: false }
  }
  // count_tokens on a vendor without it: answer locally from the estimate.
  if (ctx.route.operation === 'count_tokens' && !provider.kind.adapter.native.has('count_tokens')) {
    sendBody(res, 200, 'application/json', JSON.stringify({ input_tokens: estimatePromptTokens(call.rawBody) }), { ...state.headers, 'x-switchboard-provider': provider.name, 'x-switchboard-model': target.upstreamModel, 'x-switchboard-attempts': '0' })
    state.committed = true
    return { ok: true, usage: undefined, provider: provider.name, upstreamModel: target.upstreamModel, finishReasons: [], costUsd: 0, cacheable: undefined }
  }
  const how = plan(deps, ctx)
  if (how instanceof GatewayError) return unservable(how)

  const input: AttemptInput = {
    operation: how.op,
    body: how.body,
    rawBody: how.codec ? undefined : how.raw ?? call.rawBody,
    stream: call.stream,
    maxOutputTokens: call.maxOutputTokens,
    upstreamModel: target.upstreamModel,
    provider: provider.config,
    apiKey,
    clientHeaders: call.headers,
    path: ctx.route.path,
    query: ctx.route.query,
    method: ctx.route.method,
  }
  const adapter = provider.kind.adapter
  let request: UpstreamRequest
  try {
    request = adapter.buildRequest(input)
  } catch (err) {
    // The vendor has no counterpart for something the request asks (Anthropic and n > 1...).
    if (err instanceof GatewayError && err.status < 500) return unservable(err)
    throw err
  }
  if (adapter.sign) request = await adapter.sign(request, input)
  // The circuit breaker's admission (in half-open, the single probe): a rejected attempt sends nothing.
  if (!deps.health.started(target)) {
    record(undefined, 'circuit_open')
    return { ok: false, failure: { kind: 'unavailable', reason: `No healthy upstream: the circuit of target ${target.id} (provider "${provider.name}") is open.` }, committed: false }
  }
  // Until health.finished: should this attempt throw, handle-call frees the target's slot (AttemptContext.inFlight).
  ctx.inFlight = true
  const attemptObs = ctx.observer?.attemptStarted({ provider: provider.name, upstreamModel: target.upstreamModel, attempt: step.attempt, serverAddress: request.origin, fallback: step.fallback })
  // In place: the request's header object is this attempt's own (UpstreamRequest), and copying the
  // request and its headers for every call cost more than the trace context itself.
  if (attemptObs?.headers) Object.assign(request.headers, attemptObs.headers)

  const fail = (failure: AttemptFailure, status: number | undefined, committed = false): AttemptResult => {
    const label = failure.kind === 'provider' ? failure.error.kind : failure.kind === 'transport' ? failure.failure : 'unavailable'
    record(status, label)
    attemptObs?.end({ status, error: label })
    finished(deps, ctx, { ok: false, failure: label })
    return { ok: false, failure, committed }
  }

  let upstream: UpstreamResponse
  try {
    upstream = await provider.transport.send(request, { signal: ctx.signal, timeouts: target.timeouts, stream: call.stream })
  } catch (err) {
    const te = classifyTransportError(err, ctx.signal)
    return fail({ kind: 'transport', failure: te.failure }, undefined)
  }
  const ttfbMs = performance.now() - t0

  if (upstream.status >= 400) {
    let body: Buffer
    try {
      body = await readAll(upstream, MAX_ERROR_BODY)
    } catch {
      body = Buffer.alloc(0)
    }
    const error = adapter.parseError(upstream.status, upstream.headers, body)
    scrubVendorError(error, vendorSecrets(provider.config, apiKey))
    if (apiKey) provider.keys.report(apiKey, target.upstreamModel, upstream.status, error.retryAfterMs)
    return fail({ kind: 'provider', error }, upstream.status)
  }

  // This attempt's own header object: the response path completes it in place (sendBody, writeHead).
  const baseHeaders: Record<string, string> = {
    ...state.headers,
    'x-switchboard-provider': provider.name,
    'x-switchboard-model': target.upstreamModel,
    'x-switchboard-attempts': String(step.attempt),
  }
  const price = (u: Usage | undefined): number | null => (u ? deps.pricing.cost(target.publicModel, provider.name, target.upstreamModel, u) : null)

  if (!call.stream || ctx.route.operation === 'count_tokens') {
    let bytes: Buffer
    try {
      bytes = await readAll(upstream, Number.POSITIVE_INFINITY)
    } catch (err) {
      return fail({ kind: 'transport', failure: classifyTransportError(err, ctx.signal).failure }, upstream.status)
    }
    let parsed: ParsedResponse
    let translated: JsonObject | undefined
    try {
      parsed = adapter.parseResponse(input, bytes)
      // OpenAI-type vendors hand back raw bytes even for a translated call: a chat.completion to encode,
      // in whatever dialect the server speaks (chat-dialects.ts). A 200 that holds none (a proxy's page,
      // an error sent with status 200) is this attempt's failure: the plan moves on.
      if (how.codec) translated = how.codec.fromChat(parsed.kind === 'object' ? parsed.body as ChatCompletion : chatCompletionIn(parsed.bytes), { requestedModel: call.publicModel, clientWantsUsage: true, request: call.body })
    } catch (err) {
      if (err instanceof VendorRefusal) return fail({ kind: 'provider', error: err.error }, upstream.status)
      deps.log.warn({ err, provider: provider.name, requestId: call.requestId }, 'could not parse the vendor response')
      return fail({ kind: 'provider', error: { status: 502, code: 'upstream_error', kind: 'server', message: 'The vendor sent a response the gateway could not read.' } }, upstream.status)
    }
    // Pass-through bytes are relayed unread: an empty, cut or non-JSON 200 would reach the client
    // as a success its SDK cannot parse. Nothing is sent yet, so it fails this attempt instead.
    // Other /v1/* paths (files, audio) may answer anything.
    if (parsed.kind === 'raw' && !translated && how.op !== 'passthrough' && !framedAsObject(parsed.bytes)) {
      return fail({ kind: 'provider', error: { status: 502, code: 'upstream_error', kind: 'server', message: scrubSecrets(`The vendor answered ${upstream.status} with ${describeBody(parsed.bytes, upstream.headers['content-type'])}, not a JSON object.`, vendorSecrets(provider.config, apiKey)) } }, upstream.status)
    }
    const raw = parsed.kind === 'raw' && !translated
    const out = translated ? Buffer.from(JSON.stringify(translated)) : parsed.kind === 'raw' ? parsed.bytes : Buffer.from(JSON.stringify(parsed.body))
    const cost = price(parsed.usage)
    const contentType = typeof upstream.headers['content-type'] === 'string' ? upstream.headers['content-type'] : 'application/json'
    if (cost !== null) baseHeaders['x-switchboard-cost-usd'] = cost.toFixed(8)
    // Stored before the client has the id: an agent continues from it at once (previous_response_id).
    const saving = translated ? deps.conversations?.save(call, translated) : undefined
    if (saving) await saving
    state.committed = true
    state.ttftMs = performance.now() - t0
    sendBody(res, upstream.status, raw ? contentType : 'application/json', out, baseHeaders)
    record(upstream.status)
    attemptObs?.end({ status: upstream.status, body: out })
    finished(deps, ctx, { ok: true, ttfbMs })
    return {
      ok: true, usage: parsed.usage, provider: provider.name, upstreamModel: target.upstreamModel,
      responseModel: parsed.responseModel, responseId: parsed.responseId, finishReasons: parsed.finishReasons ?? [], costUsd: cost,
      cacheable: ctx.collect ? { kind: 'body', status: upstream.status, contentType: raw ? contentType : 'application/json', body: out, usage: parsed.usage, provider: provider.name, upstreamModel: target.upstreamModel, costUsd: cost } : undefined,
    }
  }

  // Streaming.
  const ct = upstream.headers['content-type']
  if (adapter.streamFraming === 'sse' && typeof ct === 'string' && !ct.includes('text/event-stream')) {
    // A vendor that answers a streamed request with a plain body would leave the client with an
    // empty stream: treat it as a vendor failure, so another target (or a clear 502) follows.
    const bytes = await readAll(upstream, MAX_ERROR_BODY).catch(() => Buffer.alloc(0))
    return fail({ kind: 'provider', error: { status: 502, code: 'upstream_error', kind: 'server', message: `The vendor answered a streamed request with ${ct} instead of an event stream: ${scrubSecrets(bytes.toString('utf8').slice(0, 200), vendorSecrets(provider.config, apiKey))}` } }, upstream.status)
  }
  const clientWantsUsage = clientAskedForUsage(call)
  const translator = adapter.streamTranslator(input, { clientWantsUsage: how.codec ? true : clientWantsUsage })
  const encoder: StreamEncoder | undefined = how.codec?.streamEncoder({ requestedModel: call.publicModel, clientWantsUsage, request: call.body })
  const parser = adapter.streamFraming === 'sse' ? createSseParser() : await awsDecoder()
  const sendsDone = ctx.route.ingress === 'openai' && (how.op === 'chat' || how.op === 'completions')
  const collected: Buffer[] | undefined = ctx.collect ? [] : undefined

  const write = (data: Buffer | string): boolean => {
    if (!state.committed) {
      state.committed = true
      state.ttftMs = performance.now() - t0
      ctx.observer?.firstToken()
      baseHeaders['content-type'] = 'text/event-stream; charset=utf-8'
      baseHeaders['cache-control'] = 'no-cache'
      baseHeaders['x-accel-buffering'] = 'no'
      res.writeHead(200, baseHeaders)
    }
    if (collected) collected.push(typeof data === 'string' ? Buffer.from(data) : data)
    return res.write(data)
  }
  // The client asked for usage: its usage chunk also carries the call's cost (docs/costs.md).
  const costInStream = clientWantsUsage && !encoder && ctx.route.ingress === 'openai'
  const frameBytes = (f: StreamFrame): Buffer | string => {
    if (costInStream) {
      const priced = withStreamCost(f, () => price(translator.usage()))
      if (priced !== undefined) return priced
    }
    if (f.kind === 'raw') {
      if (!encoder) return f.bytes
      // A translated ingress (/v1/messages) on an OpenAI-type target: its chunks go through the encoder too.
      const chunk = chunkOfRawEvent(f.bytes)
      return chunk ? encoder.push(chunk) : ''
    }
    if (encoder) return encoder.push(f.chunk)
    return `data: ${JSON.stringify(f.chunk)}\n\n`
  }

  // Vendor events relayed: the basis of the output estimate when a stream is cut before its usage.
  let streamedEvents = 0
  const outcome = await new Promise<{ ok: true } | { ok: false; error: unknown }>((resolve) => {
    const body = upstream.body
    let done = false
    const finish = (r: { ok: true } | { ok: false; error: unknown }) => {
      if (done) return
      done = true
      if (waitingDrain) res.off('drain', onDrain)
      resolve(r)
    }
    // Events relayed as the vendor's bytes lie side by side in the chunk they came in: they go out
    // as one write per run of adjacent events rather than one per event (each response write is
    // a chunked-encoding frame and a trip through the stream machinery). Nothing waits: a run
    // never spans two vendor chunks.
    const emit = (events: StreamEvent[]): boolean => {
      let ok = true
      // The run so far: its first event's bytes and the run's whole length (one view made at the end).
      let run: Buffer | undefined
      let runLength = 0
      const flushRun = () => {
        if (run) ok = write(runLength === run.length ? run : Buffer.from(run.buffer, run.byteOffset, runLength)) && ok
        run = undefined
      }
      streamedEvents += events.length
      for (const ev of events) {
        for (const f of translator.push(ev)) {
          const b = frameBytes(f)
          if (b.length === 0) continue
          if (typeof b === 'string') {
            flushRun()
            ok = write(b) && ok
          } else if (run && run.buffer === b.buffer && run.byteOffset + runLength === b.byteOffset) {
            runLength += b.length
          } else {
            flushRun()
            run = b
            runLength = b.length
          }
        }
        if (translator.error()) break
      }
      flushRun()
      return ok
    }
    // Backpressure: a full client socket pauses the vendor's body until it drains. The listener is
    // added only then (most responses never fill the socket buffer).
    let waitingDrain = false
    const onDrain = () => {
      waitingDrain = false
      body.resume()
    }
    body.on('data', (chunk: Buffer) => {
      if (done) return
      if (!emit(parser.push(chunk))) {
        body.pause()
        if (!waitingDrain) {
          waitingDrain = true
          res.once('drain', onDrain)
        }
      }
      if (translator.error()) {
        body.destroy()
        finish({ ok: true })
      }
    })
    body.on('end', () => {
      if (done) return
      emit(parser.end())
      // Not one event: nothing to close (a translator's closing frames would make an empty success).
      if (streamedEvents === 0) return finish({ ok: true })
      if (!translator.error()) for (const f of translator.end()) {
        const b = frameBytes(f)
        if (b.length > 0) write(b)
      }
      finish({ ok: true })
    })
    body.on('error', (error) => finish({ ok: false, error }))
    // Runs after every 'end' too: build the Error (a stack trace, microseconds) only when it is one.
    body.on('close', () => {
      if (!done) finish({ ok: false, error: new Error('upstream closed') })
    })
  })

  const usage = translator.usage()
  const vendorError = translator.error()
  // Anthropic, Gemini and Bedrock stream errors: retried, reported or rendered below, scrubbed first.
  if (vendorError) scrubVendorError(vendorError, vendorSecrets(provider.config, apiKey))
  if (!outcome.ok || vendorError) {
    const failure: AttemptFailure = vendorError ? { kind: 'provider', error: vendorError } : { kind: 'transport', failure: classifyTransportError(outcome.ok ? undefined : outcome.error, ctx.signal).failure }
    if (!state.committed) return fail(failure, upstream.status)
    // Bytes already went out: end the stream with an error event in the client's format.
    const gerr = vendorError
      ? vendorErrorToClient(vendorError, provider.name)
      : ctx.signal.reason === SHUTDOWN
        ? shuttingDown()
        : new GatewayError({ status: 502, code: failure.kind === 'transport' && failure.failure === 'idle_timeout' ? 'upstream_timeout' : 'upstream_error', message: `The vendor stream broke after it started (${failure.kind === 'transport' ? failure.failure.replace(/_/g, ' ') : 'error'}).` })
    if (!res.destroyed) {
      res.write(encoder ? encoder.error(gerr) : streamErrorEvent(gerr, ctx.route.ingress, how.op))
      res.end()
    }
    const label = failure.kind === 'provider' ? failure.error.kind : failure.kind === 'transport' ? failure.failure : 'unavailable'
    record(upstream.status, label)
    attemptObs?.end({ status: upstream.status, error: label })
    finished(deps, ctx, { ok: false, failure: label })
    return {
      ok: true, usage, provider: provider.name, upstreamModel: target.upstreamModel, finishReasons: translator.finishReasons?.() ?? [],
      costUsd: price(usage), streamError: gerr.code, streamedEvents, cacheable: undefined,
    }
  }
  // A 200 event stream that ended without a single event is an empty answer, not a success; no
  // byte went to the client yet, so another target can still be tried.
  if (streamedEvents === 0) {
    return fail({ kind: 'provider', error: { status: 502, code: 'upstream_error', kind: 'server', message: 'The vendor ended the event stream without sending a single event.' } }, upstream.status)
  }
  if (!state.committed) write('')
  if (encoder) {
    const closing = encoder.end(usage)
    // Stored before response.completed (or .incomplete) goes out: from that event on, the client
    // may continue from this id (previous_response_id), on any replica.
    const translated = encoder.result?.()
    const saving = translated ? deps.conversations?.save(call, translated) : undefined
    if (saving) await saving
    write(closing)
  } else if (sendsDone) write(SSE_DONE)
  res.end()
  record(upstream.status)
  attemptObs?.end({ status: upstream.status })
  finished(deps, ctx, { ok: true, ttfbMs })
  const cost = price(usage)
  return {
    ok: true, usage, provider: provider.name, upstreamModel: target.upstreamModel,
    responseModel: translator.responseModel?.(), responseId: translator.responseId?.(), finishReasons: translator.finishReasons?.() ?? [], costUsd: cost,
    streamedEvents,
    cacheable: collected ? { kind: 'stream', frames: collected, usage, provider: provider.name, upstreamModel: target.upstreamModel, costUsd: cost } : undefined,
  }
}

/** JSON whitespace: space, tab, line feed, carriage return. */
const isJsonSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

/**
 * Whether a body is framed as a JSON object: its first and last bytes other than whitespace are
 * `{` and `}`. A few byte reads, no parse: a relayed body is never parsed in full, and an empty,
 * HTML or cut body (cut anywhere but right after a `}`) fails it.
 */
export function framedAsObject(bytes: Buffer): boolean {
  let i = 0
  while (isJsonSpace(bytes[i])) i++
  let j = bytes.length - 1
  while (j > i && isJsonSpace(bytes[j])) j--
  return j > i && bytes[i] === 0x7b && bytes[j] === 0x7d
}

/** A refused body, for the error message: its content type, size and first bytes. */
function describeBody(bytes: Buffer, contentType: string | string[] | undefined): string {
  if (bytes.length === 0) return 'an empty body'
  const ct = typeof contentType === 'string' ? `${contentType} ` : ''
  return `a ${ct}body of ${bytes.length} bytes starting ${JSON.stringify(bytes.subarray(0, 60).toString('utf8'))}`
}

/**
 * This target cannot take the request (nothing was sent): the plan skips it and goes on; the
 * client hears this only when no target could take the request (docs/routing.md).
 */
function unservable(error: GatewayError): AttemptResult {
  return { ok: false, failure: { kind: 'unservable', error }, committed: false }
}

/** The attempt is over for its target's health: once, and no longer in flight (AttemptContext.inFlight). */
function finished(deps: PipelineDeps, ctx: AttemptContext, result: AttemptResultInfo): void {
  ctx.inFlight = false
  deps.health.finished(ctx.step.target, result)
}

/** The chat.completion in an OpenAI-type vendor's 200 body, in the canonical shape; throws when there is none. */
function chatCompletionIn(bytes: Buffer): ChatCompletion {
  const body: unknown = JSON.parse(bytes.toString('utf8'))
  if (!isObject(body) || !Array.isArray(body.choices)) throw new Error('the vendor answered 200 without a chat.completion')
  return canonicalCompletion(body as unknown as ChatCompletion)
}

/**
 * The OpenAI chunk in one raw SSE event (`data:` lines), or undefined when it holds none. In the
 * canonical shape: an OpenAI-compatible server may speak a dialect the encoders would not read.
 */
function chunkOfRawEvent(raw: Buffer): ChatCompletionChunk | undefined {
  const data = raw.toString('utf8').split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n')
  if (!data || data === '[DONE]') return undefined
  try {
    return canonicalChunk(JSON.parse(data) as ChatCompletionChunk)
  } catch {
    return undefined
  }
}

function clientAskedForUsage(call: CallInfo): boolean {
  const so = call.body.stream_options
  return typeof so === 'object' && so !== null && !Array.isArray(so) && so.include_usage === true
}

async function awsDecoder(): Promise<{ push(chunk: Buffer): StreamEvent[]; end(): StreamEvent[] }> {
  const mod = await import('../upstream/aws-eventstream.ts')
  const d = mod.createAwsEventStreamDecoder()
  return { push: (c) => d.push(c), end: () => [] }
}

function readAll(upstream: UpstreamResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    upstream.body.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        upstream.body.destroy()
        resolve(Buffer.concat(chunks))
        return
      }
      chunks.push(c)
    })
    upstream.body.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    upstream.body.on('error', reject)
  })
}
