/**
 * OTLP/protobuf encoding of our spans (opentelemetry/proto trace/v1), written for the request path:
 * a span is encoded once, when it ends, into a shared slab, and an export request is then a few
 * memory copies. Attribute keys are a small fixed set, so their KeyValue.key bytes are encoded once
 * and copied. The SDK's serializer instead walks every buffered span object twice (size estimate,
 * then write) at export time, which kept two span object graphs per request alive until the batch
 * left and cost more CPU than the rest of tracing together.
 */
import type { AttrValue, LeanSpan } from './spans.ts'

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_LEN = 2
const WIRE_FIXED32 = 5
const tagByte = (field: number, wire: number): number => (field << 3) | wire

/** Span.flags: the W3C trace flags plus "has is_remote", and "is_remote" for a remote parent. */
const FLAG_HAS_IS_REMOTE = 0x100
const FLAG_IS_REMOTE = 0x200

const varintSize = (v: number): number => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5)

/** A growable byte writer for one span at a time; reused, so encoding allocates nothing per span. */
class Writer {
  buf: Buffer
  pos = 0
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size)
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  byte(b: number): void {
    this.ensure(1)
    this.buf[this.pos++] = b
  }

  /** An unsigned varint below 2^32 (tags, lengths, counts). */
  uvarint(v: number): void {
    this.ensure(5)
    const b = this.buf
    while (v > 0x7f) {
      b[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    b[this.pos++] = v
  }

  /** An int64 varint (two's complement for negatives, as protobuf encodes int64). */
  int64(v: number): void {
    if (v >= 0 && v <= 0xffffffff) return this.uvarint(v)
    this.ensure(10)
    let low: number
    let high: number
    if (v >= 0) {
      low = v >>> 0
      high = Math.floor(v / 4294967296) >>> 0
    } else {
      const abs = -v
      low = ~(abs >>> 0) >>> 0
      high = ~(Math.floor(abs / 4294967296) >>> 0) >>> 0
      low = (low + 1) >>> 0
      if (low === 0) high = (high + 1) >>> 0
    }
    const b = this.buf
    while (high > 0 || low > 0x7f) {
      b[this.pos++] = (low & 0x7f) | 0x80
      low = ((low >>> 7) | (high << 25)) >>> 0
      high >>>= 7
    }
    b[this.pos++] = low
  }

  double(v: number): void {
    this.ensure(8)
    this.buf.writeDoubleLE(v, this.pos)
    this.pos += 8
  }

  fixed32(v: number): void {
    this.ensure(4)
    this.buf.writeUInt32LE(v >>> 0, this.pos)
    this.pos += 4
  }

  /** Epoch milliseconds (fractional) as fixed64 Unix nanoseconds, exact over the whole range. */
  timeNs(ms: number): void {
    const sec = Math.floor(ms / 1000)
    let nanos = Math.round((ms - sec * 1000) * 1e6)
    let s = sec
    if (nanos >= 1e9) {
      s += 1
      nanos -= 1e9
    }
    // s * 1e9 + nanos split into 32-bit halves without losing precision (s * 1e9 exceeds 2^53).
    const sLow = s & 0xffff
    const sHigh = Math.floor(s / 65536)
    const fromLow = sLow * 1e9
    const fromHigh = sHigh * 1e9
    const lowPart = (fromLow >>> 0) + (((fromHigh % 65536) * 65536) >>> 0) + nanos
    const low = lowPart >>> 0
    const high = (Math.floor(fromLow / 4294967296) + Math.floor(fromHigh / 65536) + Math.floor(lowPart / 4294967296)) >>> 0
    this.ensure(8)
    this.buf.writeUInt32LE(low, this.pos)
    this.buf.writeUInt32LE(high, this.pos + 4)
    this.pos += 8
  }

  /** A length-delimited UTF-8 string (the length prefix included). */
  string(s: string): void {
    const n = s.length
    this.ensure(n * 3 + 5)
    if (n < 64) {
      // Short ASCII strings (ids, names, codes): a byte loop beats a call into C++.
      const start = this.pos
      const b = this.buf
      let p = start + 1
      let i = 0
      for (; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c > 0x7f) break
        b[p++] = c
      }
      if (i === n) {
        b[start] = n
        this.pos = p
        return
      }
    }
    const len = Buffer.byteLength(s, 'utf8')
    this.uvarint(len)
    this.buf.write(s, this.pos, len, 'utf8')
    this.pos += len
  }

  /** Lower-case hex id (32 or 16 digits) as a length-delimited bytes field. */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1
    this.ensure(n + 1)
    const b = this.buf
    b[this.pos++] = n
    for (let i = 0; i < hex.length; i += 2) b[this.pos++] = (HEX[hex.charCodeAt(i)]! << 4) | HEX[hex.charCodeAt(i + 1)]!
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length)
    if (bytes.length < 48) {
      const b = this.buf
      for (let i = 0; i < bytes.length; i++) b[this.pos++] = bytes[i]!
    } else {
      this.buf.set(bytes, this.pos)
      this.pos += bytes.length
    }
  }

  /** Reserves one byte for a length; most nested messages here are under 128 bytes. */
  beginLen(): number {
    this.ensure(1)
    return this.pos++
  }

  /** Writes the length of what follows `at`, moving the content when the length needs more than one byte. */
  endLen(at: number): void {
    const len = this.pos - at - 1
    const size = varintSize(len)
    if (size > 1) {
      this.ensure(size - 1)
      this.buf.copy(this.buf, at + size, at + 1, this.pos)
      this.pos += size - 1
    }
    let p = at
    let v = len
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    this.buf[p] = v
  }
}

/** Hex digit value by character code (ids are validated lower-case hex; anything else reads as 0). */
const HEX = new Uint8Array(128)
for (let i = 0; i < 10; i++) HEX[48 + i] = i
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i

/**
 * Attributes the conventions type as double. JavaScript has one number type, and a whole value
 * (temperature 0, top_p 1, a cost of 0) would otherwise go out as an int: one attribute with two
 * types splits or drops it in typed backends, and `temperature = 0.0` misses the most common value.
 */
export const DOUBLE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'gen_ai.request.temperature', 'gen_ai.request.top_p', 'gen_ai.request.frequency_penalty', 'gen_ai.request.presence_penalty',
  'gen_ai.response.time_to_first_chunk', 'switchboard.cost_usd',
])

/** An attribute name as KeyValue.key (tag, length, bytes), and whether its numbers are always doubles. */
interface Key { bytes: Buffer; double: boolean }

/** Per attribute name, built on first use: the type is known per key at the cost of the lookup the key bytes already need. */
const keys = new Map<string, Key>()
function keyOf(key: string): Key {
  let k = keys.get(key)
  if (k === undefined) {
    const w = new Writer(key.length * 3 + 8)
    w.byte(tagByte(1, WIRE_LEN))
    w.string(key)
    k = { bytes: Buffer.from(w.buf.subarray(0, w.pos)), double: DOUBLE_ATTRIBUTES.has(key) }
    // Attribute names are code constants; a bounded cache keeps a surprise from growing it forever.
    if (keys.size < 4096) keys.set(key, k)
  }
  return k
}

/** AnyValue (its fields, not the enclosing length); a number as a double when `double`, whole or not. */
function anyValue(w: Writer, v: AttrValue | null | undefined, double = false): void {
  if (double && typeof v === 'number') {
    w.byte(tagByte(4, WIRE_FIXED64))
    w.double(v)
  } else if (typeof v === 'string') {
    w.byte(tagByte(1, WIRE_LEN))
    w.string(v)
  } else if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) {
      w.byte(tagByte(3, WIRE_VARINT))
      w.int64(v)
    } else {
      w.byte(tagByte(4, WIRE_FIXED64))
      w.double(v)
    }
  } else if (typeof v === 'boolean') {
    w.byte(tagByte(2, WIRE_VARINT))
    w.byte(v ? 1 : 0)
  } else if (Array.isArray(v)) {
    w.byte(tagByte(5, WIRE_LEN))
    const arr = w.beginLen()
    for (const item of v as readonly AttrValue[]) {
      w.byte(tagByte(1, WIRE_LEN))
      const at = w.beginLen()
      anyValue(w, item)
      w.endLen(at)
    }
    w.endLen(arr)
  }
}

/** Repeated KeyValue under `field`, from a flat [key, value, key, value...] list; the last value of a key wins. */
function attributes(w: Writer, field: number, attrs: ReadonlyArray<string | AttrValue>): void {
  const n = attrs.length
  const tag = tagByte(field, WIRE_LEN)
  outer: for (let i = 0; i < n; i += 2) {
    const key = attrs[i] as string
    for (let j = i + 2; j < n; j += 2) if (attrs[j] === key) continue outer
    const k = keyOf(key)
    const v = attrs[i + 1] as AttrValue
    if (!k.double && shortKeyValue(w, tag, k.bytes, v)) continue
    w.byte(tag)
    const kv = w.beginLen()
    w.raw(k.bytes)
    w.byte(tagByte(2, WIRE_LEN))
    const val = w.beginLen()
    anyValue(w, v, k.double)
    w.endLen(val)
    w.endLen(kv)
  }
}

/**
 * Most attributes are a short ASCII string, a small non-negative integer or a boolean: every
 * length of their KeyValue is known before writing and fits one byte, so it is written in one
 * pass (no length to patch, no dispatch per field). False when the value is not such a one.
 */
function shortKeyValue(w: Writer, tag: number, kb: Buffer, v: AttrValue): boolean {
  const k = kb.length
  let valueLen: number
  if (typeof v === 'string') {
    const n = v.length
    if (k + n > 120) return false
    w.ensure(k + n + 6)
    const b = w.buf
    let p = w.pos + k + 6
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i)
      if (c > 0x7f) return false
      b[p++] = c
    }
    b[p - n - 2] = tagByte(1, WIRE_LEN)
    b[p - n - 1] = n
    valueLen = n + 2
  } else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 0x10000000) {
    if (k > 110) return false
    const size = varintSize(v)
    w.ensure(k + size + 5)
    const b = w.buf
    let p = w.pos + k + 4
    b[p++] = tagByte(3, WIRE_VARINT)
    let x = v
    while (x > 0x7f) {
      b[p++] = (x & 0x7f) | 0x80
      x >>>= 7
    }
    b[p] = x
    valueLen = size + 1
  } else if (typeof v === 'boolean') {
    if (k > 110) return false
    w.ensure(k + 6)
    const b = w.buf
    b[w.pos + k + 4] = tagByte(2, WIRE_VARINT)
    b[w.pos + k + 5] = v ? 1 : 0
    valueLen = 2
  } else {
    return false
  }
  const b = w.buf
  let p = w.pos
  b[p++] = tag
  b[p++] = k + 2 + valueLen
  for (let i = 0; i < k; i++) b[p++] = kb[i]!
  b[p++] = tagByte(2, WIRE_LEN)
  b[p++] = valueLen
  w.pos = p + valueLen
  return true
}

const scratch = new Writer(4096)

/** Span.kind in OTLP is the API's SpanKind + 1. */
function encodeSpanBody(w: Writer, s: LeanSpan): void {
  w.byte(tagByte(1, WIRE_LEN))
  w.hexBytes(s.traceId)
  w.byte(tagByte(2, WIRE_LEN))
  w.hexBytes(s.spanId)
  if (s.traceState) {
    w.byte(tagByte(3, WIRE_LEN))
    w.string(s.traceState)
  }
  if (s.parentSpanId !== undefined) {
    w.byte(tagByte(4, WIRE_LEN))
    w.hexBytes(s.parentSpanId)
  }
  w.byte(tagByte(5, WIRE_LEN))
  w.string(s.name)
  w.byte(tagByte(6, WIRE_VARINT))
  w.uvarint(s.kind + 1)
  w.byte(tagByte(7, WIRE_FIXED64))
  w.timeNs(s.startMs)
  w.byte(tagByte(8, WIRE_FIXED64))
  w.timeNs(s.endMs)
  attributes(w, 9, s.attrs)
  w.byte(tagByte(15, WIRE_LEN))
  const st = w.beginLen()
  if (s.statusMessage) {
    w.byte(tagByte(2, WIRE_LEN))
    w.string(s.statusMessage)
  }
  w.byte(tagByte(3, WIRE_VARINT))
  w.uvarint(s.statusCode)
  w.endLen(st)
  // Field 16 (fixed32) needs a two-byte tag.
  w.uvarint(tagByte(16, WIRE_FIXED32))
  w.fixed32((s.traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | (s.parentRemote ? FLAG_IS_REMOTE : 0))
}

const SAMPLED_CONTEXT = Object.freeze({ traceId: '', spanId: '', traceFlags: 1 })
const NO_RESOURCE = Object.freeze({})

/**
 * An ended span as ScopeSpans.spans bytes (tag, length, Span), kept in a shared slab until exported.
 * It goes through the SDK's BatchSpanProcessor, which reads only spanContext().traceFlags and
 * resource.asyncAttributesPending of what it queues; everything else it hands to the exporter.
 */
export class EncodedSpan {
  readonly slab: Buffer
  readonly start: number
  readonly end: number
  constructor(slab: Buffer, start: number, end: number) {
    this.slab = slab
    this.start = start
    this.end = end
  }

  spanContext(): { traceId: string; spanId: string; traceFlags: number } {
    return SAMPLED_CONTEXT
  }

  get resource(): object {
    return NO_RESOURCE
  }
}

const SLAB_SIZE = 256 * 1024
let slab = Buffer.allocUnsafe(SLAB_SIZE)
let slabPos = 0

export function encodeSpan(s: LeanSpan): EncodedSpan {
  scratch.pos = 0
  encodeSpanBody(scratch, s)
  const len = scratch.pos
  const need = 1 + varintSize(len) + len
  if (slabPos + need > slab.length) {
    // Spans already handed out keep the old slab alive until their batch is exported.
    slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, need))
    slabPos = 0
  }
  const start = slabPos
  let p = start
  slab[p++] = tagByte(2, WIRE_LEN)
  let v = len
  while (v > 0x7f) {
    slab[p++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  slab[p++] = v
  scratch.buf.copy(slab, p, 0, len)
  slabPos = p + len
  return new EncodedSpan(slab, start, slabPos)
}

/** Resource { attributes } and InstrumentationScope { name, version }, each with its field tag, encoded once. */
export function encodeEnvelope(resource: Readonly<Record<string, string>>, scopeName: string, scopeVersion: string): { resource: Buffer; scope: Buffer } {
  const w = new Writer(512)
  w.byte(tagByte(1, WIRE_LEN))
  const r = w.beginLen()
  attributes(w, 1, Object.entries(resource).flat())
  w.endLen(r)
  const resourceBytes = Buffer.from(w.buf.subarray(0, w.pos))
  w.pos = 0
  w.byte(tagByte(1, WIRE_LEN))
  const sc = w.beginLen()
  w.byte(tagByte(1, WIRE_LEN))
  w.string(scopeName)
  w.byte(tagByte(2, WIRE_LEN))
  w.string(scopeVersion)
  w.endLen(sc)
  return { resource: resourceBytes, scope: Buffer.from(w.buf.subarray(0, w.pos)) }
}

/** ExportTraceServiceRequest { resource_spans: [{ resource, scope_spans: [{ scope, spans }] }] }. */
export function encodeRequest(envelope: { resource: Buffer; scope: Buffer }, spans: readonly EncodedSpan[]): Uint8Array {
  let spanBytes = 0
  for (const s of spans) spanBytes += s.end - s.start
  const scopeSpansLen = envelope.scope.length + spanBytes
  const resourceSpansLen = envelope.resource.length + 1 + varintSize(scopeSpansLen) + scopeSpansLen
  const w = new Writer(1 + varintSize(resourceSpansLen) + resourceSpansLen)
  w.byte(tagByte(1, WIRE_LEN))
  w.uvarint(resourceSpansLen)
  w.raw(envelope.resource)
  w.byte(tagByte(2, WIRE_LEN))
  w.uvarint(scopeSpansLen)
  w.raw(envelope.scope)
  for (const s of spans) {
    s.slab.copy(w.buf, w.pos, s.start, s.end)
    w.pos += s.end - s.start
  }
  return w.buf.subarray(0, w.pos)
}
