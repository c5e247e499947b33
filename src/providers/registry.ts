/**
 * Provider types by name. Adding a vendor means adding its folder and one line here; nothing else
 * in the gateway names a vendor.
 */
import type { ProviderKind } from './types.ts'
import { azureKind, openAICompatibleKind, openAIKind } from './openai/index.ts'
import { mockKind } from './mock/index.ts'
import { anthropicKind } from './anthropic/index.ts'
import { geminiKind } from './gemini/index.ts'
import { bedrockKind } from './bedrock/index.ts'

const kinds = new Map<string, ProviderKind>([
  ['openai', openAIKind],
  ['openai-compatible', openAICompatibleKind],
  ['azure', azureKind],
  ['anthropic', anthropicKind],
  ['gemini', geminiKind],
  ['bedrock', bedrockKind],
  ['mock', mockKind],
])

export function providerKind(type: string): ProviderKind | undefined {
  return kinds.get(type)
}

/** Used by adapter folders that register themselves at composition time (tests, plugins). */
export function registerProviderKind(type: string, kind: ProviderKind): void {
  kinds.set(type, kind)
}
