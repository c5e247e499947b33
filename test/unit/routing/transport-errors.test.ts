/**
 * A connect timeout cannot be provoked reliably on loopback (a full listen backlog behaves
 * differently per OS), so its classification is tested here; the other timeouts are provoked for
 * real in test/e2e/routing-timeouts.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { classifyTransportError } from '../../../src/upstream/http-transport.ts'
import { TransportError } from '../../../src/upstream/types.ts'

const coded = (code: string, name = 'Error') => Object.assign(new Error(code), { code, name })

describe('transport error classification', () => {
  it('maps undici and socket codes to routing failures', () => {
    expect(classifyTransportError(coded('UND_ERR_CONNECT_TIMEOUT')).failure).toBe('connect_timeout')
    expect(classifyTransportError(coded('UND_ERR_HEADERS_TIMEOUT')).failure).toBe('first_byte_timeout')
    expect(classifyTransportError(coded('UND_ERR_BODY_TIMEOUT')).failure).toBe('idle_timeout')
    expect(classifyTransportError(coded('ECONNREFUSED')).failure).toBe('connection_refused')
    expect(classifyTransportError(coded('ECONNRESET')).failure).toBe('connection_reset')
    expect(classifyTransportError(coded('UND_ERR_SOCKET')).failure).toBe('connection_reset')
    expect(classifyTransportError(Object.assign(new Error('x'), { cause: { code: 'ECONNREFUSED' } })).failure).toBe('connection_refused')
    expect(classifyTransportError(new Error('weird')).failure).toBe('network')
  })

  it("an abort carries its reason: the request's total timeout, or the client leaving", () => {
    const ac = new AbortController()
    ac.abort(new TransportError('total_timeout', 'deadline'))
    expect(classifyTransportError(coded('UND_ERR_ABORTED'), ac.signal).failure).toBe('total_timeout')
    expect(classifyTransportError(coded('UND_ERR_ABORTED')).failure).toBe('aborted')
  })
})
