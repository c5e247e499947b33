import { describe, expect, it } from 'vitest'
import { awsEventStreamCodec, createAwsEventStreamDecoder } from '../../../src/upstream/aws-eventstream.ts'
import { eventFrame, exceptionFrame } from './frames.ts'

describe('createAwsEventStreamDecoder', () => {
  const a = eventFrame('messageStart', { role: 'assistant' })
  const b = eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } })

  it('decodes several messages in one chunk, keeping each message\'s bytes', () => {
    const events = createAwsEventStreamDecoder().push(Buffer.concat([a, b]))
    expect(events.map((e) => [e.event, JSON.parse(e.data)])).toEqual([
      ['messageStart', { role: 'assistant', p: 'abcdefgh' }],
      ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' }, p: 'abcdefgh' }],
    ])
    expect(events[0]?.raw.equals(a)).toBe(true)
    expect(events[1]?.raw.equals(b)).toBe(true)
  })

  it('reassembles a message split across chunks, even inside the prelude', () => {
    const d = createAwsEventStreamDecoder()
    const all = Buffer.concat([a, b])
    expect(d.push(all.subarray(0, 2))).toEqual([])
    expect(d.push(all.subarray(2, a.length + 5)).map((e) => e.event)).toEqual(['messageStart'])
    expect(d.push(all.subarray(a.length + 5)).map((e) => e.event)).toEqual(['contentBlockDelta'])
  })

  it('names exceptions by their type and errors by "error"', () => {
    const err = Buffer.from(awsEventStreamCodec.encode({
      headers: {
        ':message-type': { type: 'string', value: 'error' },
        ':error-code': { type: 'string', value: 'InternalFailure' },
        ':error-message': { type: 'string', value: 'boom' },
      },
      body: new Uint8Array(0),
    }))
    const events = createAwsEventStreamDecoder().push(Buffer.concat([exceptionFrame('throttlingException', 'Too many requests'), err]))
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['throttlingException', '{"message":"Too many requests"}'],
      ['error', '{"code":"InternalFailure","message":"boom"}'],
    ])
  })

  it('rejects corrupt frames (CRC mismatch)', () => {
    const bad = Buffer.from(a)
    bad[bad.length - 6] = (bad[bad.length - 6] ?? 0) ^ 0xff
    expect(() => createAwsEventStreamDecoder().push(bad)).toThrow()
  })
})
