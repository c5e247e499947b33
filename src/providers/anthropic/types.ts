/**
 * The subset of Anthropic Messages wire shapes the adapter writes and reads. Request shapes are
 * JSON-compatible so a built body can be serialized as is; response shapes are narrowed from
 * `unknown` by the parsers (the vendor adds fields often, so only what we read is declared).
 */
import type { Json, JsonObject } from '../../core/json.ts'

export interface AnthropicTextBlock { type: 'text'; text: string; [k: string]: Json | undefined }
export interface AnthropicImageBlock {
  type: 'image'
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string }
  [k: string]: Json | undefined
}
export interface AnthropicDocumentBlock {
  type: 'document'
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string }
  [k: string]: Json | undefined
}
export interface AnthropicToolUseBlock { type: 'tool_use'; id: string; name: string; input: Json }
export interface AnthropicToolResultBlock {
  type: 'tool_result'
  tool_use_id: string
  content: string | Array<AnthropicTextBlock | AnthropicImageBlock>
}
export interface AnthropicThinkingBlock { type: 'thinking'; thinking: string; signature: string }
export interface AnthropicRedactedThinkingBlock { type: 'redacted_thinking'; data: string }

export type AnthropicContentBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicDocumentBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock

export interface AnthropicMessage {
  role: 'user' | 'assistant'
  content: string | AnthropicContentBlock[]
}

export interface AnthropicTool { name: string; description?: string; input_schema: JsonObject; cache_control?: { type: 'ephemeral' } }

export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' }

export interface AnthropicRequest {
  model: string
  max_tokens: number
  messages: AnthropicMessage[]
  system?: string | AnthropicTextBlock[]
  tools?: AnthropicTool[]
  tool_choice?: AnthropicToolChoice
  stop_sequences?: string[]
  temperature?: number
  top_p?: number
  top_k?: number
  thinking?: Json
  output_config?: JsonObject
  metadata?: { user_id: string }
  stream?: boolean
}

/** Anthropic's `usage` object on messages, message_start and message_delta (all fields optional in deltas). */
export interface AnthropicUsage {
  input_tokens?: number | null
  output_tokens?: number | null
  cache_read_input_tokens?: number | null
  cache_creation_input_tokens?: number | null
  output_tokens_details?: { thinking_tokens?: number | null } | null
}
