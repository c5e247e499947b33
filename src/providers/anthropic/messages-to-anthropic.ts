/**
 * OpenAI chat messages -> Anthropic `system` + `messages`.
 *
 * Anthropic wants system text apart, strictly alternating user/assistant turns, tool results as
 * user `tool_result` blocks placed before any other user content, and signed thinking blocks first
 * in the assistant turn that produced them. OpenAI allows none of these constraints, so this file
 * hoists, merges and orders; it never mutates the client's messages.
 */
import type { ChatMessage, ContentPart, ReasoningDetail } from '../../core/openai-chat.ts'
import type { AnthropicContentBlock, AnthropicMessage, AnthropicTextBlock, AnthropicToolResultBlock } from './types.ts'
import { contentToBlocks, textBlock } from './content-to-anthropic.ts'
import type { Json } from '../../core/json.ts'

export interface ConvertedMessages {
  system: string | AnthropicTextBlock[] | undefined
  messages: AnthropicMessage[]
}

export function messagesToAnthropic(input: readonly ChatMessage[]): ConvertedMessages {
  const systemMessages: ChatMessage[] = []
  const turns: Array<{ role: 'user' | 'assistant'; blocks: AnthropicContentBlock[] }> = []

  for (const msg of input) {
    if (msg.role === 'system' || msg.role === 'developer') { systemMessages.push(msg); continue }
    const role = msg.role === 'assistant' ? 'assistant' : 'user'
    const blocks = role === 'assistant' ? assistantBlocks(msg) : userBlocks(msg)
    // An empty turn would be rejected; skipping it lets its neighbours merge instead.
    if (blocks.length === 0) continue
    const last = turns.at(-1)
    if (last && last.role === role) last.blocks.push(...blocks)
    else turns.push({ role, blocks })
  }

  return {
    system: systemToAnthropic(systemMessages),
    messages: turns.map(t => ({ role: t.role, content: finishContent(t.role, t.blocks) })),
  }
}

function systemToAnthropic(msgs: ChatMessage[]): string | AnthropicTextBlock[] | undefined {
  if (msgs.length === 0) return undefined
  const only = msgs[0]
  if (msgs.length === 1 && only && typeof only.content === 'string') return only.content === '' ? undefined : only.content
  const blocks: AnthropicTextBlock[] = []
  for (const m of msgs) {
    if (typeof m.content === 'string') { if (m.content !== '') blocks.push(textBlock(m.content)); continue }
    for (const part of m.content ?? []) {
      if (part.type === 'text' && part.text !== '') blocks.push(textBlock(part.text, part))
    }
  }
  return blocks.length > 0 ? blocks : undefined
}

function userBlocks(msg: ChatMessage): AnthropicContentBlock[] {
  if (msg.role === 'tool' || msg.role === 'function') return [toolResultBlock(msg)]
  return contentToBlocks(msg.content)
}

function toolResultBlock(msg: ChatMessage): AnthropicToolResultBlock {
  const toolUseId = msg.tool_call_id ?? msg.name ?? ''
  if (typeof msg.content === 'string' || msg.content === null || msg.content === undefined) {
    return { type: 'tool_result', tool_use_id: toolUseId, content: msg.content ?? '' }
  }
  const content = contentToBlocks(msg.content).filter(b => b.type === 'text' || b.type === 'image')
  return { type: 'tool_result', tool_use_id: toolUseId, content }
}

function assistantBlocks(msg: ChatMessage): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [...reasoningBlocks(msg)]
  for (const text of assistantTexts(msg.content)) blocks.push(textBlock(text))
  for (const call of msg.tool_calls ?? []) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) })
  }
  return blocks
}

/** Assistant content is text (and OpenAI refusal parts, which are the model's own words too). */
function assistantTexts(content: string | ContentPart[] | null | undefined): string[] {
  if (typeof content === 'string') return content === '' ? [] : [content]
  const texts: string[] = []
  for (const part of content ?? []) {
    const p = part as { type: string; text?: unknown; refusal?: unknown }
    const text = p.type === 'text' ? p.text : p.type === 'refusal' ? p.refusal : undefined
    if (typeof text === 'string' && text !== '') texts.push(text)
  }
  return texts
}

/**
 * Signed thinking and redacted thinking go back exactly as received. A client that rebuilt the
 * message from stream deltas may hold the text in `reasoning_content` and a signature-only detail
 * (thinking: ''); with a single thinking detail the two are rejoined. Unsigned reasoning is
 * dropped: Anthropic rejects thinking blocks it did not sign.
 */
function reasoningBlocks(msg: ChatMessage): AnthropicContentBlock[] {
  const details: ReasoningDetail[] = Array.isArray(msg.reasoning_details) ? msg.reasoning_details : []
  const thinkingCount = details.filter(d => d.type === 'thinking').length
  const blocks: AnthropicContentBlock[] = []
  for (const d of details) {
    if (d.type === 'redacted_thinking' && typeof d.data === 'string') {
      blocks.push({ type: 'redacted_thinking', data: d.data })
    } else if (d.type === 'thinking' && typeof d.signature === 'string' && d.signature !== '') {
      const rejoin = d.thinking === '' && thinkingCount === 1 && typeof msg.reasoning_content === 'string'
      blocks.push({ type: 'thinking', thinking: rejoin ? msg.reasoning_content as string : d.thinking, signature: d.signature })
    }
  }
  return blocks
}

/** Tool arguments are a JSON string in OpenAI and an object in Anthropic; invalid JSON becomes {}. */
export function parseArguments(args: string | undefined): Json {
  if (args === undefined || args.trim() === '') return {}
  try {
    const parsed: unknown = JSON.parse(args)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Json : {}
  } catch {
    return {}
  }
}

/**
 * Tool results must lead a user turn, so they are moved before the user's own text (stable order
 * otherwise). A lone plain text block is written as a string, as Anthropic's examples do.
 */
function finishContent(role: 'user' | 'assistant', blocks: AnthropicContentBlock[]): string | AnthropicContentBlock[] {
  const ordered = role === 'user'
    ? [...blocks.filter(b => b.type === 'tool_result'), ...blocks.filter(b => b.type !== 'tool_result')]
    : blocks
  const first = ordered[0]
  if (ordered.length === 1 && first && first.type === 'text' && Object.keys(first).length === 2) return first.text
  return ordered
}
