/**
 * The Observability port: one small object per request feeds the trace (a SERVER span for the
 * request, a CLIENT span per upstream attempt), the Prometheus metrics and the access log. With
 * tracing off no span, context or attribute object is ever created.
 */
import { ROOT_CONTEXT, SpanKind, trace, type Attributes } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { Logger } from 'pino'
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { AttemptObserver, Observability, RequestObserver } from '../core/ports.ts'
import { OPERATION_NAME, requestAttributes, serverAddress } from './genai.ts'
import type { GatewayMetrics } from './metrics.ts'
import type { OtlpMetrics } from './otlp-metrics.ts'
import type { ContentCapture } from './content.ts'
import type { AccessLog } from './access-log.ts'
import { logSpan } from './logger.ts'
import type { LeanSpan, LeanTracer } from './spans.ts'

export interface ObservabilityDeps {
  log: Logger
  /** The access log; undefined when logging.access_log is off. */
  access: AccessLog | undefined
  metrics: GatewayMetrics | undefined
  tracer: LeanTracer | undefined
  /** GenAI metrics over OTLP; undefined unless that export is on. */
  otlpMetrics?: OtlpMetrics | undefined
  /** Configured provider name -> gen_ai.provider.name. */
  providerNames: ReadonlyMap<string, string>
  content: ContentCapture | undefined
}

type Headers = CallInfo['headers']
const NOOP_ATTEMPT: AttemptObserver = { end() {} }
// Only for an incoming traceparent: parsing and validating it, tracestate included.
const propagator = new W3CTraceContextPropagator()
const getter = {
  keys: (h: Headers) => Object.keys(h),
  get: (h: Headers, key: string) => h[key],
}

/** All span times come from one monotonic clock, so children nest exactly (see LeanSpan.startMs). */
const nowMs = (): number => performance.timeOrigin + performance.now()

/** server.address / server.port per upstream origin (one per provider), parsed once. */
const addressCache = new Map<string, Attributes>()
function addressOf(origin: string): Attributes {
  let a = addressCache.get(origin)
  if (!a) {
    a = {}
    serverAddress(origin, a)
    if (addressCache.size < 1024) addressCache.set(origin, a)
  }
  return a
}

/** `{operation} {model}` span names, built once per pair. */
const spanNames = new Map<string, Map<string, string>>()
function spanName(op: string, model: string): string {
  let byModel = spanNames.get(op)
  if (!byModel) spanNames.set(op, (byModel = new Map()))
  let name = byModel.get(model)
  if (name === undefined) {
    name = `${op} ${model}`
    if (byModel.size < 1024) byModel.set(model, name)
  }
  return name
}

export function createObservability(d: ObservabilityDeps): Observability {
  return {
    startRequest: (call) => new RequestTelemetry(d, call),
    refused(info) {
      d.metrics?.refused(info.status, info.team, info.model)
      d.access?.refused(info)
    },
  }
}

class RequestTelemetry implements RequestObserver {
  private readonly d: ObservabilityDeps
  private readonly call: CallInfo
  private readonly span: LeanSpan | undefined
  private firstTokenAt: number | undefined
  private output: Buffer | undefined

  constructor(d: ObservabilityDeps, call: CallInfo) {
    this.d = d
    this.call = call
    if (d.tracer) {
      const op = OPERATION_NAME[call.operation]
      const parentContext = call.headers.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, call.headers, getter)
      const parent = parentContext === ROOT_CONTEXT ? undefined : trace.getSpanContext(parentContext)
      const span = d.tracer.startRoot(spanName(op, call.publicModel), SpanKind.SERVER, nowMs() - (Date.now() - call.startedAt), parent)
      this.span = span
      // A sampled-out request builds no attributes at all.
      if (span.recording) {
        span.set('gen_ai.operation.name', op)
        span.set('gen_ai.request.model', call.publicModel)
        span.set('switchboard.request_id', call.requestId)
        span.set('switchboard.team', call.principal.team)
        span.set('switchboard.key_id', call.principal.keyId)
        span.set('switchboard.stream', call.stream)
        // The convention sets it if and only if the request streams (unset reads as not streaming).
        if (call.stream) span.set('gen_ai.request.stream', true)
        span.set('switchboard.run_id', call.runId)
        const ua = call.headers['user-agent']
        if (typeof ua === 'string') span.set('user_agent.original', ua.length > 256 ? ua.slice(0, 256) : ua)
        const params: Attributes = {}
        requestAttributes(call.body, params)
        if (d.content) d.content.input(call.operation, call.body, params)
        span.setAll(params)
      }
      // Log lines written while serving this request carry its trace and span ids.
      logSpan.enterWith(span)
    }
  }

  attemptStarted(info: { provider: string; upstreamModel: string; attempt: number; serverAddress: string; fallback: boolean }): AttemptObserver {
    const parent = this.span
    if (!parent) return passThroughTraceparent(this.call.headers)
    // Sampled out: no attempt span; the vendor still gets the (unsampled) trace context.
    if (!parent.recording) return { headers: traceHeaders(parent), end() {} }
    const op = OPERATION_NAME[this.call.operation]
    const span = parent.child(spanName(op, info.upstreamModel), SpanKind.CLIENT, nowMs())
    span.set('gen_ai.operation.name', op)
    span.set('gen_ai.provider.name', this.d.providerNames.get(info.provider) ?? info.provider)
    span.set('gen_ai.request.model', info.upstreamModel)
    span.set('switchboard.provider', info.provider)
    span.set('switchboard.attempt', info.attempt)
    span.set('switchboard.fallback', info.fallback)
    span.set('switchboard.run_id', this.call.runId)
    span.setAll(addressOf(info.serverAddress))
    return new AttemptTelemetry(span, traceHeaders(span), this)
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
    this.d.otlpMetrics?.record(this.call, outcome)
    if (this.span) this.endSpan(this.span, outcome, ttftMs, performance.timeOrigin + now)
    this.d.access?.request(this.call, outcome, ttftMs, this.span)
  }

  private endSpan(span: LeanSpan, outcome: CallOutcome, ttftMs: number | undefined, endMs: number): void {
    if (!span.recording) return span.end(endMs)
    span.set('switchboard.cache', outcome.cache)
    span.set('switchboard.attempts', outcome.attempts.length)
    span.set('http.response.status_code', outcome.status)
    const last = outcome.attempts[outcome.attempts.length - 1]
    if (last) span.set('switchboard.fallback', last.fallback)
    if (outcome.provider !== undefined) {
      span.set('gen_ai.provider.name', this.d.providerNames.get(outcome.provider) ?? outcome.provider)
      span.set('switchboard.provider', outcome.provider)
    }
    span.set('gen_ai.response.model', outcome.responseModel ?? outcome.upstreamModel)
    span.set('gen_ai.response.id', outcome.responseId)
    if (outcome.finishReasons && outcome.finishReasons.length > 0) span.set('gen_ai.response.finish_reasons', outcome.finishReasons)
    const u = outcome.usage
    if (u) {
      span.set('gen_ai.usage.input_tokens', u.inputTokens)
      span.set('gen_ai.usage.output_tokens', u.outputTokens)
      if (u.cachedInputTokens > 0) span.set('gen_ai.usage.cache_read.input_tokens', u.cachedInputTokens)
      if (u.cacheWriteTokens > 0) span.set('gen_ai.usage.cache_creation.input_tokens', u.cacheWriteTokens)
      if (u.reasoningTokens > 0) span.set('gen_ai.usage.reasoning.output_tokens', u.reasoningTokens)
    }
    if (outcome.costUsd !== null) span.set('switchboard.cost_usd', outcome.costUsd)
    // The GenAI span attribute (seconds, double); gen_ai.server.time_to_first_token is a metric's name.
    if (ttftMs !== undefined) span.set('gen_ai.response.time_to_first_chunk', ttftMs / 1000)
    if (outcome.clientAborted) span.set('switchboard.client_aborted', true)
    if (outcome.errorCode !== undefined) {
      span.set('error.type', outcome.errorCode)
      // Server-span semantics: a 4xx is the client's error, not ours; 5xx and broken streams are.
      if (outcome.status >= 500 || outcome.status < 400) span.setError(outcome.errorCode)
    }
    if (this.output && this.d.content) {
      const a: Attributes = {}
      this.d.content.output(this.call.operation, this.output, a)
      span.setAll(a)
    }
    span.end(endMs)
  }
}

class AttemptTelemetry implements AttemptObserver {
  readonly headers: Readonly<Record<string, string>>
  private readonly span: LeanSpan
  private readonly request: RequestTelemetry
  constructor(span: LeanSpan, headers: Record<string, string>, request: RequestTelemetry) {
    this.span = span
    this.headers = headers
    this.request = request
  }

  end(result: { status?: number; error?: string; body?: Buffer }): void {
    this.span.set('http.response.status_code', result.status)
    if (result.error !== undefined) {
      this.span.set('error.type', result.error)
      this.span.setError(result.error)
    }
    if (result.body) this.request.responseBody(result.body)
    this.span.end(nowMs())
  }
}

/** traceparent (and tracestate, when the trace carries one) naming `span` as the parent. */
function traceHeaders(span: LeanSpan): Record<string, string> {
  return span.traceState ? { traceparent: span.traceparent(), tracestate: span.traceState } : { traceparent: span.traceparent() }
}

/** Tracing off: an incoming traceparent still reaches the vendor unchanged, so the caller's trace is not cut. */
function passThroughTraceparent(headers: Headers): AttemptObserver {
  const tp = headers.traceparent
  if (typeof tp !== 'string' || !TRACEPARENT.test(tp)) return NOOP_ATTEMPT
  const ts = headers.tracestate
  return { headers: typeof ts === 'string' && ts.length <= 512 ? { traceparent: tp, tracestate: ts } : { traceparent: tp }, end() {} }
}
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/
