/**
 * Prompt caching for clients that ask for it in OpenAI's terms. OpenAI caches a prompt's prefix
 * by itself and `prompt_cache_key` only steers which cache; Anthropic caches only up to blocks
 * marked `cache_control`. So a request that carries a prompt_cache_key (Codex sends one every
 * turn) and marks nothing itself gets the breakpoints Anthropic recommends for a conversation: the
 * last tool, the end of the system prompt, and the last block of the conversation. The next turn
 * then reads everything up to this turn's end from the cache (Anthropic looks back from a
 * breakpoint for the longest cached prefix). Three of the four breakpoints Anthropic allows.
 *
 * Only on request: a cache write costs 1.25x the input price (reads 0.1x), which a one-off prompt
 * would pay for nothing. Prompts below the model's minimum cacheable length are simply not cached.
 */
import { isObject } from '../../core/json.ts'
import type { AnthropicContentBlock, AnthropicMessage, AnthropicRequest, AnthropicTextBlock } from './types.ts'

const EPHEMERAL = { type: 'ephemeral' } as const

/** The request with breakpoints added; the same object when there is nothing to add. Never mutates its input. */
export function withCacheBreakpoints(req: AnthropicRequest): AnthropicRequest {
  if (marksCache(req)) return req
  const out: AnthropicRequest = { ...req }
  if (req.tools && req.tools.length > 0) {
    const tools = [...req.tools]
    tools[tools.length - 1] = { ...tools[tools.length - 1]!, cache_control: { ...EPHEMERAL } }
    out.tools = tools
  }
  if (typeof req.system === 'string' && req.system !== '') out.system = [{ type: 'text', text: req.system, cache_control: { ...EPHEMERAL } }]
  else if (Array.isArray(req.system) && req.system.length > 0) out.system = markLast(req.system)
  const last = req.messages.at(-1)
  if (last) out.messages = [...req.messages.slice(0, -1), markMessage(last)]
  return out
}

function markMessage(m: AnthropicMessage): AnthropicMessage {
  if (typeof m.content === 'string') return m.content === '' ? m : { ...m, content: [{ type: 'text', text: m.content, cache_control: { ...EPHEMERAL } }] }
  // Thinking blocks cannot carry cache_control: the breakpoint goes on the last block that can.
  for (let i = m.content.length - 1; i >= 0; i--) {
    const b = m.content[i]!
    if (b.type === 'thinking' || b.type === 'redacted_thinking') continue
    const content = [...m.content]
    content[i] = { ...b, cache_control: { ...EPHEMERAL } } as AnthropicContentBlock
    return { ...m, content }
  }
  return m
}

function markLast(blocks: AnthropicTextBlock[]): AnthropicTextBlock[] {
  const out = [...blocks]
  out[out.length - 1] = { ...out[out.length - 1]!, cache_control: { ...EPHEMERAL } }
  return out
}

/** Whether the client placed any breakpoint itself (then it manages caching and nothing is added). */
function marksCache(req: AnthropicRequest): boolean {
  const has = (x: unknown): boolean => isObject(x) && x['cache_control'] !== undefined
  if (req.tools?.some(has)) return true
  if (Array.isArray(req.system) && req.system.some(has)) return true
  return req.messages.some((m) => Array.isArray(m.content) && m.content.some(has))
}
