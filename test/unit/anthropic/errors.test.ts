import { describe, expect, it } from 'vitest'
import { parseError } from '../../../src/providers/anthropic/errors.ts'

const body = (type: string, message: string): Buffer => Buffer.from(JSON.stringify({ type: 'error', error: { type, message } }))

describe('parseError', () => {
  it('429 rate_limit_error -> rate_limited with retry-after in ms', () => {
    expect(parseError(429, { 'retry-after': '7' }, body('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'))).toEqual({
      status: 429, code: 'rate_limit_error', type: 'rate_limit_error', kind: 'rate_limited', retryAfterMs: 7000,
      message: 'Number of request tokens has exceeded your per-minute rate limit',
    })
  })

  it('prefers retry-after-ms and reads array header values', () => {
    expect(parseError(429, { 'retry-after-ms': ['1500'], 'retry-after': '9' }, body('rate_limit_error', 'slow down')).retryAfterMs).toBe(1500)
    expect(parseError(429, { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }, body('rate_limit_error', 'x')).retryAfterMs).toBe(0)
    expect(parseError(429, {}, body('rate_limit_error', 'x')).retryAfterMs).toBeUndefined()
  })

  it('529 overloaded_error -> 503 overloaded', () => {
    expect(parseError(529, {}, body('overloaded_error', 'Overloaded'))).toEqual({
      status: 503, code: 'overloaded_error', type: 'overloaded_error', kind: 'overloaded', message: 'Overloaded',
    })
  })

  it.each([500, 502, 503, 504])('%i -> server', status => {
    expect(parseError(status, {}, body('api_error', 'Internal server error'))).toMatchObject({ status, kind: 'server', code: 'api_error', message: 'Internal server error' })
  })

  it('401 and 403 -> auth', () => {
    expect(parseError(401, {}, body('authentication_error', 'invalid x-api-key'))).toMatchObject({ status: 401, kind: 'auth', code: 'authentication_error', message: 'invalid x-api-key' })
    expect(parseError(403, {}, body('permission_error', 'Your API key does not have permission'))).toMatchObject({ status: 403, kind: 'auth', code: 'permission_error' })
  })

  it('404 -> not_found', () => {
    expect(parseError(404, {}, body('not_found_error', 'model: claude-nope'))).toMatchObject({ status: 404, kind: 'not_found' })
  })

  it.each([
    'prompt is too long: 208310 tokens > 200000 maximum',
    'input length and `max_tokens` exceed context limit: 197626 + 8192 > 200000, decrease input length or `max_tokens` and try again',
  ])('400 "%s" -> context_length', message => {
    expect(parseError(400, {}, body('invalid_request_error', message))).toEqual({
      status: 400, code: 'context_length_exceeded', type: 'invalid_request_error', kind: 'context_length', message,
    })
  })

  it('other 400s -> bad_request with the vendor message', () => {
    const message = 'max_tokens: 300000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5'
    expect(parseError(400, {}, body('invalid_request_error', message))).toEqual({
      status: 400, code: 'invalid_request_error', type: 'invalid_request_error', kind: 'bad_request', message,
    })
  })

  it('keeps a non-JSON body as the message', () => {
    expect(parseError(502, {}, Buffer.from('<html>Bad Gateway</html>'))).toEqual({ status: 502, code: 'api_error', kind: 'server', message: '<html>Bad Gateway</html>' })
    expect(parseError(500, {}, Buffer.alloc(0)).message).toBe('Anthropic returned HTTP 500')
  })
})
