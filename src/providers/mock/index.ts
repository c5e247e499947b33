/** The built-in offline vendor: OpenAI schema, in-process transport, no key. */
import type { ProviderKind } from '../types.ts'
import { openAIAdapter } from '../openai/index.ts'
import { createMockTransport } from './transport.ts'

export const mockKind: ProviderKind = {
  adapter: openAIAdapter,
  defaultBaseUrl: 'http://mock.invalid/v1',
  needsKey: false,
  transport: createMockTransport,
}
