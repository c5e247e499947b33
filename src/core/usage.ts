/**
 * Token usage normalized across vendors, in OpenAI's semantics: `inputTokens` counts every prompt
 * token including cache reads and writes (Anthropic reports those apart from `input_tokens`; the
 * adapter adds them), and `outputTokens` includes reasoning tokens.
 */
export interface Usage {
  inputTokens: number
  outputTokens: number
  /** Prompt tokens served from the vendor's prompt cache (a subset of inputTokens). */
  cachedInputTokens: number
  /** Prompt tokens written to the vendor's prompt cache (a subset of inputTokens; Anthropic bills them higher). */
  cacheWriteTokens: number
  /** Output tokens spent on reasoning (a subset of outputTokens). */
  reasoningTokens: number
  /** True when counted by the gateway (tokenizer) because the vendor reported none. */
  estimated: boolean
}

export const emptyUsage = (): Usage => ({
  inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false,
})

/** OpenAI's `usage` object as it appears in chat, completions, embeddings and chunks. */
export interface OpenAIUsage {
  prompt_tokens: number
  completion_tokens?: number
  total_tokens: number
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number } | null
  completion_tokens_details?: { reasoning_tokens?: number } | null
}

export function usageFromOpenAI(u: OpenAIUsage | null | undefined): Usage | undefined {
  if (!u || typeof u.prompt_tokens !== 'number') return undefined
  return {
    inputTokens: u.prompt_tokens,
    outputTokens: u.completion_tokens ?? 0,
    cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: u.prompt_tokens_details?.cache_write_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
    estimated: false,
  }
}

export function usageToOpenAI(u: Usage): OpenAIUsage {
  const out: OpenAIUsage = {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
  }
  if (u.cachedInputTokens || u.cacheWriteTokens) {
    out.prompt_tokens_details = { cached_tokens: u.cachedInputTokens }
    if (u.cacheWriteTokens) out.prompt_tokens_details.cache_write_tokens = u.cacheWriteTokens
  }
  if (u.reasoningTokens) out.completion_tokens_details = { reasoning_tokens: u.reasoningTokens }
  return out
}
