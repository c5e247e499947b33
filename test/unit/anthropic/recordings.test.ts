/**
 * Every recorded Anthropic response (shared vendor recordings, when present on this machine) goes
 * through the translators and parsers: nothing may throw, usage must come out, and every tool call
 * a client rebuilds must have parseable arguments.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { anthropicKind } from '../../../src/providers/anthropic/index.ts'
import { attempt, chunksOf, eventsFromText, reassemble, run } from './helpers.ts'

const dir = fileURLToPath(new URL('../../../../shared/vendor-recordings/anthropic/', import.meta.url))
const present = existsSync(dir)
if (!present) console.warn(`Skipping the recorded-response loop: ${dir} does not exist`)
const adapter = anthropicKind.adapter

describe.skipIf(!present)('all recorded Anthropic responses', () => {
  const files = present ? readdirSync(dir).sort() : []

  it('finds the recordings', () => {
    expect(files.filter(f => f.endsWith('.chunks.txt')).length).toBeGreaterThan(10)
  })

  it('translates every recorded stream, both as chat and natively', () => {
    for (const name of files.filter(f => f.endsWith('.chunks.txt'))) {
      const events = eventsFromText(readFileSync(dir + name, 'utf8'))

      const chat = adapter.streamTranslator(attempt({ body: {}, stream: true }), { clientWantsUsage: true })
      const r = reassemble(chunksOf(run(chat, events)))
      expect(chat.usage(), name).toBeDefined()
      if (!chat.error()) {
        expect(r.roles, name).toEqual(['assistant'])
        expect(r.usage, name).toBeDefined()
        const toolUses = events.filter(e => e.data.includes('"content_block":{"type":"tool_use"')).length
        expect(r.toolCalls.length, name).toBe(toolUses)
        for (const call of r.toolCalls) expect(() => JSON.parse(call.arguments), `${name} ${call.name}`).not.toThrow()
      }

      const native = adapter.streamTranslator(attempt({ operation: 'messages', body: {}, stream: true }), { clientWantsUsage: true })
      const frames = run(native, events)
      expect(frames.length, name).toBe(events.length)
      // A spliced stream stops the chat translation early; the native one forwards (and counts) it all.
      if (!chat.error()) expect(native.usage(), name).toEqual(chat.usage())
      else expect(native.usage(), name).toBeDefined()
    }
  })

  it('parses every recorded body, both as chat and natively', () => {
    for (const name of files.filter(f => f.endsWith('.json'))) {
      const body = readFileSync(dir + name)
      const json = JSON.parse(body.toString()) as { type?: string; content?: Array<{ type: string }> }
      if (json.type === 'error') {
        expect(adapter.parseError(400, {}, body).message, name).not.toBe('')
        continue
      }
      const chat = adapter.parseResponse(attempt({ body: {} }), body)
      expect(chat.usage, name).toBeDefined()
      if (chat.kind === 'object') {
        const message = (chat.body['choices'] as Array<{ message: { tool_calls?: unknown[] } }>)[0]?.message
        expect(message?.tool_calls?.length ?? 0, name).toBe((json.content ?? []).filter(b => b.type === 'tool_use').length)
      }
      const native = adapter.parseResponse(attempt({ operation: 'messages', body: {} }), body)
      expect(native.kind, name).toBe('raw')
      expect(native.usage, name).toEqual(chat.usage)
    }
  })
})
