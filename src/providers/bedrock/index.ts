/**
 * AWS Bedrock (Converse API) behind OpenAI Chat Completions, signed with SigV4.
 * What is translated and what is dropped: docs/translation-bedrock.md.
 */
import { randomUUID } from 'node:crypto'
import { GatewayError } from '../../core/errors.ts'
import { isObject, type Json } from '../../core/json.ts'
import type { ChatRequest } from '../../core/openai-chat.ts'
import type { UpstreamRequest } from '../../upstream/types.ts'
import type { AttemptInput, ParsedResponse, ProviderAdapter, ProviderConfig, ProviderKind } from '../types.ts'
import { parseBedrockError } from './errors.ts'
import { chatToBedrock } from './request.ts'
import { bedrockToChat } from './response.ts'
import { signBedrockRequest } from './sign.ts'
import { createBedrockStreamTranslator } from './stream.ts'
import { chatResponse } from '../translated.ts'

export function bedrockOrigin(provider: ProviderConfig): string {
  if (provider.baseUrl) return new URL(provider.baseUrl).origin
  if (!provider.region) throw new GatewayError({ status: 500, code: 'internal_error', message: `Bedrock provider ${provider.name} needs a region or a base_url` })
  return `https://bedrock-runtime.${provider.region}.amazonaws.com`
}

function buildRequest(input: AttemptInput): UpstreamRequest {
  if (input.operation !== 'chat') {
    throw new GatewayError({ status: 400, code: 'invalid_request', message: `Bedrock providers do not serve ${input.operation}` })
  }
  const body = chatToBedrock(input.body as ChatRequest, input.upstreamModel, input.maxOutputTokens)
  const path = `/model/${encodeURIComponent(input.upstreamModel)}/${input.stream ? 'converse-stream' : 'converse'}`
  const headers: Record<string, string> = { ...input.provider.headers, 'content-type': 'application/json' }
  if (input.stream) headers['accept'] = 'application/vnd.amazon.eventstream'
  return { origin: bedrockOrigin(input.provider), path, method: 'POST', headers, body: JSON.stringify(body) }
}

async function sign(req: UpstreamRequest, input: AttemptInput): Promise<UpstreamRequest> {
  const p = input.provider
  if (!p.accessKeyId || !p.secretAccessKey) {
    throw new GatewayError({ status: 500, code: 'internal_error', message: `Bedrock provider ${p.name} has no access key credentials` })
  }
  const credentials = p.sessionToken
    ? { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey, sessionToken: p.sessionToken }
    : { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }
  // A base_url (proxy, VPC endpoint) may hide the region in its host; the configured region still signs.
  return signBedrockRequest(req, p.region ?? '', credentials)
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

function parseResponse(input: AttemptInput, raw: Buffer): ParsedResponse {
  const parsed = JSON.parse(raw.toString('utf8')) as Json
  if (!isObject(parsed)) throw new GatewayError({ status: 502, code: 'upstream_error', message: 'Bedrock returned a body that is not a JSON object' })
  // Converse has no response id (only the x-amzn-requestid header, which adapters do not see).
  const { completion, usage } = bedrockToChat(parsed, input.upstreamModel, nowSeconds(), `chatcmpl-${randomUUID()}`)
  return chatResponse(completion, usage)
}

export const bedrockAdapter: ProviderAdapter = {
  schema: 'bedrock',
  native: new Set(),
  supports: new Set(['chat']),
  streamFraming: 'aws-eventstream',
  buildRequest,
  sign,
  parseResponse,
  streamTranslator: (input, opts) =>
    createBedrockStreamTranslator({ model: input.upstreamModel, created: nowSeconds(), id: `chatcmpl-${randomUUID()}`, opts }),
  parseError: parseBedrockError,
}

export const bedrockKind: ProviderKind = {
  adapter: bedrockAdapter,
  defaultBaseUrl: '',
  needsKey: true,
}
