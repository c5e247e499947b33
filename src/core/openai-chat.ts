/**
 * OpenAI Chat Completions: the gateway's internal lingua franca. Every adapter translates to and
 * from these shapes. Fields the gateway does not know are kept (index signatures) so that an
 * OpenAI-type upstream receives them untouched.
 */
import type { OpenAIUsage } from './usage.ts'
import type { Json, JsonObject } from './json.ts'

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function'

export interface TextPart { type: 'text'; text: string; [k: string]: unknown }
export interface ImagePart { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' }; [k: string]: unknown }
export interface InputAudioPart { type: 'input_audio'; input_audio: { data: string; format: string } }
export interface FilePart { type: 'file'; file: { file_data?: string; file_id?: string; filename?: string } }
export type ContentPart = TextPart | ImagePart | InputAudioPart | FilePart

export interface ToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

export interface ChatMessage {
  role: ChatRole
  content?: string | ContentPart[] | null
  name?: string
  tool_calls?: ToolCall[]
  tool_call_id?: string
  /** Reasoning text carried by DeepSeek-style vendors and by our translations of thinking blocks. */
  reasoning_content?: string | null
  /**
   * Opaque vendor reasoning state that must come back on the next turn byte for byte
   * (Anthropic thinking signatures, redacted thinking, Gemini thought signatures).
   * Gateway extension; OpenAI-type upstreams never see it (adapters strip it).
   */
  reasoning_details?: ReasoningDetail[]
  refusal?: string | null
  [k: string]: unknown
}

export type ReasoningDetail =
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'thought_signature'; signature: string; tool_call_id?: string }

export interface FunctionTool {
  type: 'function'
  function: { name: string; description?: string; parameters?: JsonObject; strict?: boolean | null }
}

export type ToolChoice =
  | 'none' | 'auto' | 'required'
  | { type: 'function'; function: { name: string } }

export interface ResponseFormat {
  type: 'text' | 'json_object' | 'json_schema'
  json_schema?: { name: string; description?: string; schema?: JsonObject; strict?: boolean | null }
}

export interface ChatRequest {
  model: string
  messages: ChatMessage[]
  stream?: boolean | null
  stream_options?: { include_usage?: boolean } | null
  max_tokens?: number | null
  max_completion_tokens?: number | null
  temperature?: number | null
  top_p?: number | null
  n?: number | null
  stop?: string | string[] | null
  tools?: FunctionTool[]
  tool_choice?: ToolChoice
  parallel_tool_calls?: boolean
  response_format?: ResponseFormat
  /** OpenAI's levels; other strings pass through to OpenAI-type vendors and mean no thinking elsewhere. */
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | (string & {}) | null
  user?: string
  seed?: number | null
  presence_penalty?: number | null
  frequency_penalty?: number | null
  [k: string]: unknown
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call'

export interface ChatCompletion {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  choices: Array<{
    index: number
    message: ChatMessage & { role: 'assistant' }
    finish_reason: FinishReason | null
    logprobs?: Json
  }>
  usage?: OpenAIUsage
  system_fingerprint?: string | null
  [k: string]: unknown
}

export interface ToolCallDelta {
  index: number
  id?: string
  type?: 'function'
  function?: { name?: string; arguments?: string }
}

export interface ChatCompletionChunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  choices: Array<{
    index: number
    delta: {
      role?: 'assistant'
      content?: string | null
      tool_calls?: ToolCallDelta[]
      reasoning_content?: string
      reasoning_details?: ReasoningDetail[]
      refusal?: string | null
    }
    finish_reason: FinishReason | null
    logprobs?: Json
  }>
  usage?: OpenAIUsage | null
  [k: string]: unknown
}
