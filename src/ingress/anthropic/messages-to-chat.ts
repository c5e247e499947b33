/**
 * Anthropic Messages request -> OpenAI ChatRequest, for clients speaking Anthropic (the SDK,
 * Claude Code, the Agent SDK) that reach a non-Anthropic target. Pure: the body is never mutated.
 * docs/translation-anthropic-ingress.md lists every field and what happens to it.
 */
import type { ChatMessage, ChatRequest } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import {
  fail, optionalNumber, requireArray, requireBlock, requireObject, requirePositiveInteger, requireString,
} from './fields.ts'
import { userTurnToChat } from './user-content.ts'
import { assistantTurnToChat } from './assistant-content.ts'
import { toolChoiceToChat, toolsToChat } from './tools-to-chat.ts'
import { reasoningEffort, responseFormat } from './reasoning-to-chat.ts'

export function messagesToChat(body: JsonObject): ChatRequest {
  const req = translate(body)
  req.max_completion_tokens = requirePositiveInteger(body.max_tokens, 'max_tokens')
  if (body.stream !== undefined && body.stream !== null) {
    if (typeof body.stream !== 'boolean') fail('stream', 'must be a boolean')
    if (body.stream) {
      req.stream = true
      // Anthropic streams always end with usage, so the upstream must always report it.
      req.stream_options = { include_usage: true }
    }
  }
  return req
}

/**
 * /v1/messages/count_tokens bodies: the same shape without max_tokens (and never streamed), so the
 * gateway can count the translated prompt locally for a foreign target.
 */
export function countTokensRequestToChat(body: JsonObject): ChatRequest {
  return translate(body)
}

function translate(body: JsonObject): ChatRequest {
  const model = requireString(body.model, 'model')
  if (model === '') fail('model', 'must not be empty')
  const messages = [...systemToChat(body.system), ...conversationToChat(body.messages)]
  const req: ChatRequest = { model, messages }

  const tools = toolsToChat(body.tools)
  if (tools.length > 0) {
    req.tools = tools
    const { toolChoice, parallelToolCalls } = toolChoiceToChat(body.tool_choice)
    // Forcing a dropped server tool (web_search, ...) cannot be honoured; the vendor's default applies.
    const forcesMissingTool = typeof toolChoice === 'object' && !tools.some((t) => t.function.name === toolChoice.function.name)
    if (toolChoice !== undefined && !forcesMissingTool) req.tool_choice = toolChoice
    if (parallelToolCalls !== undefined) req.parallel_tool_calls = parallelToolCalls
  } else {
    // Validate even when every tool was a dropped server tool; OpenAI rejects tool_choice without tools.
    toolChoiceToChat(body.tool_choice)
  }

  const temperature = optionalNumber(body.temperature, 'temperature')
  if (temperature !== undefined) req.temperature = temperature
  const topP = optionalNumber(body.top_p, 'top_p')
  if (topP !== undefined) req.top_p = topP
  optionalNumber(body.top_k, 'top_k')
  const stop = stopSequences(body.stop_sequences)
  if (stop !== undefined) req.stop = stop
  const user = metadataUser(body.metadata)
  if (user !== undefined) req.user = user
  const effort = reasoningEffort(body)
  if (effort !== undefined) req.reasoning_effort = effort
  const format = responseFormat(body)
  if (format !== undefined) req.response_format = format
  return req
}

function systemToChat(value: Json | undefined): ChatMessage[] {
  if (value === undefined || value === null) return []
  if (typeof value === 'string') return value === '' ? [] : [{ role: 'system', content: value }]
  const texts = requireArray(value, 'system').map((raw, i) => {
    const block = requireBlock(raw, `system[${i}]`)
    if (block.type !== 'text') fail(`system[${i}].type`, `must be 'text' (got '${block.type}')`)
    return requireString(block.text, `system[${i}].text`)
  })
  // One string: many OpenAI-compatible servers accept only a string as system content.
  return texts.length === 0 ? [] : [{ role: 'system', content: texts.join('\n\n') }]
}

function conversationToChat(value: Json | undefined): ChatMessage[] {
  if (value === undefined) fail('messages', 'is required')
  return requireArray(value, 'messages').flatMap((raw, i) => {
    const path = `messages[${i}]`
    const message = requireObject(raw, path)
    const role = requireString(message.role, `${path}.role`)
    if (message.content === undefined || message.content === null) fail(`${path}.content`, 'is required')
    if (role === 'user') return userTurnToChat(message.content, `${path}.content`)
    if (role === 'assistant') return [assistantTurnToChat(message.content, `${path}.content`)]
    // Claude Code (per-turn-control beta) puts system turns inside the conversation.
    if (role === 'system') return systemToChat(message.content)
    return fail(`${path}.role`, `must be 'user', 'assistant' or 'system' (got '${role}')`)
  })
}

function stopSequences(value: Json | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined
  const list = requireArray(value, 'stop_sequences').map((s, i) => requireString(s, `stop_sequences[${i}]`))
  return list.length === 0 ? undefined : list
}

function metadataUser(value: Json | undefined): string | undefined {
  if (value === undefined || value === null) return undefined
  const userId = requireObject(value, 'metadata').user_id
  if (userId === undefined || userId === null) return undefined
  // Claude Code sends a JSON string here (device, account, session); it is passed on verbatim.
  return requireString(userId, 'metadata.user_id')
}
