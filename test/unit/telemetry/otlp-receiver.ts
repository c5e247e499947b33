/**
 * An in-process OTLP/HTTP trace receiver on 127.0.0.1:0 that decodes the protobuf the gateway's
 * default exporter sends (a minimal wire-format reader for the few OTLP messages involved), so tests
 * assert on exactly what a collector would get.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type AttrValue = string | number | boolean | AttrValue[] | undefined
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  /** 1 internal, 2 server, 3 client. */
  kind: number
  startNs: bigint
  endNs: bigint
  attributes: Record<string, AttrValue>
  /** The OTLP AnyValue field each attribute came in (an int and a double of the same value differ here only). */
  attributeTypes: Record<string, AttrType>
  events: Array<{ name: string; attributes: Record<string, AttrValue> }>
  status: { code: number; message: string }
  resource: Record<string, AttrValue>
}

export type AttrType = 'string' | 'bool' | 'int' | 'double' | 'array' | 'unknown'
const ATTR_TYPES: Record<number, AttrType> = { 1: 'string', 2: 'bool', 3: 'int', 4: 'double', 5: 'array' }

export interface OtlpReceiver {
  url: string
  spans: ReceivedSpan[]
  requests: Array<{ path: string; contentType: string | undefined }>
  /** Waits until `pred` holds over the spans received so far (bounded). */
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>
  close(): Promise<void>
}

export const SPAN_KIND = { SERVER: 2, CLIENT: 3 } as const

// --- protobuf wire format ---------------------------------------------------------------------
type Field = { no: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer }

function readVarint(buf: Buffer, pos: { i: number }): bigint {
  let result = 0n
  let shift = 0n
  for (let n = 0; n < 10; n++) {
    const b = buf[pos.i++]!
    result |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) return result
    shift += 7n
  }
  throw new Error('bad varint')
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = []
  const pos = { i: 0 }
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos))
    const no = key >>> 3
    const wire = key & 7
    if (wire === 0) out.push({ no, wire, varint: readVarint(buf, pos) })
    else if (wire === 1) { out.push({ no, wire, fixed: buf.subarray(pos.i, pos.i + 8) }); pos.i += 8 }
    else if (wire === 5) { out.push({ no, wire, fixed: buf.subarray(pos.i, pos.i + 4) }); pos.i += 4 }
    else if (wire === 2) {
      const len = Number(readVarint(buf, pos))
      out.push({ no, wire, bytes: buf.subarray(pos.i, pos.i + len) })
      pos.i += len
    } else throw new Error(`unsupported wire type ${wire}`)
  }
  return out
}

const str = (f: Field | undefined): string => f?.bytes?.toString('utf8') ?? ''
const hex = (f: Field | undefined): string => f?.bytes?.toString('hex') ?? ''

function anyValue(buf: Buffer): AttrValue {
  const f = fields(buf)[0]
  if (!f) return undefined
  switch (f.no) {
    case 1: return str(f)
    case 2: return f.varint === 1n
    case 3: return Number(BigInt.asIntN(64, f.varint ?? 0n))
    case 4: return f.fixed!.readDoubleLE(0)
    case 5: return fields(f.bytes!).filter((x) => x.no === 1).map((x) => anyValue(x.bytes!))
    default: return undefined
  }
}

function keyValues(list: Field[]): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {}
  for (const kv of list) {
    const fs = fields(kv.bytes!)
    const key = str(fs.find((x) => x.no === 1))
    const v = fs.find((x) => x.no === 2)
    out[key] = v ? anyValue(v.bytes!) : undefined
  }
  return out
}

function keyTypes(list: Field[]): Record<string, AttrType> {
  const out: Record<string, AttrType> = {}
  for (const kv of list) {
    const fs = fields(kv.bytes!)
    const v = fs.find((x) => x.no === 2)
    out[str(fs.find((x) => x.no === 1))] = (v && ATTR_TYPES[fields(v.bytes!)[0]?.no ?? 0]) ?? 'unknown'
  }
  return out
}

function decodeSpan(buf: Buffer, resource: Record<string, AttrValue>): ReceivedSpan {
  const fs = fields(buf)
  const one = (no: number) => fs.find((x) => x.no === no)
  const status = one(15) ? fields(one(15)!.bytes!) : []
  return {
    traceId: hex(one(1)),
    spanId: hex(one(2)),
    parentSpanId: hex(one(4)),
    name: str(one(5)),
    kind: Number(one(6)?.varint ?? 0n),
    startNs: one(7)?.fixed?.readBigUInt64LE(0) ?? 0n,
    endNs: one(8)?.fixed?.readBigUInt64LE(0) ?? 0n,
    attributes: keyValues(fs.filter((x) => x.no === 9)),
    attributeTypes: keyTypes(fs.filter((x) => x.no === 9)),
    events: fs.filter((x) => x.no === 11).map((e) => {
      const ef = fields(e.bytes!)
      return { name: str(ef.find((x) => x.no === 2)), attributes: keyValues(ef.filter((x) => x.no === 3)) }
    }),
    status: { code: Number(status.find((x) => x.no === 3)?.varint ?? 0n), message: str(status.find((x) => x.no === 2)) },
    resource,
  }
}

/** ExportTraceServiceRequest -> spans. */
export function decodeTraceRequest(buf: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = []
  for (const rs of fields(buf).filter((x) => x.no === 1)) {
    const rsf = fields(rs.bytes!)
    const resField = rsf.find((x) => x.no === 1)
    const resource = resField ? keyValues(fields(resField.bytes!).filter((x) => x.no === 1)) : {}
    for (const ss of rsf.filter((x) => x.no === 2)) {
      for (const sp of fields(ss.bytes!).filter((x) => x.no === 2)) spans.push(decodeSpan(sp.bytes!, resource))
    }
  }
  return spans
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const requests: OtlpReceiver['requests'] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] })
      if (req.url === '/v1/traces') spans.push(...decodeTraceRequest(Buffer.concat(chunks)))
      res.writeHead(200, { 'content-type': 'application/x-protobuf' })
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (!pred(spans)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for spans; have: ${spans.map((s) => s.name).join(', ')}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return spans
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
