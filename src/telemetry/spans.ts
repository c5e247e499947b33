/**
 * The request path's spans. The OpenTelemetry SDK's span costs an attribute object that is copied
 * and validated on every set, a context object per parent lookup, and a ReadableSpan graph kept
 * until its batch is serialized; at gateway request rates that was most of tracing's CPU. A
 * LeanSpan is the data a span needs: ids, name, kind, times, status and its attributes as a flat
 * [key, value, ...] list, handed to a sink when it ends (see otlp-proto.ts for the default one,
 * which encodes it there and then). Sampling is ours (sampler.ts); the SDK's exporters still send
 * every protocol, through the SDK's batch span processor.
 */
import { randomFillSync } from 'node:crypto'
import { TraceFlags, type Attributes, type HrTime, type SpanContext, type SpanKind, type TraceState } from '@opentelemetry/api'
import type { Resource } from '@opentelemetry/resources'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'
import type { Sampler } from './sampler.ts'

export type AttrValue = string | number | boolean | readonly string[]

/** Where ended, sampled spans go. */
export interface SpanSink {
  onEnd(span: LeanSpan): void
}

export const STATUS_ERROR = 2

export class LeanSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly parentRemote: boolean
  /** W3C trace flags: 1 = sampled. */
  readonly traceFlags: number
  /** The serialized W3C tracestate carried along (empty when none). */
  readonly traceState: string
  private readonly traceStateObj: TraceState | undefined
  /** False for a sampled-out span: it only carries context (logs, traceparent upstream). */
  readonly recording: boolean
  readonly name: string
  readonly kind: SpanKind
  /** Epoch milliseconds on the monotonic clock (performance.timeOrigin + performance.now()). */
  readonly startMs: number
  endMs = 0
  /** Attributes as [key, value, key, value, ...]; a later value of the same key wins. */
  readonly attrs: Array<string | AttrValue> = []
  statusCode = 0
  statusMessage: string | undefined = undefined
  private ended = false
  private readonly sink: SpanSink
  private ctx: SpanContext | undefined

  constructor(sink: SpanSink, name: string, kind: SpanKind, startMs: number, traceId: string, spanId: string, parent: { spanId: string; remote: boolean } | undefined, traceFlags: number, recording: boolean, traceState: TraceState | undefined) {
    this.sink = sink
    this.name = name
    this.kind = kind
    this.startMs = startMs
    this.traceId = traceId
    this.spanId = spanId
    this.parentSpanId = parent?.spanId
    this.parentRemote = parent?.remote ?? false
    this.traceFlags = traceFlags
    this.recording = recording
    this.traceStateObj = traceState
    this.traceState = traceState ? traceState.serialize() : ''
  }

  set(key: string, value: AttrValue | undefined): void {
    if (value !== undefined) this.attrs.push(key, value)
  }

  /** Copies an attribute object (content capture, request parameters); undefined values are skipped. */
  setAll(a: Attributes): void {
    for (const k in a) {
      const v = a[k]
      if (v !== undefined && v !== null) this.attrs.push(k, v as AttrValue)
    }
  }

  setError(message: string): void {
    this.statusCode = STATUS_ERROR
    this.statusMessage = message
  }

  end(endMs: number): void {
    if (this.ended) return
    this.ended = true
    this.endMs = endMs
    if (this.recording && (this.traceFlags & TraceFlags.SAMPLED) !== 0) this.sink.onEnd(this)
  }

  spanContext(): SpanContext {
    return (this.ctx ??= { traceId: this.traceId, spanId: this.spanId, traceFlags: this.traceFlags, traceState: this.traceStateObj, isRemote: false })
  }

  /** The W3C traceparent naming this span as the parent. */
  traceparent(): string {
    return `00-${this.traceId}-${this.spanId}-${this.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`
  }

  /** A child that inherits this span's sampling decision (what every sampler we offer decides for a local child). */
  child(name: string, kind: SpanKind, startMs: number): LeanSpan {
    return new LeanSpan(this.sink, name, kind, startMs, this.traceId, ids.span(), { spanId: this.spanId, remote: false }, this.traceFlags, this.recording, this.traceStateObj)
  }
}

/** Random ids from a pool filled by the CSPRNG 4 KiB at a time. */
const ids = (() => {
  const pool = Buffer.allocUnsafe(4096)
  let pos = pool.length
  const take = (n: number): string => {
    if (pos + n > pool.length) {
      randomFillSync(pool)
      pos = 0
    }
    const start = pos
    pos += n
    // An all-zero id is invalid; make the last byte non-zero in that (2^-64) case.
    let zero = true
    for (let i = start; i < pos; i++) if (pool[i] !== 0) { zero = false; break }
    if (zero) pool[pos - 1] = 1
    return pool.toString('hex', start, pos)
  }
  return { trace: () => take(16), span: () => take(8) }
})()

export class LeanTracer {
  private readonly sampler: Sampler
  private readonly sink: SpanSink
  constructor(sampler: Sampler, sink: SpanSink) {
    this.sampler = sampler
    this.sink = sink
  }

  /**
   * A root span, or a child of a remote parent (the context extracted from the request). The
   * sampler sees only the trace id and the parent's flag, so a sampled-out request never builds
   * any attribute.
   */
  startRoot(name: string, kind: SpanKind, startMs: number, parent: SpanContext | undefined): LeanSpan {
    const traceId = parent ? parent.traceId : ids.trace()
    const sampled = this.sampler(traceId, parent ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0 : undefined)
    return new LeanSpan(this.sink, name, kind, startMs, traceId, ids.span(), parent ? { spanId: parent.spanId, remote: true } : undefined, sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, sampled, parent?.traceState)
  }
}

/** A performance.now()-based epoch millisecond value as OTel HrTime. */
export function hrTime(ms: number): HrTime {
  const sec = Math.floor(ms / 1000)
  const nanos = Math.round((ms - sec * 1000) * 1e6)
  return nanos >= 1e9 ? [sec + 1, nanos - 1e9] : [sec, nanos]
}

/** The SDK's view of an ended span, for the SDK exporters (OTLP/JSON and gRPC). */
export function toReadableSpan(s: LeanSpan, resource: Resource, scope: { name: string; version: string }): ReadableSpan {
  const attributes: Attributes = {}
  for (let i = 0; i < s.attrs.length; i += 2) attributes[s.attrs[i] as string] = s.attrs[i + 1] as AttrValue
  const ctx = s.spanContext()
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => ctx,
    parentSpanContext: s.parentSpanId === undefined ? undefined : { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: s.traceFlags, isRemote: s.parentRemote },
    startTime: hrTime(s.startMs),
    endTime: hrTime(s.endMs),
    status: s.statusMessage === undefined ? { code: s.statusCode } : { code: s.statusCode, message: s.statusMessage },
    attributes,
    links: [],
    events: [],
    duration: hrTime(s.endMs - s.startMs),
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  }
}
