/**
 * The Observability port: one small object per request feeds the trace (a SERVER span for the
 * request, a CLIENT span per upstream attempt), the Prometheus metrics and the access log. With
 * tracing off no span, context or attribute object is ever created.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type HrTime, type Span, type Tracer } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { Logger } from 'pino'
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { AttemptObserver, Observability, RequestObserver } from '../core/ports.ts'
import { OPERATION_NAME, requestAttributes, serverAddress } from './genai.ts'
import type { GatewayMetrics } from './metrics.ts'
import type { ContentCapture } from './content.ts'
import { accessLine, refusedLine } from './access-log.ts'
import { logSpan } from './logger.ts'

export interface ObservabilityDeps {
  log: Logger
  /** The access logger: same stream, no path redaction (see accessLoggerFor). */
  access: Logger
  accessLog: boolean
  metrics: GatewayMetrics | undefined
  tracer: Tracer | undefined
  /** Configured provider name -> gen_ai.provider.name. */
  providerNames: ReadonlyMap<string, string>
  content: ContentCapture | undefined
}

type Headers = CallInfo['headers']
const NOOP_ATTEMPT: AttemptObserver = { headers: {}, end() {} }
const propagator = new W3CTraceContextPropagator()
const getter = {
  keys: (h: Headers) => Object.keys(h),
  get: (h: Headers, key: string) => h[key],
}
const setter = { set: (carrier: Record<string, string>, key: string, value: string) => { carrier[key] = value } }

export function createObservability(d: ObservabilityDeps): Observability {
  return {
    startRequest: (call) => new RequestTelemetry(d, call),
    refused(info) {
      d.metrics?.refused(info.status)
      if (d.accessLog) d.access.info(refusedLine(info), 'request refused')
    },
  }
}

class RequestTelemetry implements RequestObserver {
  private readonly d: ObservabilityDeps
  private readonly call: CallInfo
  private readonly span: Span | undefined
  private firstTokenAt: number | undefined
  private output: Buffer | undefined

  constructor(d: ObservabilityDeps, call: CallInfo) {
    this.d = d
    this.call = call
    if (d.tracer) {
      const op = OPERATION_NAME[call.operation]
      const attributes: Attributes = {
        'gen_ai.operation.name': op,
        'gen_ai.request.model': call.publicModel,
        'switchboard.request_id': call.requestId,
        'switchboard.team': call.principal.team,
        'switchboard.key_id': call.principal.keyId,
        'switchboard.stream': call.stream,
      }
      if (call.runId !== undefined) attributes['switchboard.run_id'] = call.runId
      requestAttributes(call.body, attributes)
      if (d.content) d.content.input(call.operation, call.body, attributes)
      const parent = call.headers.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, call.headers, getter)
      // All span times come from one monotonic clock (see hrAt), so children nest exactly.
      this.span = d.tracer.startSpan(`${op} ${call.publicModel}`, { kind: SpanKind.SERVER, attributes, startTime: hrAt(performance.now() - (Date.now() - call.startedAt)) }, parent)
      // Log lines written while serving this request carry its trace and span ids.
      logSpan.enterWith(this.span)
    }
  }

  attemptStarted(info: { provider: string; upstreamModel: string; attempt: number; serverAddress: string; fallback: boolean }): AttemptObserver {
    const tracer = this.d.tracer
    if (!tracer || !this.span) return passThroughTraceparent(this.call.headers)
    if (!this.span.isRecording()) return sampledOut(this.span)
    const op = OPERATION_NAME[this.call.operation]
    const attributes: Attributes = {
      'gen_ai.operation.name': op,
      'gen_ai.provider.name': this.d.providerNames.get(info.provider) ?? info.provider,
      'gen_ai.request.model': info.upstreamModel,
      'switchboard.provider': info.provider,
      'switchboard.attempt': info.attempt,
      'switchboard.fallback': info.fallback,
    }
    if (this.call.runId !== undefined) attributes['switchboard.run_id'] = this.call.runId
    serverAddress(info.serverAddress, attributes)
    const span = tracer.startSpan(`${op} ${info.upstreamModel}`, { kind: SpanKind.CLIENT, attributes, startTime: hrAt(performance.now()) }, trace.setSpan(ROOT_CONTEXT, this.span))
    const headers: Record<string, string> = {}
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter)
    return new AttemptTelemetry(span, headers, this)
  }

  /** Called by an attempt with a complete non-streamed body, kept only when content capture is on. */
  responseBody(body: Buffer): void {
    if (this.d.content) this.output = body
  }

  firstToken(): void {
    this.firstTokenAt = performance.now()
  }

  end(outcome: CallOutcome): void {
    const now = performance.now()
    const ttftMs = this.firstTokenAt === undefined ? undefined : this.firstTokenAt - (now - outcome.durationMs)
    this.d.metrics?.request(this.call, outcome, ttftMs)
    if (this.span) this.endSpan(this.span, outcome, ttftMs, now)
    if (this.d.accessLog) this.d.access.info(accessLine(this.call, outcome, ttftMs), 'request')
  }

  private endSpan(span: Span, outcome: CallOutcome, ttftMs: number | undefined, now: number): void {
    if (!span.isRecording()) return span.end()
    const a: Attributes = {
      'switchboard.cache': outcome.cache,
      'switchboard.attempts': outcome.attempts.length,
      'http.response.status_code': outcome.status,
    }
    const last = outcome.attempts[outcome.attempts.length - 1]
    if (last) a['switchboard.fallback'] = last.fallback
    if (outcome.provider !== undefined) {
      a['gen_ai.provider.name'] = this.d.providerNames.get(outcome.provider) ?? outcome.provider
      a['switchboard.provider'] = outcome.provider
    }
    if (outcome.responseModel !== undefined) a['gen_ai.response.model'] = outcome.responseModel
    else if (outcome.upstreamModel !== undefined) a['gen_ai.response.model'] = outcome.upstreamModel
    if (outcome.responseId !== undefined) a['gen_ai.response.id'] = outcome.responseId
    if (outcome.finishReasons && outcome.finishReasons.length > 0) a['gen_ai.response.finish_reasons'] = outcome.finishReasons
    const u = outcome.usage
    if (u) {
      a['gen_ai.usage.input_tokens'] = u.inputTokens
      a['gen_ai.usage.output_tokens'] = u.outputTokens
      if (u.cachedInputTokens > 0) a['gen_ai.usage.cache_read.input_tokens'] = u.cachedInputTokens
      if (u.cacheWriteTokens > 0) a['gen_ai.usage.cache_creation.input_tokens'] = u.cacheWriteTokens
      if (u.reasoningTokens > 0) a['gen_ai.usage.reasoning.output_tokens'] = u.reasoningTokens
    }
    if (outcome.costUsd !== null) a['switchboard.cost_usd'] = outcome.costUsd
    if (ttftMs !== undefined) a['gen_ai.server.time_to_first_token'] = ttftMs / 1000
    if (outcome.clientAborted) a['switchboard.client_aborted'] = true
    if (outcome.errorCode !== undefined) {
      a['error.type'] = outcome.errorCode
      // Server-span semantics: a 4xx is the client's error, not ours; 5xx and broken streams are.
      if (outcome.status >= 500 || outcome.status < 400) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorCode })
    }
    if (this.output && this.d.content) this.d.content.output(this.call.operation, this.output, a)
    span.setAttributes(a)
    span.end(hrAt(now))
  }
}

class AttemptTelemetry implements AttemptObserver {
  readonly headers: Readonly<Record<string, string>>
  private readonly span: Span
  private readonly request: RequestTelemetry
  constructor(span: Span, headers: Record<string, string>, request: RequestTelemetry) {
    this.span = span
    this.headers = headers
    this.request = request
  }

  end(result: { status?: number; error?: string; body?: Buffer }): void {
    if (result.status !== undefined) this.span.setAttribute('http.response.status_code', result.status)
    if (result.error !== undefined) {
      this.span.setAttribute('error.type', result.error)
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: result.error })
    }
    if (result.body) this.request.responseBody(result.body)
    this.span.end(hrAt(performance.now()))
  }
}

/**
 * A performance.now() reading as OTel HrTime. The SDK mixes Date.now() (ms) and performance.now()
 * per span, which lets a parent appear to end before its child; one clock for all of ours avoids it.
 */
function hrAt(perfNow: number): HrTime {
  const ms = performance.timeOrigin + perfNow
  const sec = Math.floor(ms / 1000)
  return [sec, Math.round((ms - sec * 1000) * 1e6)]
}

/** A sampled-out request: no attempt spans; the vendor still gets the (unsampled) trace context. */
function sampledOut(span: Span): AttemptObserver {
  const headers: Record<string, string> = {}
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter)
  return { headers, end() {} }
}

/** Tracing off: an incoming traceparent still reaches the vendor unchanged, so the caller's trace is not cut. */
function passThroughTraceparent(headers: Headers): AttemptObserver {
  const tp = headers.traceparent
  if (typeof tp !== 'string' || !TRACEPARENT.test(tp)) return NOOP_ATTEMPT
  const ts = headers.tracestate
  return { headers: typeof ts === 'string' && ts.length <= 512 ? { traceparent: tp, tracestate: ts } : { traceparent: tp }, end() {} }
}
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/
