/**
 * Tables looked up by names from clients and vendors find only their own names: a plain object
 * also "has" constructor, toString, __proto__..., which turned a client's odd value into a crash
 * (a 500), a garbled vendor request, or a silently ignored setting instead of a 400.
 */
import { describe, expect, it } from 'vitest'
import { nameMap } from '../../../src/core/name-map.ts'
import { sanitizeGeminiSchema } from '../../../src/providers/gemini/schema.ts'
import { guessMimeType } from '../../../src/providers/gemini/media.ts'
import { chatToAnthropic } from '../../../src/providers/anthropic/chat-to-anthropic.ts'
import { reasoningEffort } from '../../../src/ingress/anthropic/reasoning-to-chat.ts'
import { responsesToChat } from '../../../src/ingress/responses/request-to-chat.ts'
import { bedrockStreamError } from '../../../src/providers/bedrock/errors.ts'
import { GatewayError } from '../../../src/core/errors.ts'
import type { ChatRequest } from '../../../src/core/openai-chat.ts'

const PROTO = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']

describe('nameMap', () => {
  it('finds its own names only', () => {
    const m = nameMap({ a: 1, constructor: 2 })
    expect(m.a).toBe(1)
    expect(m.constructor).toBe(2)
    for (const n of PROTO.filter((x) => x !== 'constructor')) expect(m[n], n).toBeUndefined()
    expect(Object.keys(m)).toEqual(['a', 'constructor'])
    expect(JSON.stringify(m)).toBe('{"a":1,"constructor":2}')
  })
})

const status = (f: () => unknown): number | undefined => {
  try {
    f()
    return undefined
  } catch (err) {
    if (err instanceof GatewayError) return err.status
    throw err
  }
}

describe('lookups by a client-supplied name', () => {
  it('gemini: a JSON schema type named like a prototype member keeps no unknown format (was a TypeError)', () => {
    for (const type of PROTO) expect(sanitizeGeminiSchema({ type, format: 'x' })).not.toHaveProperty('format')
  })

  it('gemini: an image URL ending in .constructor is not given a function as its MIME type', () => {
    expect(guessMimeType('https://x.test/a.constructor')).toBe('image/jpeg')
    expect(guessMimeType('https://x.test/a.tostring')).toBe('image/jpeg')
  })

  it('anthropic: reasoning_effort toString turns on no thinking (was budget_tokens: a function)', () => {
    for (const effort of PROTO) {
      const out = chatToAnthropic({ model: 'x', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: effort } as unknown as ChatRequest, 'm', false)
      expect(out, effort).not.toHaveProperty('thinking')
    }
  })

  it('ingress: an effort named like a prototype member is a 400 naming the field, not passed on', () => {
    for (const effort of PROTO) {
      expect(status(() => reasoningEffort({ output_config: { effort } })), effort).toBe(400)
      expect(status(() => responsesToChat({ model: 'x', input: 'hi', reasoning: { effort } })), effort).toBe(400)
    }
  })

  it('bedrock: a stream exception named __proto__ gets a numeric status', () => {
    expect(bedrockStreamError('__proto__', '{}').status).toBe(500)
  })
})
