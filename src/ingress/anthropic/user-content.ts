/**
 * Anthropic user turns -> OpenAI messages. A user turn may carry tool results, which OpenAI models
 * as separate `tool` messages that must directly follow the assistant's tool calls, so they come
 * first; everything else (text, images, documents, and images a tool returned) becomes one user
 * message after them.
 */
import type { ChatMessage, ContentPart } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import { fail, optionalString, requireArray, requireBlock, requireObject, requireString } from './fields.ts'

export function userTurnToChat(content: Json | undefined, path: string): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }]
  const blocks = requireArray(content, path)
  const toolMessages: ChatMessage[] = []
  const parts: ContentPart[] = []
  blocks.forEach((raw, i) => {
    const blockPath = `${path}[${i}]`
    const block = requireBlock(raw, blockPath)
    if (block.type === 'tool_result') {
      const result = toolResultToChat(block, blockPath)
      toolMessages.push(result.message)
      if (result.attachments.length > 0) {
        // OpenAI tool messages carry text only; the model still sees what the tool returned.
        parts.push({ type: 'text', text: `Attachments returned by tool call ${result.message.tool_call_id ?? ''}:` })
        parts.push(...result.attachments)
      }
      return
    }
    if (block.type === 'thinking' || block.type === 'redacted_thinking' || block.type === 'tool_use') {
      fail(`${blockPath}.type`, `'${block.type}' blocks are only allowed in assistant messages`)
    }
    parts.push(...inputBlockToParts(block, blockPath))
  })
  if (parts.length > 0) return [...toolMessages, { role: 'user', content: parts }]
  return toolMessages.length > 0 ? toolMessages : [{ role: 'user', content: '' }]
}

/** Blocks that may appear in user content and inside tool results (text, image, document, search_result). */
export function inputBlockToParts(block: JsonObject & { type: string }, path: string): ContentPart[] {
  switch (block.type) {
    case 'text':
      return [{ type: 'text', text: requireString(block.text, `${path}.text`) }]
    case 'image':
      return [imageToPart(block, path)]
    case 'document':
      return documentToParts(block, path)
    case 'search_result':
      return [{ type: 'text', text: searchResultText(block, path) }]
    case 'container_upload':
      // A file for Anthropic's code-execution container, which foreign targets do not have.
      return []
    default:
      return fail(`${path}.type`, `unsupported content block type '${block.type}'`)
  }
}

function imageToPart(block: JsonObject, path: string): ContentPart {
  const source = requireObject(block.source, `${path}.source`)
  const kind = requireString(source.type, `${path}.source.type`)
  if (kind === 'base64') {
    const mediaType = requireString(source.media_type, `${path}.source.media_type`)
    const data = requireString(source.data, `${path}.source.data`)
    return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } }
  }
  if (kind === 'url') return { type: 'image_url', image_url: { url: requireString(source.url, `${path}.source.url`) } }
  return fail(`${path}.source.type`, `image source '${kind}' cannot be sent to a non-Anthropic model (use base64 or url)`)
}

function documentToParts(block: JsonObject, path: string): ContentPart[] {
  const source = requireObject(block.source, `${path}.source`)
  const kind = requireString(source.type, `${path}.source.type`)
  const title = optionalString(block.title, `${path}.title`)
  if (kind === 'base64') {
    const mediaType = requireString(source.media_type, `${path}.source.media_type`)
    const data = requireString(source.data, `${path}.source.data`)
    return [{ type: 'file', file: { filename: title ?? 'document.pdf', file_data: `data:${mediaType};base64,${data}` } }]
  }
  if (kind === 'text') {
    const data = requireString(source.data, `${path}.source.data`)
    return [{ type: 'text', text: title === undefined ? data : `${title}\n\n${data}` }]
  }
  if (kind === 'content') {
    if (typeof source.content === 'string') return [{ type: 'text', text: source.content }]
    return requireArray(source.content, `${path}.source.content`).flatMap((raw, i) => {
      const inner = requireBlock(raw, `${path}.source.content[${i}]`)
      if (inner.type !== 'text' && inner.type !== 'image') fail(`${path}.source.content[${i}].type`, 'must be text or image')
      return inputBlockToParts(inner, `${path}.source.content[${i}]`)
    })
  }
  return fail(`${path}.source.type`, `document source '${kind}' cannot be sent to a non-Anthropic model (use base64, text or content)`)
}

function searchResultText(block: JsonObject, path: string): string {
  const title = requireString(block.title, `${path}.title`)
  const source = requireString(block.source, `${path}.source`)
  const texts = requireArray(block.content, `${path}.content`).map((raw, i) =>
    requireString(requireObject(raw, `${path}.content[${i}]`).text, `${path}.content[${i}].text`))
  return [`${title} (${source})`, ...texts].join('\n')
}

interface ToolResult { message: ChatMessage; attachments: ContentPart[] }

function toolResultToChat(block: JsonObject, path: string): ToolResult {
  const toolCallId = requireString(block.tool_use_id, `${path}.tool_use_id`)
  const texts: string[] = []
  const attachments: ContentPart[] = []
  const content = block.content
  if (typeof content === 'string') texts.push(content)
  else if (content !== undefined && content !== null) {
    requireArray(content, `${path}.content`).forEach((raw, i) => {
      const innerPath = `${path}.content[${i}]`
      const inner = requireBlock(raw, innerPath)
      if (inner.type === 'tool_reference') {
        // Claude Code's ToolSearch answers with references to deferred tools. We send every deferred
        // tool to the vendor up front, so naming the tool is enough for the model to call it.
        texts.push(`Tool available: ${requireString(inner.tool_name, `${innerPath}.tool_name`)}`)
        return
      }
      for (const part of inputBlockToParts(inner, innerPath)) {
        if (part.type === 'text') texts.push(part.text)
        else attachments.push(part)
      }
    })
  }
  const text = texts.join('\n')
  const isError = block.is_error === true
  return {
    message: { role: 'tool', tool_call_id: toolCallId, content: isError ? `Error: ${text}` : text },
    attachments,
  }
}
