/** Pieces shared by Gemini's whole-body and streamed response translation. */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import type { FinishReason } from '../../core/openai-chat.ts'
import type { Usage } from '../../core/usage.ts'

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'])

export function finishReasonFromGemini(reason: string, sawToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length'
  if (FILTERED.has(reason)) return 'content_filter'
  // Gemini says STOP after function calls; OpenAI clients look for tool_calls to run them.
  return sawToolCalls ? 'tool_calls' : 'stop'
}

const num = (v: Json | undefined): number => (typeof v === 'number' ? v : 0)

/** Gemini's usageMetadata, normalized. Thoughts are billed as output; tool-use prompt tokens as input. */
export function usageFromGemini(meta: Json | undefined): Usage | undefined {
  if (!isObject(meta) || typeof meta['promptTokenCount'] !== 'number') return undefined
  const thoughts = num(meta['thoughtsTokenCount'])
  return {
    inputTokens: num(meta['promptTokenCount']) + num(meta['toolUsePromptTokenCount']),
    outputTokens: num(meta['candidatesTokenCount']) + thoughts,
    cachedInputTokens: num(meta['cachedContentTokenCount']),
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
    estimated: false,
  }
}

/** A deterministic tool-call id: unique per response (for fallbacks across vendors) and stable in tests. */
export function toolCallId(responseId: string | undefined, candidate: number, index: number): string {
  const prefix = responseId ? `call_${responseId}_` : 'call_'
  return candidate === 0 ? `${prefix}${index}` : `${prefix}${candidate}_${index}`
}

export function argsToString(args: Json | undefined): string {
  return JSON.stringify(isObject(args) ? args : {})
}

export function stringField(obj: JsonObject, key: string): string | undefined {
  const v = obj[key]
  return typeof v === 'string' ? v : undefined
}
