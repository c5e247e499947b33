import { readFileSync } from 'node:fs'
import type { ChatCompletion, ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import type { JsonObject } from '../../../src/core/json.ts'

const dir = new URL('../../fixtures/ingress-anthropic/', import.meta.url)

export function fixtureJson(name: string): JsonObject {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as JsonObject
}

export function fixtureCompletion(name: string): ChatCompletion {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as ChatCompletion
}

/** A recorded stream: one SSE data payload per line. */
export function fixtureChunks(name: string): ChatCompletionChunk[] {
  return readFileSync(new URL(name, dir), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ChatCompletionChunk)
}
