/**
 * Anthropic assistant turns -> one OpenAI assistant message. Thinking blocks travel as
 * `reasoning_details` (opaque state a foreign adapter ignores and an Anthropic adapter restores
 * byte for byte) and their text as `reasoning_content` (what DeepSeek-style vendors read back).
 * A thinking block signed with our `sbg1.` envelope carries Gemini thought signatures instead.
 */
import type { ChatMessage, ReasoningDetail, ToolCall } from '../../core/openai-chat.ts'
import type { Json } from '../../core/json.ts'
import { isObject } from '../../core/json.ts'
import { fail, optionalString, requireArray, requireBlock, requireString } from './fields.ts'
import { geminiSignaturesOf, isGeminiSignatureEnvelope } from './gemini-signatures.ts'

/**
 * Blocks produced by Anthropic-hosted tools (web search, code execution, MCP connector, tool search).
 * They record work done on Anthropic's side that a foreign model can neither see nor continue.
 */
const SERVER_SIDE_BLOCKS = new Set([
  'server_tool_use', 'web_search_tool_result', 'web_fetch_tool_result', 'code_execution_tool_result',
  'bash_code_execution_tool_result', 'text_editor_code_execution_tool_result', 'tool_search_tool_result',
  'mcp_tool_use', 'mcp_tool_result', 'container_upload', 'advisor_tool_result', 'mcp_tool_listing',
])

export function assistantTurnToChat(content: Json | undefined, path: string): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content }
  const texts: string[] = []
  const reasoning: string[] = []
  const details: ReasoningDetail[] = []
  const toolCalls: ToolCall[] = []
  requireArray(content, path).forEach((raw, i) => {
    const blockPath = `${path}[${i}]`
    const block = requireBlock(raw, blockPath)
    switch (block.type) {
      case 'text':
        texts.push(requireString(block.text, `${blockPath}.text`))
        return
      case 'compaction':
        // A summary standing in for the earlier conversation: the model must still read it.
        texts.push(requireString(block.content, `${blockPath}.content`))
        return
      case 'tool_use': {
        const input = block.input ?? {}
        if (!isObject(input)) fail(`${blockPath}.input`, 'must be an object')
        toolCalls.push({
          id: requireString(block.id, `${blockPath}.id`),
          type: 'function',
          function: { name: requireString(block.name, `${blockPath}.name`), arguments: JSON.stringify(input) },
        })
        return
      }
      case 'thinking': {
        const thinking = requireString(block.thinking, `${blockPath}.thinking`)
        const signature = optionalString(block.signature, `${blockPath}.signature`)
        // Our envelope of Gemini thought signatures: they go back on the parts they came from.
        if (signature !== undefined && isGeminiSignatureEnvelope(signature)) details.push(...geminiSignaturesOf(signature))
        else details.push(signature === undefined ? { type: 'thinking', thinking } : { type: 'thinking', thinking, signature })
        if (thinking !== '') reasoning.push(thinking)
        return
      }
      case 'redacted_thinking':
        details.push({ type: 'redacted_thinking', data: requireString(block.data, `${blockPath}.data`) })
        return
      default:
        if (SERVER_SIDE_BLOCKS.has(block.type)) return
        fail(`${blockPath}.type`, `unsupported content block type '${block.type}' in an assistant message`)
    }
  })
  // Text blocks split around citations are one text; joining them with nothing restores it.
  const text = texts.join('')
  const message: ChatMessage = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text }
  if (toolCalls.length > 0) message.tool_calls = toolCalls
  if (reasoning.length > 0) message.reasoning_content = reasoning.join('\n\n')
  if (details.length > 0) message.reasoning_details = details
  return message
}
