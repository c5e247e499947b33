import { describe, expect, it } from 'vitest'
import { requestHash } from '../../../src/cache/canonical-request.ts'
import type { CallInfo } from '../../../src/core/call.ts'
import type { JsonObject } from '../../../src/core/json.ts'

const call = (body: JsonObject, over: Partial<CallInfo> = {}): CallInfo => ({
  requestId: 'r', operation: 'chat', ingress: 'openai', publicModel: 'm', principal: { keyId: 'k', keyName: 'k', team: 't' },
  runId: undefined, tags: [], stream: false, body, rawBody: undefined, headers: {}, estimatedInputTokens: 0, maxOutputTokens: 0, startedAt: 0, ...over,
})

describe('requestHash', () => {
  const base = { model: 'm', temperature: 0, messages: [{ role: 'user', content: 'hi' }] }

  it('on the Anthropic ingress, the betas asked for are part of the question (as a set)', () => {
    const ant = (headers: CallInfo['headers']) => requestHash(call(base, { ingress: 'anthropic', operation: 'messages', headers }))
    expect(ant({ 'anthropic-beta': 'context-1m-2025-08-07' })).not.toBe(ant({}))
    expect(ant({ 'anthropic-beta': 'a-1, b-2' })).toBe(ant({ 'anthropic-beta': 'b-2,a-1' }))
    expect(ant({ 'anthropic-beta': 'a-1' })).not.toBe(ant({ 'anthropic-beta': 'b-2' }))
    expect(ant({ 'anthropic-beta': ' , ' })).toBe(ant({}))
  })

  it('on the chat ingress too: the Anthropic adapter forwards the betas on translated calls', () => {
    const chat = (headers: CallInfo['headers']) => requestHash(call(base, { headers }))
    expect(chat({ 'anthropic-beta': 'context-1m-2025-08-07' })).not.toBe(chat({}))
    expect(chat({ 'anthropic-beta': 'a-1' })).not.toBe(chat({ 'anthropic-beta': 'b-2' }))
    expect(chat({ 'anthropic-beta': ['a-1', 'b-2'] })).toBe(chat({ 'anthropic-beta': 'b-2, a-1' }))
    expect(chat({ 'anthropic-beta': '' })).toBe(chat({}))
  })

  it('ignores key order at every level', () => {
    const reordered = { messages: [{ content: 'hi', role: 'user' }], temperature: 0, model: 'm' }
    expect(requestHash(call(reordered))).toBe(requestHash(call(base)))
  })

  it('counts a __proto__ member (as JSON.parse makes it) like any other, and numeric keys in any order', () => {
    const parsed = (text: string) => requestHash(call(JSON.parse(text) as JsonObject))
    const withProto = parsed('{"model":"m","messages":[{"role":"user","content":"hi","__proto__":{"x":1}}]}')
    expect(withProto).not.toBe(parsed('{"model":"m","messages":[{"role":"user","content":"hi"}]}'))
    expect(withProto).not.toBe(parsed('{"model":"m","messages":[{"role":"user","content":"hi","__proto__":{"x":2}}]}'))
    expect(parsed('{"model":"m","logit_bias":{"10":1,"9":2,"a":3}}')).toBe(parsed('{"logit_bias":{"a":3,"9":2,"10":1},"model":"m"}'))
  })

  it('keeps array order and every parameter that changes the answer', () => {
    const h = requestHash(call(base))
    expect(requestHash(call({ ...base, messages: [{ role: 'user', content: 'hi!' }] }))).not.toBe(h)
    expect(requestHash(call({ ...base, temperature: 0.5 }))).not.toBe(h)
    expect(requestHash(call({ ...base, max_tokens: 5 }))).not.toBe(h)
    expect(requestHash(call({ ...base, model: 'other' }))).not.toBe(h)
    expect(requestHash(call({ ...base, tools: [] }))).not.toBe(h)
    expect(requestHash(call({ ...base, messages: [{ role: 'system', content: 'a' }, { role: 'user', content: 'b' }] })))
      .not.toBe(requestHash(call({ ...base, messages: [{ role: 'user', content: 'b' }, { role: 'system', content: 'a' }] })))
  })

  it('keeps stream and stream_options: a streamed request replays a stream of that shape', () => {
    const h = requestHash(call(base))
    const s = requestHash(call({ ...base, stream: true }))
    expect(s).not.toBe(h)
    expect(requestHash(call({ ...base, stream: true, stream_options: { include_usage: true } }))).not.toBe(s)
  })

  it('leaves out caller annotations that never change the answer', () => {
    const h = requestHash(call(base))
    expect(requestHash(call({ ...base, user: 'u1', metadata: { user_id: 'x' }, store: true, safety_identifier: 's', prompt_cache_key: 'p' }))).toBe(h)
  })

  it('separates operations and ingress formats', () => {
    const h = requestHash(call(base))
    expect(requestHash(call(base, { operation: 'completions' }))).not.toBe(h)
    expect(requestHash(call(base, { operation: 'messages', ingress: 'anthropic' }))).not.toBe(h)
  })

  it('is a sha256 hex digest', () => {
    expect(requestHash(call(base))).toMatch(/^[0-9a-f]{64}$/)
  })
})
