/** Builds AWS event-stream frames as Bedrock sends them, from the recordings' decoded `{"<event>": payload}` lines. */
import { awsEventStreamCodec } from '../../../src/upstream/aws-eventstream.ts'

const str = (value: string) => ({ type: 'string' as const, value })

export function eventFrame(eventType: string, payload: unknown): Buffer {
  // Bedrock pads payloads with a random "p" field; include one so the translator must ignore it.
  const body = Buffer.from(JSON.stringify({ ...(payload as object), p: 'abcdefgh' }))
  return Buffer.from(awsEventStreamCodec.encode({
    headers: { ':message-type': str('event'), ':event-type': str(eventType), ':content-type': str('application/json') },
    body,
  }))
}

export function exceptionFrame(exceptionType: string, message: string): Buffer {
  return Buffer.from(awsEventStreamCodec.encode({
    headers: { ':message-type': str('exception'), ':exception-type': str(exceptionType), ':content-type': str('application/json') },
    body: Buffer.from(JSON.stringify({ message })),
  }))
}

export function framesFromRecording(lines: string[]): Buffer[] {
  return lines.map((line) => {
    const parsed = JSON.parse(line) as Record<string, unknown>
    const [type, payload] = Object.entries(parsed)[0] ?? ['', {}]
    return eventFrame(type, payload)
  })
}
