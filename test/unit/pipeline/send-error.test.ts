import { describe, expect, it } from 'vitest'
import type { ServerResponse } from 'node:http'
import { GatewayError } from '../../../src/core/errors.ts'
import { sendError } from '../../../src/pipeline/client-response.ts'

function capture(err: GatewayError): Record<string, string | number> {
  let written: Record<string, string | number> = {}
  const res = { headersSent: false, writeHead: (_s: number, h: Record<string, string | number>) => { written = h }, end: () => {} }
  sendError(res as unknown as ServerResponse, err, 'openai', {})
  return written
}

describe('retry headers on refusals', () => {
  const refusal = (headers: Record<string, string>) => new GatewayError({ status: 429, code: 'rate_limit_exceeded', message: 'slow down', headers })

  it('a 429 without retry-after gets one second', () => {
    expect(capture(refusal({}))['retry-after']).toBe('1')
  })

  it('a wait of a minute or less leaves the SDKs to retry; a longer one tells them not to (they would sleep through it)', () => {
    expect(capture(refusal({ 'retry-after': '60' }))['x-should-retry']).toBeUndefined()
    const long = capture(refusal({ 'retry-after': '3600' }))
    expect(long['retry-after']).toBe('3600')
    expect(long['x-should-retry']).toBe('false')
  })

  it('an explicit x-should-retry stands', () => {
    expect(capture(refusal({ 'retry-after': '3600', 'x-should-retry': 'true' }))['x-should-retry']).toBe('true')
  })
})
