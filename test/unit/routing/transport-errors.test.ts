/**
 * A connect timeout cannot be provoked reliably on loopback (a full listen backlog behaves
 * differently per OS), so its classification is tested here; the other timeouts are provoked for
 * real in test/e2e/routing-timeouts.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { classifyTransportError, headersTimeoutFor } from '../../../src/upstream/http-transport.ts'
import { parseConfig } from '../../../src/config/load.ts'
import { buildDeployments } from '../../../src/routing/deployments.ts'
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

describe('the wait for response headers', () => {
  const t = (firstByteMs: number | undefined) => ({ connectMs: 5000, firstByteMs, idleMs: 30_000, totalMs: Number.POSITIVE_INFINITY })

  it('unset: 60 s for a stream, none for a non-streamed call (its headers come with the whole answer)', () => {
    expect(headersTimeoutFor(t(undefined), true)).toBe(60_000)
    expect(headersTimeoutFor(t(undefined), false)).toBe(0)
  })

  it('configured: applies to both', () => {
    expect(headersTimeoutFor(t(200), true)).toBe(200)
    expect(headersTimeoutFor(t(200), false)).toBe(200)
  })

  it('the default config leaves first_byte_ms unset, so a slow non-streamed reasoning call is not cut at a minute', () => {
    const { config } = parseConfig('providers: { p: { type: openai, base_url: "http://127.0.0.1:1/v1", keys: [k] } }\nmodels: { m: { targets: [{ provider: p, model: x }] } }\n', 'x.yaml', {})
    expect(config.routing.timeouts.first_byte_ms).toBeUndefined()
    // Nor is a stream whose model thinks silently for minutes cut at 30 s.
    expect(config.routing.timeouts.idle_ms).toBe(300_000)
    const d = buildDeployments(config, () => {})
    expect(d.targets.get('m')![0]!.timeouts.firstByteMs).toBeUndefined()
    void d.close()
  })
})
