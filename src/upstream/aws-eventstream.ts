/**
 * AWS event-stream framing (application/vnd.amazon.eventstream), as Bedrock's converse-stream sends
 * it: binary messages (prelude with total and header lengths, CRCs, typed headers, payload) that
 * can be split across TCP chunks or packed several to a chunk. Each message becomes a StreamEvent:
 * `event` is `:event-type` for events, `:exception-type` for modelled exceptions and `error` for
 * untyped errors (whose data is then `{"code","message"}` from `:error-code`/`:error-message`).
 */
import { EventStreamCodec } from '@smithy/eventstream-codec'
import type { StreamEvent } from './types.ts'

const toUtf8 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
const fromUtf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8')

/** Shared by the decoder and by tests that build frames; the codec itself keeps no state for decode/encode. */
export const awsEventStreamCodec = new EventStreamCodec(toUtf8, fromUtf8)

/** A message that claims more than this is corrupt, not large (Bedrock events are a few KB). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024

export interface AwsEventStreamDecoder {
  push(chunk: Buffer): StreamEvent[]
}

function headerString(headers: Record<string, { type: string; value: unknown }>, name: string): string | undefined {
  const h = headers[name]
  return h && typeof h.value === 'string' ? h.value : undefined
}

export function createAwsEventStreamDecoder(): AwsEventStreamDecoder {
  let pending: Buffer = Buffer.alloc(0)
  return {
    push(chunk: Buffer): StreamEvent[] {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      const events: StreamEvent[] = []
      while (pending.length >= 4) {
        const total = pending.readUInt32BE(0)
        if (total < 16 || total > MAX_MESSAGE_BYTES) throw new Error(`AWS event stream: invalid message length ${total}`)
        if (pending.length < total) break
        // Copy so the event's bytes do not pin the whole concatenated buffer.
        const raw = Buffer.from(pending.subarray(0, total))
        pending = pending.subarray(total)
        const message = awsEventStreamCodec.decode(raw)
        const messageType = headerString(message.headers, ':message-type') ?? 'event'
        const data = toUtf8(message.body)
        if (messageType === 'error') {
          const code = headerString(message.headers, ':error-code') ?? 'UnknownError'
          const text = headerString(message.headers, ':error-message') ?? data
          events.push({ event: 'error', data: JSON.stringify({ code, message: text }), raw })
        } else if (messageType === 'exception') {
          events.push({ event: headerString(message.headers, ':exception-type') ?? 'exception', data, raw })
        } else {
          events.push({ event: headerString(message.headers, ':event-type'), data, raw })
        }
      }
      return events
    },
  }
}
