/**
 * The one SSE parser. Splits a byte stream into events at blank lines, keeping each event's exact
 * bytes (for pass-through) beside its parsed fields. Works on Buffers and only decodes the bytes of
 * complete events, so a multi-byte character split across chunks is never corrupted.
 */
import type { StreamEvent } from './types.ts'

export interface SseParser {
  push(chunk: Buffer): StreamEvent[]
  /** Whatever is left when the stream ends without a final blank line. */
  end(): StreamEvent[]
}

const LF = 0x0a
const CR = 0x0d
// Field names as bytes, made once (a string needle is converted on every search).
const DATA = Buffer.from('data')
const EVENT = Buffer.from('event')
const NL_DATA = Buffer.from('\ndata')
const NL_EVENT = Buffer.from('\nevent')

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  if (buf.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (buf[i] !== prefix[i]) return false
  return true
}

export function createSseParser(): SseParser {
  let pending: Buffer | undefined

  function findBoundary(buf: Buffer, from: number): { end: number; next: number } | undefined {
    for (let i = buf.indexOf(LF, from); i !== -1; i = buf.indexOf(LF, i + 1)) {
      // \n\n or \n\r\n ends an event
      const n1 = buf[i + 1]
      if (n1 === LF) return { end: i + 1, next: i + 2 }
      if (n1 === CR && buf[i + 2] === LF) return { end: i + 1, next: i + 3 }
    }
    return undefined
  }

  /** An event unless the block holds only comments or blank lines (keep-alives). */
  function parse(raw: Buffer): StreamEvent | undefined {
    // A block with no `data` or `event` field (a `: ping` comment) is no event; checked on the bytes.
    const hasField = startsWith(raw, DATA) || startsWith(raw, EVENT) || raw.includes(NL_DATA) || raw.includes(NL_EVENT)
    return hasField ? new SseEvent(raw) : undefined
  }

  return {
    push(chunk) {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk
      const events: StreamEvent[] = []
      let start = 0
      // Resume the boundary search a little before the old end, in case \n\n straddled chunks.
      let from = pending ? Math.max(0, pending.length - 2) : 0
      for (let b = findBoundary(buf, from); b; b = findBoundary(buf, from)) {
        const ev = parse(buf.subarray(start, b.next))
        if (ev) events.push(ev)
        start = b.next
        from = b.next
      }
      pending = start < buf.length ? buf.subarray(start) : undefined
      return events
    },
    end() {
      if (!pending || pending.length === 0) return []
      const ev = parse(pending)
      pending = undefined
      return ev ? [ev] : []
    },
  }
}

/**
 * One event: its exact bytes, with the `event` and `data` fields decoded only when read. Most
 * pass-through events are forwarded without ever being decoded (the translator tests the bytes).
 */
class SseEvent implements StreamEvent {
  readonly raw: Buffer
  #event: string | undefined
  #data: string | undefined
  #parsed = false

  constructor(raw: Buffer) {
    this.raw = raw
  }

  get event(): string | undefined {
    if (!this.#parsed) this.#parse()
    return this.#event
  }

  get data(): string {
    if (!this.#parsed) this.#parse()
    return this.#data ?? ''
  }

  #parse(): void {
    this.#parsed = true
    for (const line0 of this.raw.toString('utf8').split('\n')) {
      const line = line0.endsWith('\r') ? line0.slice(0, -1) : line0
      if (line === '' || line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'data') this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`
      else if (field === 'event') this.#event = value
    }
  }
}

/** Frames one SSE data event. */
export const sseData = (json: string): string => `data: ${json}\n\n`
export const SSE_DONE = 'data: [DONE]\n\n'
