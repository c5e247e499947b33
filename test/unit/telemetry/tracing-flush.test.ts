import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SpanKind } from '@opentelemetry/api'
import { createTracing } from '../../../src/telemetry/tracing.ts'
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.ts'

let receiver: OtlpReceiver
beforeAll(async () => {
  receiver = await startOtlpReceiver()
})
afterAll(async () => {
  await receiver?.close()
})

const settings = (url: string) => ({
  url: `${url}/v1/traces`, protocol: 'http/protobuf' as const, headers: {}, serviceName: 'sb-test', resourceAttributes: {},
  sampler: { name: 'always_on' as const, ratio: 1 }, batchDelayMs: 60_000, batchSize: 512, queueSize: 2048,
})

describe('tracing: spans encoded after the event-loop turn', () => {
  it('flush exports spans that ended in the same turn, before their deferred encoding ran', async () => {
    const tracing = await createTracing(settings(receiver.url), 'test')
    const span = tracing.tracer.startRoot('chat m', SpanKind.SERVER, performance.timeOrigin + performance.now(), undefined)
    span.set('gen_ai.operation.name', 'chat')
    span.end(performance.timeOrigin + performance.now())
    // No await between end and flush: the span is still waiting for its turn to end.
    await tracing.flush()
    expect(receiver.spans.map((s) => s.name)).toContain('chat m')
    await tracing.shutdown()
  })

  it('more than a batch of spans in one turn all arrive', async () => {
    const tracing = await createTracing(settings(receiver.url), 'test')
    for (let i = 0; i < 200; i++) tracing.tracer.startRoot(`op ${i}`, SpanKind.SERVER, performance.timeOrigin + performance.now(), undefined).end(performance.timeOrigin + performance.now())
    await tracing.shutdown()
    const names = new Set(receiver.spans.map((s) => s.name))
    for (let i = 0; i < 200; i++) expect(names.has(`op ${i}`)).toBe(true)
  })
})
