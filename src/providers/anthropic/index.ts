/**
 * Anthropic Messages API adapter. Serves /v1/messages and /v1/messages/count_tokens natively
 * (bytes pass through) and OpenAI Chat Completions by translation.
 */
import type { Operation, ProviderAdapter, ProviderKind } from '../types.ts'
import { buildRequest, DEFAULT_BASE_URL, isNativeOperation } from './build-request.ts'
import { parseError } from './errors.ts'
import { parseResponse } from './parse-response.ts'
import { createChatStreamTranslator } from './stream-to-chat.ts'
import { createNativeStreamTranslator } from './stream-native.ts'

export { DEFAULT_MAX_TOKENS, THINKING_BUDGETS, chatToAnthropic } from './chat-to-anthropic.ts'
export { anthropicToChat } from './anthropic-to-chat.ts'
export { createChatStreamTranslator } from './stream-to-chat.ts'
export { createNativeStreamTranslator } from './stream-native.ts'
export { parseError } from './errors.ts'
export { DEFAULT_ANTHROPIC_VERSION, DEFAULT_BASE_URL } from './build-request.ts'

export const anthropicAdapter: ProviderAdapter = {
  schema: 'anthropic',
  native: new Set<Operation>(['messages', 'count_tokens']),
  supports: new Set<Operation>(['chat', 'messages', 'count_tokens']),
  streamFraming: 'sse',
  buildRequest,
  parseResponse,
  streamTranslator: (input, opts) => (isNativeOperation(input.operation) ? createNativeStreamTranslator() : createChatStreamTranslator(opts)),
  parseError,
}

export const anthropicKind: ProviderKind = {
  adapter: anthropicAdapter,
  defaultBaseUrl: DEFAULT_BASE_URL,
  needsKey: true,
}
