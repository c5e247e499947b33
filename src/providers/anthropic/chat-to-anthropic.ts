/**
 * OpenAI ChatRequest -> Anthropic Messages request body. Pure: the same input always gives the
 * same body and the client's request is never modified (it is re-translated on every attempt).
 * docs/translation-anthropic.md lists every field and what happens to it.
 */
import { invalidRequest } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { JsonObject } from '../../core/json.ts'
import type { ChatRequest } from '../../core/openai-chat.ts'
import { lastToolTurnLacksThinking } from '../translated.ts'
import type { AnthropicContentBlock, AnthropicMessage, AnthropicRequest, AnthropicToolChoice } from './types.ts'
import { messagesToAnthropic } from './messages-to-anthropic.ts'
import { toolChoiceToAnthropic, toolsToAnthropic } from './tools-to-anthropic.ts'
import { withCacheBreakpoints } from './cache-breakpoints.ts'
import { nameMap } from '../../core/name-map.ts'

/**
 * Anthropic requires max_tokens; OpenAI does not. When the client gave no limit the gateway sends
 * the call's cap (the model's default_max_output_tokens, else routing's), this when none is known.
 */
export const DEFAULT_MAX_TOKENS = 4096

/**
 * Thinking budgets for OpenAI's reasoning_effort levels. `xhigh` (gpt-5.x Codex models) gets the
 * high budget; `none` and unknown levels leave thinking off.
 */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = nameMap({ minimal: 1024, low: 1024, medium: 4096, high: 16384, xhigh: 16384 })

export function chatToAnthropic(req: ChatRequest, upstreamModel: string, stream: boolean, defaultMaxTokens = DEFAULT_MAX_TOKENS): AnthropicRequest {
  if (typeof req.n === 'number' && req.n > 1) throw invalidRequest('n > 1 is not supported by Anthropic models', 'n')

  const { system, messages } = messagesToAnthropic(req.messages)
  const clientMax = req.max_completion_tokens ?? req.max_tokens ?? undefined
  const out: AnthropicRequest = { model: upstreamModel, max_tokens: clientMax ?? defaultMaxTokens, messages }
  if (system !== undefined) out.system = system

  const tools = req.tools && req.tools.length > 0 ? toolsToAnthropic(req.tools) : []
  const toolChoice = tools.length > 0 ? toolChoiceToAnthropic(req.tool_choice, req.parallel_tool_calls) : undefined
  if (tools.length > 0) out.tools = tools
  if (toolChoice) out.tool_choice = toolChoice

  if (req.stop !== undefined && req.stop !== null) {
    // Anthropic refuses a stop sequence without a non-whitespace character ("\n" is common from
    // OpenAI clients): such entries are dropped rather than failing the call on a field the
    // client never sent to Anthropic. The answer may then run past a newline the client meant to stop at.
    const stops = (typeof req.stop === 'string' ? [req.stop] : req.stop).filter(s => s.trim() !== '')
    if (stops.length > 0) out.stop_sequences = stops
  }

  const thinking = thinkingFor(req, toolChoice, messages)
  if (thinking) out.thinking = thinking
  if (thinking && thinking['type'] !== 'disabled') {
    // Anthropic needs room for the answer beyond the budget; the client's limit is kept for the answer.
    const budget = thinking['budget_tokens']
    if (typeof budget === 'number' && out.max_tokens <= budget) out.max_tokens = budget + (clientMax ?? defaultMaxTokens)
  } else {
    // Thinking rejects any temperature but 1 and narrow top_p, so sampling knobs only go without it.
    // OpenAI's temperature runs 0-2, Anthropic's 0-1 (a 400 above): above 1 is sent as 1, the
    // most random Anthropic allows, rather than rescaled (which would move every value, 1 included).
    if (typeof req.temperature === 'number') out.temperature = Math.min(req.temperature, 1)
    if (typeof req.top_p === 'number') out.top_p = req.top_p
    if (typeof req['top_k'] === 'number') out.top_k = req['top_k']
  }

  const schema = req.response_format?.type === 'json_schema' ? req.response_format.json_schema?.schema : undefined
  if (schema) out.output_config = { format: { type: 'json_schema', schema } }

  if (typeof req.user === 'string' && req.user !== '') out.metadata = { user_id: req.user }
  if (stream) out.stream = true
  return typeof req['prompt_cache_key'] === 'string' && req['prompt_cache_key'] !== '' ? withCacheBreakpoints(out) : out
}

const isThinking = (b: AnthropicContentBlock): boolean => b.type === 'thinking' || b.type === 'redacted_thinking'
const isToolUse = (b: AnthropicContentBlock): boolean => b.type === 'tool_use'

/**
 * An Anthropic `thinking` object sent by the client (extra_body) wins; otherwise reasoning_effort
 * picks a budget. Anthropic refuses thinking with a forced tool choice, and refuses a tool loop
 * whose last assistant turn lacks its signed thinking (clients that do not keep reasoning_details),
 * so in those cases it is left off rather than failing the request.
 */
function thinkingFor(req: ChatRequest, toolChoice: AnthropicToolChoice | undefined, messages: AnthropicMessage[]): JsonObject | undefined {
  const explicit = req['thinking']
  if (isObject(explicit)) return { ...explicit }
  const effort = req.reasoning_effort
  const budget = typeof effort === 'string' ? THINKING_BUDGETS[effort] : undefined
  if (budget === undefined) return undefined
  if (toolChoice?.type === 'any' || toolChoice?.type === 'tool') return undefined
  if (lastToolTurnLacksThinking(messages, isThinking, isToolUse)) return undefined
  return { type: 'enabled', budget_tokens: budget }
}
