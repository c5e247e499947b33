/**
 * Issue 9, point 1 (gRPC optional): with telemetry.otlp_protocol: grpc the gateway exports its spans
 * over OTLP/gRPC. The receiver is a real gRPC server on loopback (@grpc/grpc-js, already installed
 * with the OTel SDK) serving TraceService/Export with raw bytes, decoded by the same protobuf reader
 * the HTTP receiver uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Server, ServerCredentials, type ServiceDefinition, type handleUnaryCall } from '@grpc/grpc-js'
import { startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { decodeTraceRequest, SPAN_KIND, type ReceivedSpan } from '../unit/telemetry/otlp-receiver.ts'

const KEY = 'sk-sb-audit9-grpc-key-000001'

const identity = (b: Buffer): Buffer => b
const service: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
}

let server: Server
let grpcPort: number
const spans: ReceivedSpan[] = []
const metadata: Array<Record<string, unknown>> = []
let vendor: StandIn
let gw: TestGateway

beforeAll(async () => {
  server = new Server()
  const exportHandler: handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    metadata.push(call.metadata.getMap())
    spans.push(...decodeTraceRequest(call.request))
    callback(null, Buffer.alloc(0)) // an empty ExportTraceServiceResponse
  }
  server.addService(service, { Export: exportHandler })
  grpcPort = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))))
  vendor = await startStandIn()
  gw = await startTestGateway(`
providers:
  up: { type: openai, base_url: ${vendor.url}/v1, keys: ["sk-vendor"] }
models:
  gpt-test: { targets: [{ provider: up, model: upstream-model }] }
routing: { retries: { max_attempts: 1 } }
telemetry: { otlp_endpoint: "http://127.0.0.1:${grpcPort}", otlp_protocol: grpc, service_name: sb-grpc }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`, { OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-auth=grpc%20secret' })
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
  await new Promise<void>((r) => server?.tryShutdown(() => r()))
})

describe('OTLP over gRPC', () => {
  it('exports the SERVER and CLIENT spans of a request, with the resource', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-switchboard-run-id': 'grpc-run-1' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(res.status).toBe(200)
    await res.text()
    const mine = () => spans.filter((s) => s.attributes['switchboard.run_id'] === 'grpc-run-1')
    for (let i = 0; i < 200 && mine().length < 2; i++) await new Promise((r) => setTimeout(r, 25))
    const server = mine().find((s) => s.kind === SPAN_KIND.SERVER)
    const client = mine().find((s) => s.kind === SPAN_KIND.CLIENT)
    expect(server?.name).toBe('chat gpt-test')
    expect(server?.resource['service.name']).toBe('sb-grpc')
    expect(server?.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 10, 'switchboard.team': 't' })
    expect(client?.name).toBe('chat upstream-model')
    expect(client?.parentSpanId).toBe(server?.spanId)
    expect(metadata.length).toBeGreaterThan(0)
    // The configured headers go out as gRPC metadata on every export.
    for (const m of metadata) expect(m['x-collector-auth']).toBe('grpc secret')
  })
})
