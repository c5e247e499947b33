/**
 * OpenAI chat.completion -> Anthropic Messages response, in the content order Claude produces:
 * thinking, then text, then tool_use.
 */
import type { ChatCompletion, ChatMessage, ReasoningDetail } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import { isObject } from '../../core/json.ts'
import { usageFromOpenAI } from '../../core/usage.ts'
import type { EncodeContext } from '../types.ts'
import { anthropicUsage, stopReason } from './usage-and-stop.ts'
import { geminiSignatureEnvelope } from './gemini-signatures.ts'

export function chatToMessages(completion: ChatCompletion, ctx: EncodeContext): JsonObject {
  const choice = completion.choices[0]
  const message = choice?.message
  const content: JsonObject[] = message ? [...thinkingBlocks(message), ...textBlocks(message), ...toolUseBlocks(message)] : []
  const refused = !textOf(message?.content) && typeof message?.refusal === 'string' && message.refusal !== ''
  const hasToolUse = content.some((b) => b.type === 'tool_use')
  return {
    id: `msg_${completion.id}`,
    type: 'message',
    role: 'assistant',
    model: ctx.requestedModel,
    content,
    stop_reason: stopReason(choice?.finish_reason, hasToolUse, refused),
    stop_sequence: null,
    usage: anthropicUsage(usageFromOpenAI(completion.usage)),
  }
}

function thinkingBlocks(message: ChatMessage): JsonObject[] {
  const details = message.reasoning_details ?? []
  const blocks = details.flatMap(detailToBlock)
  // Gemini's thought signatures, all in one block; Gemini's thought text (below) joins it, as it
  // does in a stream where the signature arrives while that text's block is open.
  const carried = geminiSignatureEnvelope(details)
  if (carried !== undefined) blocks.push({ type: 'thinking', thinking: '', signature: carried })
  const reasoning = message.reasoning_content
  if (typeof reasoning !== 'string' || reasoning === '') return blocks
  if (blocks.some((b) => b.type === 'thinking' && b.thinking !== '')) return blocks
  // Reasoning text beside a signature-only detail: they are one thinking block.
  const signed = blocks.findIndex((b) => b.type === 'thinking')
  if (signed < 0) return [{ type: 'thinking', thinking: reasoning, signature: '' }, ...blocks]
  return blocks.map((b, i) => (i === signed ? { ...b, thinking: reasoning } : b))
}

function detailToBlock(d: ReasoningDetail): JsonObject[] {
  // The SDK types a thinking block's signature as a string; '' marks "none from this vendor".
  if (d.type === 'thinking') return [{ type: 'thinking', thinking: d.thinking, signature: d.signature ?? '' }]
  if (d.type === 'redacted_thinking') return [{ type: 'redacted_thinking', data: d.data }]
  // thought_signature: carried by thinkingBlocks in one envelope for the whole message.
  return []
}

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((p) => (p.type === 'text' ? p.text : '')).join('')
}

function textBlocks(message: ChatMessage): JsonObject[] {
  const text = textOf(message.content)
  if (text !== '') return [{ type: 'text', text }]
  if (typeof message.refusal === 'string' && message.refusal !== '') return [{ type: 'text', text: message.refusal }]
  return []
}

function toolUseBlocks(message: ChatMessage): JsonObject[] {
  return (message.tool_calls ?? []).map((call) => ({
    type: 'tool_use',
    id: call.id,
    name: call.function.name,
    input: parseArguments(call.function.arguments),
  }))
}

/** Anthropic's input is always an object; models sometimes emit broken or empty JSON. */
export function parseArguments(raw: string): JsonObject {
  if (raw.trim() === '') return {}
  try {
    const parsed: Json = JSON.parse(raw)
    return isObject(parsed) ? parsed : {}
  } catch {
    return {}
  }
}
