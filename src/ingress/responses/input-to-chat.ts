/**
 * Responses input items -> OpenAI Chat messages.
 *
 * The Responses API lists an assistant turn as separate items (reasoning, message, function_call
 * ...); Chat wants one assistant message carrying text, tool_calls and (our extension) the
 * reasoning state. Consecutive assistant-side items are therefore gathered into one message, and
 * a reasoning item after visible output starts the next turn.
 */
import type { ChatMessage, ContentPart, ReasoningDetail, ToolCall } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import { fail, optionalString, requireArray, requireBlock, requireObject, requireString } from '../anthropic/fields.ts'
import { chatToolName, type ToolOrigin } from './tools.ts'
import { decodeReasoning } from './reasoning.ts'
import { clientCallToChat, clientOutputToChat } from './client-tools.ts'

/** Item types produced by tools OpenAI runs itself, or by its own context handling: dropped (see the doc). */
const DROPPED_ITEMS = new Set([
  'web_search_call', 'file_search_call', 'computer_call', 'computer_call_output', 'code_interpreter_call',
  'image_generation_call', 'mcp_list_tools', 'mcp_approval_request', 'mcp_approval_response',
  'mcp_call', 'tool_search_call', 'tool_search_output', 'compaction',
])

interface Assistant {
  texts: string[]
  toolCalls: ToolCall[]
  reasoning: string[]
  details: ReasoningDetail[]
}

export function inputToChat(input: Json | undefined, origins: ReadonlyMap<string, ToolOrigin>): ChatMessage[] {
  if (input === undefined || input === null) return []
  if (typeof input === 'string') return [{ role: 'user', content: input }]
  const messages: ChatMessage[] = []
  let turn: Assistant | undefined
  /** Images and files a tool returned: Chat tool messages carry text only, so they follow as a user message. */
  let attachments: ContentPart[] = []

  const flushAttachments = () => {
    if (attachments.length === 0) return
    messages.push({ role: 'user', content: attachments })
    attachments = []
  }
  const flush = () => {
    if (!turn) return
    const t = turn
    turn = undefined
    if (t.texts.length === 0 && t.toolCalls.length === 0) return // reasoning alone is not a turn a vendor accepts
    const msg: ChatMessage = { role: 'assistant', content: t.texts.length > 0 ? t.texts.join('') : null }
    if (t.toolCalls.length > 0) msg.tool_calls = t.toolCalls
    if (t.reasoning.length > 0) msg.reasoning_content = t.reasoning.join('\n\n')
    if (t.details.length > 0) msg.reasoning_details = t.details
    messages.push(msg)
  }
  const assistant = (): Assistant => {
    flushAttachments()
    turn ??= { texts: [], toolCalls: [], reasoning: [], details: [] }
    return turn
  }

  requireArray(input, 'input').forEach((raw, i) => {
    const path = `input[${i}]`
    const item = requireObject(raw, path)
    const type = item.type === undefined || item.type === null ? 'message' : requireString(item.type, `${path}.type`)
    switch (type) {
      case 'message': {
        const role = requireString(item.role, `${path}.role`)
        if (role === 'assistant') {
          const t = assistant()
          // Text after tool calls belongs to a later turn.
          if (t.toolCalls.length > 0) { flush(); assistant().texts.push(assistantText(item.content, `${path}.content`)) } else t.texts.push(assistantText(item.content, `${path}.content`))
          return
        }
        if (role !== 'user' && role !== 'system' && role !== 'developer') fail(`${path}.role`, `must be user, assistant, system or developer (got '${role}')`)
        flush()
        flushAttachments()
        // 'developer' is OpenAI's newer name for system; many OpenAI-compatible servers know only 'system'.
        messages.push({ role: role === 'user' ? 'user' : 'system', content: userContent(item.content, `${path}.content`) })
        return
      }
      case 'function_call':
      case 'custom_tool_call': {
        const t = assistant()
        const name = requireString(item.name, `${path}.name`)
        const args = type === 'function_call'
          ? requireString(item.arguments, `${path}.arguments`)
          : JSON.stringify({ input: requireString(item.input, `${path}.input`) })
        const namespace = optionalString(item.namespace, `${path}.namespace`)
        t.toolCalls.push({ id: requireString(item.call_id, `${path}.call_id`), type: 'function', function: { name: chatToolName(name, namespace, origins), arguments: args } })
        return
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        flush()
        const { text, parts } = toolOutput(item.output, `${path}.output`)
        const callId = requireString(item.call_id, `${path}.call_id`)
        messages.push({ role: 'tool', tool_call_id: callId, content: text })
        if (parts.length > 0) attachments.push({ type: 'text', text: `Attachments returned by tool call ${callId}:` }, ...parts)
        return
      }
      case 'local_shell_call':
      case 'shell_call':
      case 'apply_patch_call':
        assistant().toolCalls.push(clientCallToChat(type, item, path))
        return
      case 'local_shell_call_output':
      case 'shell_call_output':
      case 'apply_patch_call_output': {
        flush()
        const { callId, text } = clientOutputToChat(type, item, path)
        messages.push({ role: 'tool', tool_call_id: callId, content: text })
        return
      }
      case 'reasoning': {
        if (turn && (turn.texts.length > 0 || turn.toolCalls.length > 0)) flush()
        const t = assistant()
        for (const s of requireArray(item.summary ?? [], `${path}.summary`)) {
          const text = requireObject(s, `${path}.summary[]`).text
          if (typeof text === 'string' && text !== '') t.reasoning.push(text)
        }
        const encrypted = optionalString(item.encrypted_content, `${path}.encrypted_content`)
        const details = encrypted === undefined ? undefined : decodeReasoning(encrypted)
        if (details) t.details.push(...details)
        return
      }
      case 'item_reference':
        return fail(`${path}`, 'item_reference cannot be resolved for this model; send the item itself, or continue with previous_response_id')
      default:
        if (DROPPED_ITEMS.has(type)) return
        return fail(`${path}.type`, `unsupported input item type '${type}'`)
    }
  })
  flush()
  flushAttachments()
  return messages
}

function assistantText(content: Json | undefined, path: string): string {
  if (typeof content === 'string') return content
  return requireArray(content, path).map((raw, i) => {
    const part = requireBlock(raw, `${path}[${i}]`)
    if (part.type === 'output_text' || part.type === 'input_text') return requireString(part.text, `${path}[${i}].text`)
    if (part.type === 'refusal') return requireString(part.refusal, `${path}[${i}].refusal`)
    return fail(`${path}[${i}].type`, `unsupported assistant content type '${part.type}'`)
  }).join('')
}

function userContent(content: Json | undefined, path: string): string | ContentPart[] {
  if (typeof content === 'string') return content
  const parts = requireArray(content, path).map((raw, i) => inputPart(requireBlock(raw, `${path}[${i}]`), `${path}[${i}]`))
  // One text part as a plain string: many OpenAI-compatible servers accept only strings for system text.
  const only = parts[0]
  return parts.length === 1 && only?.type === 'text' ? only.text : parts
}

function inputPart(part: JsonObject & { type: string }, path: string): ContentPart {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: requireString(part.text, `${path}.text`) }
    case 'input_image': {
      if (typeof part.image_url !== 'string') fail(`${path}.image_url`, 'is required: OpenAI file ids cannot be read by another vendor; send a URL or a data: URL')
      const detail = part.detail
      return { type: 'image_url', image_url: detail === 'low' || detail === 'high' || detail === 'auto' ? { url: part.image_url, detail } : { url: part.image_url } }
    }
    case 'input_file': {
      if (typeof part.file_data !== 'string') fail(`${path}.file_data`, 'is required: OpenAI file ids and file URLs cannot be read by another vendor')
      const file: { file_data: string; filename?: string } = { file_data: part.file_data }
      const filename = optionalString(part.filename, `${path}.filename`)
      if (filename !== undefined) file.filename = filename
      return { type: 'file', file }
    }
    case 'input_audio': {
      const audio = requireObject(part.input_audio, `${path}.input_audio`)
      return { type: 'input_audio', input_audio: { data: requireString(audio.data, `${path}.input_audio.data`), format: requireString(audio.format, `${path}.input_audio.format`) } }
    }
    default:
      return fail(`${path}.type`, `unsupported content type '${part.type}'`)
  }
}

function toolOutput(output: Json | undefined, path: string): { text: string; parts: ContentPart[] } {
  if (typeof output === 'string') return { text: output, parts: [] }
  const texts: string[] = []
  const parts: ContentPart[] = []
  requireArray(output, path).forEach((raw, i) => {
    const part = inputPart(requireBlock(raw, `${path}[${i}]`), `${path}[${i}]`)
    if (part.type === 'text') texts.push(part.text)
    else parts.push(part)
  })
  return { text: texts.join('\n'), parts }
}
