/**
 * The Response object and its output items, shared by the non-streamed translation and the stream
 * encoder so both produce the same shapes. Request fields are echoed the way OpenAI echoes them.
 */
import { randomUUID } from 'node:crypto'
import type { FinishReason, ReasoningDetail } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import type { Usage } from '../../core/usage.ts'
import { encodeReasoning } from './reasoning.ts'
import { toolsToChat, type ToolOrigin } from './tools.ts'
import { clientCallItem } from './client-tools.ts'

/**
 * Set (as a symbol, so it never reaches a vendor) on a request body whose previous_response_id the
 * gateway expanded into `input`: the id the client sent, and how many input items are history.
 */
export const EXPANDED: unique symbol = Symbol.for('switchboard.responses.expanded')
export interface Expansion { previousResponseId: string; historyItems: number }

export function expansionOf(body: JsonObject | undefined): Expansion | undefined {
  return body ? (body as JsonObject & { [EXPANDED]?: Expansion })[EXPANDED] : undefined
}

export const newResponseId = (): string => `resp_sb${randomUUID().replaceAll('-', '')}`

/** Item ids derived from the response id: unique, and recognizably ours. */
export const itemId = (responseId: string, prefix: 'msg' | 'rs' | 'fc' | 'ctc' | 'lsh' | 'sh' | 'apc', index: number): string =>
  `${prefix}_${responseId.slice(5)}_${index}`

/** An id `itemId` made. */
export const GATEWAY_ITEM_ID = /^(?:msg|rs|fc|ctc|lsh|sh|apc)_sb[0-9a-f]{32}_\d+$/

export type Status = 'completed' | 'incomplete' | 'in_progress' | 'failed'

export function statusOf(finish: FinishReason | null | undefined): { status: Status; incomplete: JsonObject | null } {
  if (finish === 'length') return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' } }
  if (finish === 'content_filter') return { status: 'incomplete', incomplete: { reason: 'content_filter' } }
  return { status: 'completed', incomplete: null }
}

export function responsesUsage(u: Usage | undefined): JsonObject | null {
  if (!u) return null
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedInputTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
  }
}

const pick = (request: JsonObject | undefined, key: string, fallback: Json): Json => {
  const v = request?.[key]
  return v === undefined ? fallback : v
}

export interface EnvelopeInit {
  id: string
  createdAt: number
  model: string
  request: JsonObject | undefined
  status: Status
  incomplete: JsonObject | null
  output: JsonObject[]
  usage: JsonObject | null
  error?: JsonObject | null
}

export function envelope(e: EnvelopeInit): JsonObject {
  const r = e.request
  const reasoning = r?.reasoning
  const text = r?.text
  return {
    id: e.id,
    object: 'response',
    created_at: e.createdAt,
    status: e.status,
    background: false,
    error: e.error ?? null,
    incomplete_details: e.incomplete,
    instructions: pick(r, 'instructions', null),
    max_output_tokens: pick(r, 'max_output_tokens', null),
    max_tool_calls: pick(r, 'max_tool_calls', null),
    model: e.model,
    output: e.output,
    parallel_tool_calls: pick(r, 'parallel_tool_calls', true),
    previous_response_id: expansionOf(r)?.previousResponseId ?? pick(r, 'previous_response_id', null),
    prompt_cache_key: pick(r, 'prompt_cache_key', null),
    reasoning: {
      effort: reasoning && typeof reasoning === 'object' && !Array.isArray(reasoning) ? reasoning.effort ?? null : null,
      summary: reasoning && typeof reasoning === 'object' && !Array.isArray(reasoning) ? reasoning.summary ?? null : null,
    },
    safety_identifier: pick(r, 'safety_identifier', null),
    service_tier: 'default',
    store: pick(r, 'store', true),
    temperature: pick(r, 'temperature', 1),
    text: text && typeof text === 'object' && !Array.isArray(text) ? { format: { type: 'text' }, ...text } : { format: { type: 'text' } },
    tool_choice: pick(r, 'tool_choice', 'auto'),
    tools: pick(r, 'tools', []),
    top_p: pick(r, 'top_p', 1),
    truncation: pick(r, 'truncation', 'disabled'),
    usage: e.usage,
    user: pick(r, 'user', null),
    metadata: pick(r, 'metadata', {}),
  }
}

export function reasoningItem(id: string, summary: string, details: readonly ReasoningDetail[]): JsonObject {
  const item: JsonObject = { id, type: 'reasoning', summary: summary === '' ? [] : [{ type: 'summary_text', text: summary }] }
  const encrypted = encodeReasoning(details)
  if (encrypted !== undefined) item.encrypted_content = encrypted
  return item
}

export function outputText(text: string): JsonObject {
  return { type: 'output_text', annotations: [], logprobs: [], text }
}

export function messageItem(id: string, status: 'in_progress' | 'completed', content: JsonObject[]): JsonObject {
  return { id, type: 'message', status, content, role: 'assistant' }
}

const CLIENT_PREFIX = { local_shell: 'lsh', shell: 'sh', apply_patch: 'apc' } as const

/** A vendor tool call as the Responses item the client's tool list calls for. */
export function callItem(responseId: string, index: number, callId: string, chatName: string, args: string, status: 'in_progress' | 'completed', origins: ReadonlyMap<string, ToolOrigin>): JsonObject {
  const origin = origins.get(chatName)
  if (origin?.kind === 'client') {
    return clientCallItem(origin.tool, itemId(responseId, CLIENT_PREFIX[origin.tool], index), callId, args, status)
  }
  if (origin?.kind === 'custom') {
    return { id: itemId(responseId, 'ctc', index), type: 'custom_tool_call', status, call_id: callId, name: origin.name, input: status === 'completed' ? customInput(args) : '' }
  }
  const item: JsonObject = { id: itemId(responseId, 'fc', index), type: 'function_call', status, arguments: args, call_id: callId, name: origin?.name ?? chatName }
  if (origin?.namespace !== undefined) item.namespace = origin.namespace
  return item
}

/** The text a model passed to a custom tool through its {"input": string} function. */
export function customInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args)
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { input?: unknown }).input === 'string') return (parsed as { input: string }).input
  } catch {
    // fall through: a model that ignored the wrapper still gets its text through
  }
  return args
}

/** Chat tool name -> Responses origin, from the client's tool list (validated already by toChat). */
export function originsOf(request: JsonObject | undefined): ReadonlyMap<string, ToolOrigin> {
  const tools = request?.tools
  if (!Array.isArray(tools) || !tools.some((t) => t !== null && typeof t === 'object' && !Array.isArray(t) && t.type !== 'function')) return new Map()
  try {
    return toolsToChat(tools).origins
  } catch {
    return new Map()
  }
}
