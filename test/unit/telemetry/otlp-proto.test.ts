/**
 * The request path's OTLP/protobuf encoding (telemetry/otlp-proto.ts) against the OpenTelemetry
 * SDK's own serializer fed the same spans as SDK ReadableSpans (the path http/json and gRPC take):
 * both decoded by the test receiver must be identical, across the value types, length prefixes of
 * one, two and three bytes, non-ASCII text, a remote parent with tracestate, and error status.
 */
import { describe, expect, it } from 'vitest'
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { LeanTracer, toReadableSpan, type LeanSpan } from '../../../src/telemetry/spans.ts'
import { createSampler } from '../../../src/telemetry/sampler.ts'
import { encodeEnvelope, encodeRequest, encodeSpan } from '../../../src/telemetry/otlp-proto.ts'
import { decodeTraceRequest } from './otlp-receiver.ts'

function spans(): LeanSpan[] {
  const ended: LeanSpan[] = []
  const tracer = new LeanTracer(createSampler({ name: 'parentbased_always_on', ratio: 1 }), { onEnd: (s) => ended.push(s) })
  const t0 = 1_764_000_000_123.456789
  const root = tracer.startRoot('chat gpt-4o', SpanKind.SERVER, t0, undefined)
  root.set('gen_ai.operation.name', 'chat')
  root.set('switchboard.stream', false)
  root.set('gen_ai.usage.input_tokens', 1200)
  root.set('switchboard.cost_usd', 0.0061)
  root.set('big.int', 2 ** 40 + 3)
  root.set('negative', -7)
  root.set('gen_ai.response.finish_reasons', ['stop', 'length'])
  root.set('unicode', 'héllo wörld ✓ 日本')
  root.set('long', 'x'.repeat(300))
  root.set('longer', 'y€'.repeat(9000))
  // Around the one-pass KeyValue's limits: key and value filling 120 and 121 bytes, integers at
  // varint-size steps and at 2^28, both booleans, a non-ASCII character after ASCII ones.
  root.set('k', 'a'.repeat(120 - 3))
  root.set('k2', 'b'.repeat(121 - 4))
  for (const v of [0, 127, 128, 16_383, 16_384, 2 ** 28 - 1, 2 ** 28]) root.set(`int.${v}`, v)
  root.set('yes', true)
  root.set('ascii.then.other', 'abc\u00e9')
  root.set('dup', 'first')
  root.set('dup', 'second')
  root.set('skipped', undefined)
  root.setAll({ 'gen_ai.request.temperature': 0.3, 'gen_ai.request.max_tokens': 64 })
  const child = root.child('chat gpt-4o-2024-08-06', SpanKind.CLIENT, t0 + 1.5)
  child.set('http.response.status_code', 503)
  child.set('error.type', 'overloaded')
  child.setError('overloaded')
  child.end(t0 + 20.25)
  root.setError('upstream_error')
  root.end(t0 + 2210.5)

  const propagator = new W3CTraceContextPropagator()
  const ctx = propagator.extract(ROOT_CONTEXT, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=abc' }, {
    keys: (h: Record<string, string>) => Object.keys(h), get: (h: Record<string, string>, k: string) => h[k],
  })
  const remote = tracer.startRoot('embeddings e5', SpanKind.SERVER, t0 + 5000, trace.getSpanContext(ctx))
  remote.set('a', 'b')
  remote.end(t0 + 5000.000001)
  return ended
}

describe('OTLP/protobuf encoding of lean spans', () => {
  it('decodes to exactly what the SDK serializer produces for the same spans', () => {
    const ended = spans()
    expect(ended).toHaveLength(3)
    const version = '1.2.3'
    const ours = Buffer.from(encodeRequest(encodeEnvelope({ 'service.name': 'sb', 'service.version': version }, 'switchboard', version), ended.map(encodeSpan)))
    const resource = resourceFromAttributes({ 'service.name': 'sb', 'service.version': version })
    const sdk = Buffer.from(ProtobufTraceSerializer.serializeRequest(ended.map((s) => toReadableSpan(s, resource, { name: 'switchboard', version })))!)
    const a = decodeTraceRequest(ours)
    const b = decodeTraceRequest(sdk)
    expect(a).toEqual(b)

    const [client, server, remote] = a
    expect(server!.attributes).toMatchObject({ dup: 'second', unicode: 'héllo wörld ✓ 日本', 'big.int': 2 ** 40 + 3, negative: -7, 'switchboard.cost_usd': 0.0061, 'gen_ai.response.finish_reasons': ['stop', 'length'] })
    expect(server!.attributes.longer).toBe('y€'.repeat(9000))
    expect('skipped' in server!.attributes).toBe(false)
    expect(server!.status).toEqual({ code: 2, message: 'upstream_error' })
    // Epoch milliseconds as a double resolve to about a quarter of a microsecond.
    const near = (ns: bigint, want: bigint) => expect(ns > want - 500n && ns < want + 500n, `${ns} vs ${want}`).toBe(true)
    near(server!.startNs, 1_764_000_000_123_456_789n)
    near(server!.endNs, 1_764_000_002_333_956_789n)
    near(client!.startNs, 1_764_000_000_124_956_789n)
    expect(client!.parentSpanId).toBe(server!.spanId)
    expect(client!.traceId).toBe(server!.traceId)
    expect(client!.kind).toBe(3)
    expect(remote!.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(remote!.parentSpanId).toBe('00f067aa0ba902b7')
    expect(remote!.resource).toEqual({ 'service.name': 'sb', 'service.version': version })
    // tracestate travels on the span (field 3), as the SDK writes it.
    expect(ours.includes(Buffer.from('vendor=abc'))).toBe(true)
    expect(sdk.includes(Buffer.from('vendor=abc'))).toBe(true)
  })

  it('a span too big for the rest of a slab starts a new one; earlier spans keep their bytes', () => {
    const ended = spans()
    const first = encodeSpan(ended[1]!)
    const many = Array.from({ length: 40 }, () => encodeSpan(ended[1]!))
    const all = decodeTraceRequest(Buffer.from(encodeRequest(encodeEnvelope({ 'service.name': 'sb' }, 'switchboard', '1'), [first, ...many])))
    expect(all).toHaveLength(41)
    expect(new Set(many.map((m) => m.slab)).size).toBeGreaterThan(1)
    for (const s of all) expect(s.attributes.longer).toBe('y€'.repeat(9000))
  })

  it('attributes the conventions type as double are doubles even when whole; other whole numbers stay ints', () => {
    const ended: LeanSpan[] = []
    const tracer = new LeanTracer(createSampler({ name: 'always_on', ratio: 1 }), { onEnd: (s) => ended.push(s) })
    const span = tracer.startRoot('chat m', SpanKind.SERVER, 1_764_000_000_000, undefined)
    span.setAll({ 'gen_ai.request.temperature': 0, 'gen_ai.request.top_p': 1, 'gen_ai.request.frequency_penalty': 0, 'gen_ai.request.presence_penalty': -2, 'gen_ai.request.max_tokens': 64, 'gen_ai.request.top_k': 40 })
    span.set('switchboard.cost_usd', 0)
    span.set('gen_ai.response.time_to_first_chunk', 2)
    span.set('gen_ai.usage.input_tokens', 10)
    span.end(1_764_000_000_001)
    const [got] = decodeTraceRequest(Buffer.from(encodeRequest(encodeEnvelope({ 'service.name': 'sb' }, 'switchboard', '1'), ended.map(encodeSpan))))
    expect(got!.attributes).toMatchObject({ 'gen_ai.request.temperature': 0, 'gen_ai.request.top_p': 1, 'gen_ai.request.presence_penalty': -2, 'switchboard.cost_usd': 0, 'gen_ai.response.time_to_first_chunk': 2 })
    expect(got!.attributeTypes).toEqual({
      'gen_ai.request.temperature': 'double', 'gen_ai.request.top_p': 'double', 'gen_ai.request.frequency_penalty': 'double', 'gen_ai.request.presence_penalty': 'double',
      'switchboard.cost_usd': 'double', 'gen_ai.response.time_to_first_chunk': 'double',
      // int in the conventions (top_k is int in the current GenAI conventions).
      'gen_ai.request.max_tokens': 'int', 'gen_ai.request.top_k': 'int', 'gen_ai.usage.input_tokens': 'int',
    })
  })
})
