/**
 * OpenAI schema: OpenAI itself, Azure OpenAI and every OpenAI-compatible host (vLLM, Ollama, Groq,
 * Together, Mistral, DeepSeek, OpenRouter...). These differ only in URL and key header, so they
 * are one adapter with two request builders, not a folder each.
 */
import type { Operation, ParsedResponse, ProviderAdapter, ProviderKind } from '../types.ts'
import { isObject } from '../../core/json.ts'
import { buildAzureRequest, buildOpenAIRequest } from './build-request.ts'
import { openAIStreamTranslator } from './stream.ts'
import { parseOpenAIError } from './errors.ts'
import { sniffBody, usageFromBody } from './usage-sniff.ts'

const NATIVE: ReadonlySet<Operation> = new Set(['chat', 'completions', 'embeddings', 'responses', 'passthrough'])

function parseResponse(input: Parameters<ProviderAdapter['parseResponse']>[0], bytes: Buffer): ParsedResponse {
  const text = bytes.toString('utf8')
  const sniffed = sniffBody(input.operation, text)
  if (sniffed) return { kind: 'raw', bytes, usage: sniffed.usage, responseModel: sniffed.model, responseId: sniffed.id, finishReasons: sniffed.finishReasons }
  let parsed: unknown
  try { parsed = JSON.parse(text) } catch { return { kind: 'raw', bytes, usage: undefined } }
  if (!isObject(parsed)) return { kind: 'raw', bytes, usage: undefined }
  const finishReasons: string[] = []
  if (Array.isArray(parsed.choices)) {
    for (const c of parsed.choices) if (isObject(c) && typeof c.finish_reason === 'string') finishReasons.push(c.finish_reason)
  }
  return {
    kind: 'raw',
    bytes,
    usage: usageFromBody(input.operation, parsed),
    responseModel: typeof parsed.model === 'string' ? parsed.model : undefined,
    responseId: typeof parsed.id === 'string' ? parsed.id : undefined,
    finishReasons,
  }
}

function makeAdapter(schema: 'openai' | 'azure', build: ProviderAdapter['buildRequest']): ProviderAdapter {
  return {
    schema,
    native: NATIVE,
    supports: NATIVE,
    streamFraming: 'sse',
    buildRequest: build,
    parseResponse,
    streamTranslator: openAIStreamTranslator,
    parseError: parseOpenAIError,
  }
}

export const openAIAdapter = makeAdapter('openai', buildOpenAIRequest)
export const azureAdapter = makeAdapter('azure', buildAzureRequest)

export const openAIKind: ProviderKind = { adapter: openAIAdapter, defaultBaseUrl: 'https://api.openai.com/v1', needsKey: true }
/** Self-hosted OpenAI-compatible servers often need no key. */
export const openAICompatibleKind: ProviderKind = { adapter: openAIAdapter, needsKey: false }
export const azureKind: ProviderKind = { adapter: azureAdapter, needsKey: true }
