import { describe, expect, it } from 'vitest'
import { withCacheBreakpoints } from '../../../src/providers/anthropic/cache-breakpoints.ts'
import { chatToAnthropic } from '../../../src/providers/anthropic/chat-to-anthropic.ts'
import type { AnthropicRequest } from '../../../src/providers/anthropic/types.ts'

const EPH = { type: 'ephemeral' }

describe('cache breakpoints for a request that asked for caching', () => {
  it("marks the last tool, the system prompt and the conversation's last block (Anthropic's layout for multi-turn caching)", () => {
    const req: AnthropicRequest = {
      model: 'claude-sonnet-4-5', max_tokens: 1024,
      system: 'You are a coding agent.',
      tools: [{ name: 'read', input_schema: { type: 'object' } }, { name: 'apply_patch', input_schema: { type: 'object' } }],
      messages: [{ role: 'user', content: 'fix the test' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'read', input: {} }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'file text' }] }],
    }
    const before = structuredClone(req)
    const out = withCacheBreakpoints(req)
    expect(out.tools).toEqual([{ name: 'read', input_schema: { type: 'object' } }, { name: 'apply_patch', input_schema: { type: 'object' }, cache_control: EPH }])
    expect(out.system).toEqual([{ type: 'text', text: 'You are a coding agent.', cache_control: EPH }])
    expect(out.messages[0]).toEqual({ role: 'user', content: 'fix the test' })
    expect(out.messages[2]).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'file text', cache_control: EPH }] })
    expect(req).toEqual(before)
  })

  it('a last turn ending in thinking is marked on the block before it (thinking cannot carry cache_control)', () => {
    const out = withCacheBreakpoints({ model: 'm', max_tokens: 1, messages: [{ role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'thinking', thinking: 't', signature: 's' }] }] })
    expect(out.messages[0]!.content).toEqual([{ type: 'text', text: 'a', cache_control: EPH }, { type: 'thinking', thinking: 't', signature: 's' }])
  })

  it('a client that placed its own breakpoints keeps exactly those', () => {
    const req: AnthropicRequest = { model: 'm', max_tokens: 1, system: [{ type: 'text', text: 's', cache_control: EPH }], messages: [{ role: 'user', content: 'hi' }] }
    expect(withCacheBreakpoints(req)).toBe(req)
  })

  it('chatToAnthropic adds them only when the request carries a prompt_cache_key', () => {
    const chat = { model: 'x', messages: [{ role: 'system' as const, content: 'sys' }, { role: 'user' as const, content: 'hi' }] }
    expect(JSON.stringify(chatToAnthropic(chat, 'claude', false))).not.toContain('cache_control')
    const cached = chatToAnthropic({ ...chat, prompt_cache_key: 'codex-session-1' }, 'claude', false)
    expect(cached.system).toEqual([{ type: 'text', text: 'sys', cache_control: EPH }])
    expect(cached.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: EPH }] }])
    expect(JSON.stringify(cached)).not.toContain('prompt_cache_key')
  })
})
