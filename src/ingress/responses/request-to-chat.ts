/**
 * Responses request -> OpenAI ChatRequest, for Responses clients (Codex, the Agents SDK,
 * LangChain) reaching a vendor without the Responses API. Pure: the body is never mutated.
 * docs/translation-responses.md lists every field and what happens to it.
 */
import type { ChatMessage, ChatRequest, ResponseFormat } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import { fail, optionalNumber, optionalString, requireObject, requirePositiveInteger, requireString } from '../anthropic/fields.ts'
import { stripSchemaUri } from '../anthropic/tools-to-chat.ts'
import { toolChoiceToChat, toolsToChat } from './tools.ts'
import { inputToChat } from './input-to-chat.ts'
import { nameMap } from '../../core/name-map.ts'

type Effort = NonNullable<ChatRequest['reasoning_effort']>
const EFFORTS: Record<string, Effort | null> = nameMap({ none: null, minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' })

/** The gateway's own response ids; anything else was issued by OpenAI. */
export const GATEWAY_RESPONSE_ID = /^resp_sb[0-9a-f]{32}$/

export function responsesToChat(body: JsonObject): ChatRequest {
  const model = requireString(body.model, 'model')
  refuseUnservable(body)
  const tools = toolsToChat(body.tools)
  const messages: ChatMessage[] = []
  const instructions = optionalString(body.instructions, 'instructions')
  if (instructions !== undefined && instructions !== '') messages.push({ role: 'system', content: instructions })
  messages.push(...inputToChat(body.input, tools.origins))
  if (messages.length === 0) fail('input', 'is required')
  const req: ChatRequest = { model, messages }

  if (tools.tools.length > 0) {
    req.tools = tools.tools
    const choice = toolChoiceToChat(body.tool_choice, tools)
    if (choice !== undefined) req.tool_choice = choice
    if (typeof body.parallel_tool_calls === 'boolean') req.parallel_tool_calls = body.parallel_tool_calls
  } else {
    toolChoiceToChat(body.tool_choice, tools) // validated; Chat rejects tool_choice without tools
  }
  if (body.max_output_tokens !== undefined && body.max_output_tokens !== null) req.max_completion_tokens = requirePositiveInteger(body.max_output_tokens, 'max_output_tokens')
  const temperature = optionalNumber(body.temperature, 'temperature')
  if (temperature !== undefined) req.temperature = temperature
  const topP = optionalNumber(body.top_p, 'top_p')
  if (topP !== undefined) req.top_p = topP
  const effort = reasoningEffort(body.reasoning)
  if (effort !== undefined) req.reasoning_effort = effort
  const format = responseFormat(body.text)
  if (format !== undefined) req.response_format = format
  const user = optionalString(body.user, 'user') ?? optionalString(body.safety_identifier, 'safety_identifier')
  if (user !== undefined) req.user = user
  // Chat Completions has it too; vendors that cache only where told to (Anthropic) read it as a request to cache.
  const cacheKey = optionalString(body.prompt_cache_key, 'prompt_cache_key')
  if (cacheKey !== undefined) req.prompt_cache_key = cacheKey
  if (body.stream === true) {
    req.stream = true
    // response.completed always carries usage, so the upstream must always report it.
    req.stream_options = { include_usage: true }
  }
  return req
}

/** Features that need OpenAI's own server state: a clear 400 beats a silently different answer. */
function refuseUnservable(body: JsonObject): void {
  const prev = body.previous_response_id
  if (prev !== undefined && prev !== null) {
    const id = requireString(prev, 'previous_response_id')
    // The gateway's own ids were expanded into `input` (and the field removed) before translation.
    if (GATEWAY_RESPONSE_ID.test(id)) fail('previous_response_id', `'${id}' cannot be continued: the gateway's response store is not available`)
    fail('previous_response_id', `'${id}' was not stored by this gateway; only an OpenAI target can continue it. Send the conversation in 'input' instead`)
  }
  if (body.conversation !== undefined && body.conversation !== null) fail('conversation', 'OpenAI conversations are not available for this model; send the conversation in \'input\' or use previous_response_id')
  if (body.prompt !== undefined && body.prompt !== null) fail('prompt', 'OpenAI prompt templates are not available for this model; send the text in \'instructions\' and \'input\'')
  if (body.background === true) fail('background', 'background responses are not available for this model')
}

function reasoningEffort(value: Json | undefined): Effort | undefined {
  if (value === undefined || value === null) return undefined
  const raw = requireObject(value, 'reasoning').effort
  if (raw === undefined || raw === null) return undefined
  const name = requireString(raw, 'reasoning.effort')
  const effort = EFFORTS[name]
  if (effort === undefined) fail('reasoning.effort', `must be one of ${Object.keys(EFFORTS).join(', ')} (got '${name}')`)
  // 'none' means "do not reason": sending no effort leaves the vendor's default, which for the
  // translated vendors is no extended thinking.
  return effort ?? undefined
}

function responseFormat(value: Json | undefined): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined
  const formatValue = requireObject(value, 'text').format
  if (formatValue === undefined || formatValue === null) return undefined
  const format = requireObject(formatValue, 'text.format')
  const type = requireString(format.type, 'text.format.type')
  if (type === 'text') return undefined
  if (type === 'json_object') return { type: 'json_object' }
  if (type !== 'json_schema') return fail('text.format.type', `must be text, json_object or json_schema (got '${type}')`)
  const schema: NonNullable<ResponseFormat['json_schema']> = {
    name: requireString(format.name, 'text.format.name'),
    schema: stripSchemaUri(requireObject(format.schema, 'text.format.schema')),
  }
  const description = optionalString(format.description, 'text.format.description')
  if (description !== undefined) schema.description = description
  if (typeof format.strict === 'boolean') schema.strict = format.strict
  return { type: 'json_schema', json_schema: schema }
}
