/**
 * Anthropic Messages response -> OpenAI chat.completion, plus the normalized Usage.
 * Text blocks become `content`, client tool_use blocks become `tool_calls`, thinking becomes
 * `reasoning_content` (readable) and `reasoning_details` (signed, to be sent back next turn).
 * Server-tool blocks (web search, code execution...) have no Chat Completions shape and are left
 * out; the text the model wrote about them is kept.
 */
import { GatewayError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { ChatCompletion, ChatMessage, ReasoningDetail, ToolCall } from '../../core/openai-chat.ts'
import { usageToOpenAI } from '../../core/usage.ts'
import type { Usage } from '../../core/usage.ts'
import { finishReasonFromStopReason, refusalText } from './stop-reason.ts'
import { anthropicUsageToUsage, readAnthropicUsage } from './usage.ts'

export interface TranslatedCompletion {
  completion: ChatCompletion
  usage: Usage | undefined
  stopReason: string | undefined
}

/** `created` is passed in so the translation stays free of clocks. */
export function anthropicToChat(message: unknown, created: number): TranslatedCompletion {
  if (!isObject(message) || !Array.isArray(message['content'])) {
    throw new GatewayError({ status: 502, code: 'upstream_error', message: 'Anthropic returned a response that is not a message' })
  }
  let text: string | undefined
  let reasoning: string | undefined
  const details: ReasoningDetail[] = []
  const toolCalls: ToolCall[] = []

  for (const block of message['content']) {
    if (!isObject(block)) continue
    const type = block['type']
    if (type === 'text' && typeof block['text'] === 'string') {
      text = (text ?? '') + block['text']
    } else if (type === 'tool_use' && typeof block['id'] === 'string' && typeof block['name'] === 'string') {
      toolCalls.push({ id: block['id'], type: 'function', function: { name: block['name'], arguments: JSON.stringify(block['input'] ?? {}) } })
    } else if (type === 'thinking' && typeof block['thinking'] === 'string') {
      reasoning = (reasoning ?? '') + block['thinking']
      const detail: ReasoningDetail = { type: 'thinking', thinking: block['thinking'] }
      if (typeof block['signature'] === 'string') detail.signature = block['signature']
      details.push(detail)
    } else if (type === 'redacted_thinking' && typeof block['data'] === 'string') {
      details.push({ type: 'redacted_thinking', data: block['data'] })
    }
  }

  const stopReason = typeof message['stop_reason'] === 'string' ? message['stop_reason'] : undefined
  const chatMessage: ChatMessage & { role: 'assistant' } = { role: 'assistant', content: text ?? null }
  if (toolCalls.length > 0) chatMessage.tool_calls = toolCalls
  if (reasoning !== undefined) chatMessage.reasoning_content = reasoning
  if (details.length > 0) chatMessage.reasoning_details = details
  if (stopReason === 'refusal') {
    const refusal = refusalText(message['stop_details'], text !== undefined && text !== '')
    if (refusal !== undefined) chatMessage.refusal = refusal
  }

  const anthropicUsage = readAnthropicUsage(message['usage'])
  const usage = anthropicUsage ? anthropicUsageToUsage(anthropicUsage) : undefined
  const completion: ChatCompletion = {
    id: typeof message['id'] === 'string' ? message['id'] : '',
    object: 'chat.completion',
    created,
    model: typeof message['model'] === 'string' ? message['model'] : '',
    choices: [{ index: 0, message: chatMessage, finish_reason: finishReasonFromStopReason(stopReason), logprobs: null }],
  }
  if (usage) completion.usage = usageToOpenAI(usage)
  return { completion, usage, stopReason }
}

