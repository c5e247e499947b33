/** OpenAI Chat Completions request -> Gemini generateContent body. Pure; never mutates the request. */
import { invalidRequest } from '../../core/errors.ts'
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import type { ChatMessage, ChatRequest, ReasoningDetail, ToolChoice } from '../../core/openai-chat.ts'
import { contentPartToGemini } from './media.ts'
import { sanitizeGeminiSchema } from './schema.ts'
import { toolArguments } from '../translated.ts'

/** Thinking budgets (tokens) for OpenAI's reasoning_effort levels; documented in docs/translation-gemini.md. */
export const THINKING_BUDGET: Record<string, number> = { minimal: 128, low: 1024, medium: 8192, high: 24576, xhigh: 24576 }

interface Content { role: 'user' | 'model'; parts: JsonObject[] }

export function chatToGemini(req: ChatRequest): JsonObject {
  const body: JsonObject = { contents: messagesToContents(req.messages) as unknown as Json }
  const system = systemInstruction(req.messages)
  if (system) body['systemInstruction'] = system
  const tools = toolsToGemini(req)
  if (tools) body['tools'] = tools
  const toolConfig = toolChoiceToGemini(req.tool_choice)
  if (toolConfig) body['toolConfig'] = toolConfig
  const generationConfig = generationConfigOf(req)
  if (Object.keys(generationConfig).length > 0) body['generationConfig'] = generationConfig
  return body
}

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((p) => (p.type === 'text' ? p.text : '')).join('')
}

// Gemini refuses an empty text part ("empty text parameter") and a turn with no parts, so empty
// system, developer and user text is left out rather than failing the whole call.
function systemInstruction(messages: ChatMessage[]): JsonObject | undefined {
  const parts = messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => ({ text: textOf(m.content) }))
    .filter((p) => p.text !== '')
  return parts.length > 0 ? { parts } : undefined
}

function userParts(msg: ChatMessage, index: number): JsonObject[] {
  if (typeof msg.content === 'string') return msg.content === '' ? [] : [{ text: msg.content }]
  if (!Array.isArray(msg.content)) return []
  const parts: JsonObject[] = []
  msg.content.forEach((p, j) => {
    const part = contentPartToGemini(p, `messages[${index}].content[${j}]`)
    if (part && part['text'] !== '') parts.push(part)
  })
  return parts
}


/** The assistant turn, with thought signatures put back on the parts they came from. */
function assistantParts(msg: ChatMessage, index: number): JsonObject[] {
  const details: ReasoningDetail[] = msg.reasoning_details ?? []
  const signatures = details.filter((d) => d.type === 'thought_signature')
  const byCall = new Map<string, string>()
  const loose: string[] = []
  for (const s of signatures) {
    if (s.tool_call_id !== undefined) byCall.set(s.tool_call_id, s.signature)
    else loose.push(s.signature)
  }
  const parts: JsonObject[] = []
  const text = textOf(msg.content)
  if (text !== '') parts.push({ text })
  // Gemini puts a text turn's signature on its last text part (often an empty one); our text is one
  // part, so the first signature goes back on it and any others on empty text parts, in order.
  loose.forEach((sig, k) => {
    const textPart = parts[0]
    if (k === 0 && textPart) textPart['thoughtSignature'] = sig
    else parts.push({ text: '', thoughtSignature: sig })
  })
  ;(msg.tool_calls ?? []).forEach((call, j) => {
    const part: JsonObject = {
      functionCall: { name: call.function.name, args: toolArguments(call.function.arguments, `messages[${index}].tool_calls[${j}].function.arguments`) },
    }
    const sig = byCall.get(call.id)
    if (sig !== undefined) part['thoughtSignature'] = sig
    parts.push(part)
  })
  return parts
}

function toolResponse(content: ChatMessage['content']): Json {
  const text = textOf(content)
  try {
    return JSON.parse(text) as Json
  } catch {
    return text
  }
}

export function messagesToContents(messages: ChatMessage[]): Content[] {
  const contents: Content[] = []
  // Tool results carry only the call id; Gemini wants the function name. The latest call with that id wins.
  const callNames = new Map<string, string>()
  messages.forEach((msg, i) => {
    switch (msg.role) {
      case 'system':
      case 'developer':
        return
      case 'user': {
        const parts = userParts(msg, i)
        if (parts.length > 0) contents.push({ role: 'user', parts })
        return
      }
      case 'assistant': {
        for (const call of msg.tool_calls ?? []) callNames.set(call.id, call.function.name)
        const parts = assistantParts(msg, i)
        if (parts.length > 0) contents.push({ role: 'model', parts })
        return
      }
      case 'tool':
      case 'function': {
        const name = (msg.tool_call_id !== undefined ? callNames.get(msg.tool_call_id) : undefined) ?? msg.name
        if (name === undefined) {
          throw invalidRequest(`messages[${i}].tool_call_id matches no earlier assistant tool call`, `messages[${i}].tool_call_id`)
        }
        const part: JsonObject = { functionResponse: { name, response: { content: toolResponse(msg.content) } } }
        const prev = contents[contents.length - 1]
        // Parallel calls are answered in one user turn, as Gemini expects.
        if (prev && prev.role === 'user' && prev.parts.every((p) => p['functionResponse'] !== undefined)) prev.parts.push(part)
        else contents.push({ role: 'user', parts: [part] })
        return
      }
    }
  })
  return contents
}

function toolsToGemini(req: ChatRequest): Json | undefined {
  const tools = (req.tools ?? []).filter((t) => t.type === 'function')
  if (tools.length === 0) return undefined
  const functionDeclarations = tools.map((t) => {
    const decl: JsonObject = { name: t.function.name }
    if (t.function.description !== undefined) decl['description'] = t.function.description
    const params = t.function.parameters
    // An object schema with no properties is rejected by Gemini; a function without parameters is fine.
    if (params && !(params['type'] === 'object' && Object.keys(asObject(params['properties'])).length === 0)) {
      decl['parameters'] = sanitizeGeminiSchema(params)
    }
    return decl
  })
  return [{ functionDeclarations }]
}

function asObject(v: Json | undefined): JsonObject {
  return isObject(v) ? v : {}
}

function toolChoiceToGemini(choice: ToolChoice | undefined): JsonObject | undefined {
  if (choice === undefined) return undefined
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } }
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } }
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } }
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } }
}

function generationConfigOf(req: ChatRequest): JsonObject {
  const cfg: JsonObject = {}
  const maxTokens = req.max_completion_tokens ?? req.max_tokens
  if (typeof maxTokens === 'number') cfg['maxOutputTokens'] = maxTokens
  if (typeof req.temperature === 'number') cfg['temperature'] = req.temperature
  if (typeof req.top_p === 'number') cfg['topP'] = req.top_p
  if (typeof req.stop === 'string') cfg['stopSequences'] = [req.stop]
  else if (Array.isArray(req.stop)) cfg['stopSequences'] = req.stop
  if (typeof req.n === 'number') cfg['candidateCount'] = req.n
  if (typeof req.seed === 'number') cfg['seed'] = req.seed
  if (typeof req.presence_penalty === 'number') cfg['presencePenalty'] = req.presence_penalty
  if (typeof req.frequency_penalty === 'number') cfg['frequencyPenalty'] = req.frequency_penalty
  const format = req.response_format
  if (format?.type === 'json_object') cfg['responseMimeType'] = 'application/json'
  if (format?.type === 'json_schema') {
    cfg['responseMimeType'] = 'application/json'
    const schema = format.json_schema?.schema
    if (schema) cfg['responseSchema'] = sanitizeGeminiSchema(schema)
  }
  const effort = req.reasoning_effort
  if (typeof effort === 'string' && THINKING_BUDGET[effort] !== undefined) {
    cfg['thinkingConfig'] = { thinkingBudget: THINKING_BUDGET[effort], includeThoughts: true }
  }
  return cfg
}
