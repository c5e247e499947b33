/**
 * Anthropic usage -> the gateway's normalized Usage. Anthropic reports cache reads and cache writes
 * apart from `input_tokens`; OpenAI semantics (ours) count them inside the prompt, so they are added.
 */
import { isObject } from '../../core/json.ts'
import type { Usage } from '../../core/usage.ts'
import type { AnthropicUsage } from './types.ts'

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/** Reads the fields we use from an untrusted `usage` value; absent or non-numeric fields stay undefined. */
export function readAnthropicUsage(value: unknown): AnthropicUsage | undefined {
  if (!isObject(value)) return undefined
  const details = value['output_tokens_details']
  return {
    input_tokens: num(value['input_tokens']),
    output_tokens: num(value['output_tokens']),
    cache_read_input_tokens: num(value['cache_read_input_tokens']),
    cache_creation_input_tokens: num(value['cache_creation_input_tokens']),
    output_tokens_details: isObject(details) ? { thinking_tokens: num(details['thinking_tokens']) } : undefined,
  }
}

/**
 * Streams report usage twice: message_start (input side, output 1) and message_delta (final output,
 * and on newer models cumulative input and cache counts too). Later values win field by field.
 */
export function mergeAnthropicUsage(base: AnthropicUsage | undefined, next: AnthropicUsage | undefined): AnthropicUsage | undefined {
  if (!next) return base
  if (!base) return next
  return {
    input_tokens: next.input_tokens ?? base.input_tokens,
    output_tokens: next.output_tokens ?? base.output_tokens,
    cache_read_input_tokens: next.cache_read_input_tokens ?? base.cache_read_input_tokens,
    cache_creation_input_tokens: next.cache_creation_input_tokens ?? base.cache_creation_input_tokens,
    output_tokens_details: next.output_tokens_details ?? base.output_tokens_details,
  }
}

export function anthropicUsageToUsage(u: AnthropicUsage): Usage {
  const cacheRead = u.cache_read_input_tokens ?? 0
  const cacheWrite = u.cache_creation_input_tokens ?? 0
  return {
    inputTokens: (u.input_tokens ?? 0) + cacheRead + cacheWrite,
    outputTokens: u.output_tokens ?? 0,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: u.output_tokens_details?.thinking_tokens ?? 0,
    estimated: false,
  }
}
