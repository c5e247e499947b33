import { describe, expect, it } from 'vitest'
import { forwardRefusal } from '../../../src/server/routes.ts'

describe('forwardRefusal', () => {
  it('lets canonical paths through, dots inside a segment included', () => {
    for (const p of ['/v1/files', '/v1/files/file-abc/content', '/v1/audio/transcriptions', '/v1/models-x/gpt-4.1', '/v1/a.b/c..d', '/v1/x%20y', '/v1/100%25']) {
      expect(forwardRefusal(p, 'GET'), p).toBeUndefined()
      expect(forwardRefusal(p, 'POST'), p).toBeUndefined()
    }
  })

  it("refuses '.' and '..' segments, raw or percent-encoded in any case, or encoded twice", () => {
    for (const p of ['/v1/../../admin/secret', '/v1/./chat/completions', '/v1/files/..', '/v1/%2e%2e/%2e%2e/other/v1/files', '/v1/%2E%2e/x', '/v1/.%2E/x', '/v1/%2e/chat/completions', '/v1/%252e%252e/x']) {
      const e = forwardRefusal(p, 'POST')
      expect(e?.status, p).toBe(400)
      expect(e?.code).toBe('invalid_request')
      expect(e?.message).toMatch(/segment/)
    }
  })

  it('refuses empty segments, a trailing slash, backslashes, encoded slashes, ; and malformed escapes', () => {
    const cases: Array<[string, RegExp]> = [
      ['/v1//evil.example/x', /empty segment/],
      ['/v1/files/', /empty segment/],
      ['/v1/files\\..\\x', /backslash/],
      ['/v1/files%2f..%2fx', /encoded slash/],
      ['/v1/files%2F..', /encoded slash/],
      ['/v1/files%5cx', /encoded slash/],
      ['/v1/files%252fx', /encoded slash/],
      ['/v1/chat/completions;x=1', /';'/],
      ['/v1/files/%zz', /malformed/],
    ]
    for (const [p, why] of cases) expect(forwardRefusal(p, 'GET')?.message, p).toMatch(why)
  })

  it('refuses a POST to a model route spelled in another case (a case-insensitive vendor would serve it unpriced), not a GET', () => {
    expect(forwardRefusal('/v1/Chat/Completions', 'POST')?.message).toMatch(/\/v1\/chat\/completions spelled in another case/)
    expect(forwardRefusal('/v1/EMBEDDINGS', 'POST')?.status).toBe(400)
    expect(forwardRefusal('/v1/Chat/Completions', 'GET')).toBeUndefined()
  })

  it('the message says what to send instead and echoes at most 200 characters of the path', () => {
    const e = forwardRefusal(`/v1/../${'x'.repeat(500)}`, 'GET')!
    expect(e.message).toContain("no '.' or '..' segments")
    expect(e.message.length).toBeLessThan(600)
  })
})
