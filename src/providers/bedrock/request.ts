/** OpenAI Chat Completions request -> Bedrock Converse body. Pure; never mutates the request. */
import { invalidRequest } from '../../core/errors.ts'
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import type { ChatMessage, ChatRequest, ContentPart, ToolChoice } from '../../core/openai-chat.ts'
import { lastToolTurnLacksThinking, toolArguments } from '../translated.ts'
import { nameMap } from '../../core/name-map.ts'

type Effort = 'minimal' | 'low' | 'medium' | 'high'

/** Claude thinking budgets (tokens) for reasoning_effort; Anthropic's minimum budget is 1024. */
export const CLAUDE_THINKING_BUDGET: Readonly<Record<Effort, number>> = { minimal: 1024, low: 2048, medium: 8192, high: 16384 }

interface Message { role: 'user' | 'assistant'; content: JsonObject[] }

const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s
const IMAGE_FORMATS: Record<string, string> = nameMap({ 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' })

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((p) => (p.type === 'text' ? p.text : '')).join('')
}

function imageBlock(url: string, param: string): JsonObject {
  const m = DATA_URL.exec(url)
  if (!m) {
    throw invalidRequest('Bedrock Converse accepts images only as base64 data: URLs (it cannot fetch http(s) URLs); inline the image as data:image/...;base64,...', param)
  }
  const format = IMAGE_FORMATS[(m[1] ?? '').toLowerCase()]
  if (!format) throw invalidRequest(`Bedrock Converse supports png, jpeg, gif and webp images, not ${m[1] ?? 'unknown'}`, param)
  return { image: { format, source: { bytes: m[2] ?? '' } } }
}

function partToBlock(part: ContentPart, param: string): JsonObject | undefined {
  if (part.type === 'text') return part.text === '' ? undefined : { text: part.text }
  if (part.type === 'image_url') return imageBlock(part.image_url.url, param)
  throw invalidRequest(`Bedrock Converse does not accept ${part.type} content parts through this gateway`, param)
}

function userBlocks(msg: ChatMessage, index: number): JsonObject[] {
  if (typeof msg.content === 'string') return msg.content === '' ? [] : [{ text: msg.content }]
  if (!Array.isArray(msg.content)) return []
  const blocks: JsonObject[] = []
  msg.content.forEach((p, j) => {
    const b = partToBlock(p, `messages[${index}].content[${j}]`)
    if (b) blocks.push(b)
  })
  return blocks
}


function assistantBlocks(msg: ChatMessage, index: number): JsonObject[] {
  const blocks: JsonObject[] = []
  // Signed reasoning must precede the text and tool use it led to, exactly as it was received.
  for (const d of msg.reasoning_details ?? []) {
    if (d.type === 'thinking') {
      const reasoningText: JsonObject = { text: d.thinking }
      if (d.signature !== undefined) reasoningText['signature'] = d.signature
      blocks.push({ reasoningContent: { reasoningText } })
    } else if (d.type === 'redacted_thinking') {
      blocks.push({ reasoningContent: { redactedContent: d.data } })
    }
  }
  const text = textOf(msg.content)
  if (text !== '') blocks.push({ text })
  ;(msg.tool_calls ?? []).forEach((call, j) => {
    blocks.push({ toolUse: { toolUseId: call.id, name: call.function.name, input: toolArguments(call.function.arguments, `messages[${index}].tool_calls[${j}].function.arguments`) } })
  })
  return blocks
}

/** What an empty tool result says instead: plain text, where {json: {}} could read as an empty object the tool returned. */
const EMPTY_TOOL_RESULT = '(no output)'

/**
 * A tool that printed nothing (content "", [] or whitespace) still needs a result, and Converse
 * rejects blank text blocks; the result stays in the history, so every later turn would fail too.
 */
function toolResultText(content: ChatMessage['content']): string {
  const text = textOf(content)
  return text.trim() === '' ? EMPTY_TOOL_RESULT : text
}

export function messagesToBedrock(messages: ChatMessage[]): Message[] {
  const out: Message[] = []
  // Converse rejects two turns of the same role in a row, so tool results and a following user turn merge.
  const add = (role: Message['role'], blocks: JsonObject[]): void => {
    if (blocks.length === 0) return
    const prev = out[out.length - 1]
    if (prev && prev.role === role) prev.content.push(...blocks)
    else out.push({ role, content: blocks })
  }
  messages.forEach((msg, i) => {
    if (msg.role === 'user') add('user', userBlocks(msg, i))
    else if (msg.role === 'assistant') add('assistant', assistantBlocks(msg, i))
    else if (msg.role === 'tool' || msg.role === 'function') {
      const toolUseId = msg.tool_call_id ?? msg.name ?? ''
      add('user', [{ toolResult: { toolUseId, content: [{ text: toolResultText(msg.content) }] } }])
    }
  })
  return out
}

function hasToolBlocks(messages: Message[]): boolean {
  return messages.some((m) => m.content.some((b) => b['toolUse'] !== undefined || b['toolResult'] !== undefined))
}

function toolConfigOf(req: ChatRequest, messages: Message[]): JsonObject | undefined {
  const tools = (req.tools ?? []).filter((t) => t.type === 'function')
  if (tools.length === 0) return undefined
  const choice: ToolChoice | undefined = req.tool_choice
  // Converse has no "none": leave the tools out, unless the history uses tools (then toolConfig is required).
  if (choice === 'none' && !hasToolBlocks(messages)) return undefined
  const specs = tools.map((t) => {
    const toolSpec: JsonObject = { name: t.function.name, inputSchema: { json: t.function.parameters ?? { type: 'object', properties: {} } } }
    if (t.function.description !== undefined) toolSpec['description'] = t.function.description
    return { toolSpec }
  })
  const config: JsonObject = { tools: specs }
  if (choice === 'auto') config['toolChoice'] = { auto: {} }
  else if (choice === 'required') config['toolChoice'] = { any: {} }
  else if (typeof choice === 'object') config['toolChoice'] = { tool: { name: choice.function.name } }
  return config
}

function isClaude(model: string): boolean {
  return /anthropic\.claude|(^|[.:/])claude/i.test(model)
}

/**
 * The client's reasoning_effort as a level Claude and Nova have. OpenAI's "xhigh" is above both
 * vendors' top, so it gets their "high". "none" (OpenAI's "do not reason") and values this gateway
 * does not know mean no reasoning: a default budget would bill the client for thinking it did not ask for.
 */
function effortLevel(effort: unknown): Effort | undefined {
  if (effort === 'xhigh') return 'high'
  return effort === 'minimal' || effort === 'low' || effort === 'medium' || effort === 'high' ? effort : undefined
}

const isReasoning = (b: JsonObject): boolean => b['reasoningContent'] !== undefined
const isToolUse = (b: JsonObject): boolean => b['toolUse'] !== undefined

/** toolChoice `any` or a named `tool` forces a tool call. */
function forcesTool(toolConfig: JsonObject | undefined): boolean {
  const choice = toolConfig?.['toolChoice']
  return isObject(choice) && (choice['any'] !== undefined || choice['tool'] !== undefined)
}

/**
 * Claude on Bedrock enforces Anthropic's thinking rules, so thinking is left off where Anthropic
 * refuses it: with a forced tool, and in a tool loop whose last assistant turn does not start with
 * its signed reasoning (the client did not keep reasoning_details).
 */
function claudeThinking(level: Effort, messages: Message[], toolConfig: JsonObject | undefined): JsonObject | undefined {
  if (forcesTool(toolConfig)) return undefined
  if (lastToolTurnLacksThinking(messages, isReasoning, isToolUse)) return undefined
  return { thinking: { type: 'enabled', budget_tokens: CLAUDE_THINKING_BUDGET[level] } }
}

function reasoningFields(req: ChatRequest, model: string, messages: Message[], toolConfig: JsonObject | undefined): JsonObject | undefined {
  const level = effortLevel(req.reasoning_effort)
  if (level === undefined) return undefined
  if (isClaude(model)) return claudeThinking(level, messages, toolConfig)
  if (/amazon\.nova/i.test(model)) {
    // Nova's levels are low, medium and high.
    return { reasoningConfig: { type: 'enabled', maxReasoningEffort: level === 'minimal' ? 'low' : level } }
  }
  return undefined
}

/**
 * `defaultMaxTokens` (the model's default_max_output_tokens, else routing's) is sent only where
 * thinking needs room: Claude requires budget_tokens < maxTokens, and a Converse call without
 * maxTokens gets the model's own default, which may be below the budget.
 */
export function chatToBedrock(req: ChatRequest, model: string, defaultMaxTokens = 4096): JsonObject {
  if (typeof req.n === 'number' && req.n > 1) throw invalidRequest('Bedrock Converse returns one choice; n > 1 is not supported', 'n')
  const messages = messagesToBedrock(req.messages)
  const body: JsonObject = { messages: messages as unknown as Json }
  const system = req.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => textOf(m.content))
    .filter((t) => t !== '')
    .map((text) => ({ text }))
  if (system.length > 0) body['system'] = system
  const clientMax = req.max_completion_tokens ?? req.max_tokens
  let maxTokens = typeof clientMax === 'number' ? clientMax : undefined
  const toolConfig = toolConfigOf(req, messages)
  const extra = reasoningFields(req, model, messages, toolConfig)
  // Claude's thinking rejects any temperature but 1 and a top_p below 0.95 (Anthropic's
  // extended-thinking docs), so the sampling knobs go only without it, as the Anthropic adapter does.
  const thinking = isObject(extra?.['thinking']) ? extra['thinking'] : undefined
  const budget = thinking?.['budget_tokens']
  // Room for the answer beyond the budget, as the Anthropic adapter does: the client's limit (or
  // the default) is kept for the answer. Shrinking the budget instead fails below Anthropic's 1024 minimum.
  if (typeof budget === 'number' && (maxTokens === undefined || maxTokens <= budget)) maxTokens = budget + (maxTokens ?? defaultMaxTokens)
  const inference: JsonObject = {}
  if (maxTokens !== undefined) inference['maxTokens'] = maxTokens
  if (!thinking && typeof req.temperature === 'number') inference['temperature'] = req.temperature
  if (!thinking && typeof req.top_p === 'number') inference['topP'] = req.top_p
  if (typeof req.stop === 'string') inference['stopSequences'] = [req.stop]
  else if (Array.isArray(req.stop)) inference['stopSequences'] = req.stop
  if (Object.keys(inference).length > 0) body['inferenceConfig'] = inference
  if (toolConfig) body['toolConfig'] = toolConfig
  if (extra) body['additionalModelRequestFields'] = extra
  return body
}
