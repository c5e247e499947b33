/**
 * The one small interface every vendor API schema implements. Adapters are pure translation:
 * no I/O, no clocks, no mutation of their inputs (a request is re-translated on every attempt).
 * The pipeline picks an adapter by the provider's `type` through the registry.
 */
import type { Usage } from '../core/usage.ts'
import type { ChatCompletionChunk, ChatRequest } from '../core/openai-chat.ts'
import type { Json, JsonObject } from '../core/json.ts'
import type { StreamEvent, Transport, UpstreamRequest } from '../upstream/types.ts'

/** What a client asked for, by ingress endpoint (defined in core so every stage shares it). */
export type { Operation } from '../core/call.ts'
import type { Operation } from '../core/call.ts'

/** A provider as configured, with secrets resolved. Adapters read it; they never log it. */
export interface ProviderConfig {
  name: string
  type: string
  /** The vendor SDK's base URL, e.g. https://api.openai.com/v1; adapters append API paths. */
  baseUrl: string
  apiVersion?: string
  region?: string
  accessKeyId?: string
  secretAccessKey?: string
  sessionToken?: string
  /** Extra static headers to send upstream (e.g. OpenRouter's HTTP-Referer). */
  headers: Record<string, string>
}

/** Everything one attempt needs. Built by the pipeline, never mutated by adapters. */
export interface AttemptInput {
  operation: Operation
  /** The client's body, parsed, in the ingress format of `operation` (for 'chat' an OpenAI ChatRequest). */
  body: JsonObject
  /** The client's exact bytes, for pass-through where only the model changes. */
  rawBody: Buffer | undefined
  stream: boolean
  /**
   * The call's output cap: the client's, else the model's default_max_output_tokens, else
   * routing's. Reservations assume it; a vendor that requires a cap (Anthropic) is sent it.
   */
  maxOutputTokens: number
  /** The upstream model of the chosen target. */
  upstreamModel: string
  provider: ProviderConfig
  /** The vendor key chosen for this attempt (undefined for keyless providers). */
  apiKey: string | undefined
  /** Client request headers (lower-case names), for vendor headers that must be carried (anthropic-beta...). */
  clientHeaders: Record<string, string | string[] | undefined>
  /** For 'passthrough': the client's path after /v1 and its query string. */
  path?: string
  query?: string
  /** HTTP method for 'passthrough' (other operations are POST). */
  method?: UpstreamRequest['method']
}

/** A non-streamed success, in the client's format. */
export type ParsedResponse =
  /** Native pass-through: the vendor's bytes go to the client unchanged. */
  | { kind: 'raw'; bytes: Buffer; usage: Usage | undefined; responseModel?: string; responseId?: string; finishReasons?: string[] }
  /** Translated: an OpenAI-format object for the operation (chat.completion, list of embeddings...). */
  | { kind: 'object'; body: JsonObject; usage: Usage | undefined; responseModel?: string; responseId?: string; finishReasons?: string[] }

/** What a stream translator emits for each vendor event. */
export type StreamFrame =
  | { kind: 'raw'; bytes: Buffer }              // native pass-through of the vendor's event
  | { kind: 'chunk'; chunk: ChatCompletionChunk } // translated to an OpenAI chunk

/** Stateful per-stream translator; one instance per attempt. */
export interface StreamTranslator {
  /** Called for each vendor event in order; returns the frames to send now (possibly none). */
  push(event: StreamEvent): StreamFrame[]
  /** Called once the vendor stream ended; returns any frames still owed (e.g. the usage chunk, [DONE]). */
  end(): StreamFrame[]
  /** Usage seen so far (complete once the stream ended normally). */
  usage(): Usage | undefined
  /** Set when the vendor reported an error inside the stream (e.g. Anthropic's `error` event). */
  error(): ProviderError | undefined
  responseModel?(): string | undefined
  responseId?(): string | undefined
  finishReasons?(): string[]
}

export interface StreamOptions {
  /** The client asked for the final usage chunk (`stream_options.include_usage`). */
  clientWantsUsage: boolean
}

/** A vendor failure classified for routing and rendered for the client. */
export interface ProviderError {
  status: number
  /** Vendor's code or our classification. */
  code: string
  message: string
  /** Why it failed, for routing decisions. */
  kind: 'rate_limited' | 'overloaded' | 'server' | 'auth' | 'bad_request' | 'context_length' | 'content_filter' | 'not_found' | 'other'
  /** Milliseconds the vendor asked us to wait (retry-after / retry-after-ms / RetryInfo). */
  retryAfterMs?: number
  /** Vendor's `type` (kept for pass-through of 4xx). */
  type?: string
  param?: string | null
}

/**
 * Thrown by `parseResponse` (or set as a stream translator's `error()`) when a 2xx body is the
 * vendor refusing, not answering (Gemini's blocked prompt): the pipeline handles it as that vendor
 * error, so routing reacts to it (content_policy_fallbacks) and the client sees it as one.
 */
export class VendorRefusal extends Error {
  readonly error: ProviderError
  constructor(error: ProviderError) {
    super(error.message)
    this.error = error
  }
}

export interface ProviderAdapter {
  /** The API schema this adapter speaks. */
  readonly schema: 'openai' | 'azure' | 'anthropic' | 'gemini' | 'bedrock' | 'mock'
  /** Operations served natively: request and response bodies pass through, only model and key change. */
  readonly native: ReadonlySet<Operation>
  /** Operations it can serve at all (natively or by translation from OpenAI Chat). */
  readonly supports: ReadonlySet<Operation>
  /** How the vendor frames streams. */
  readonly streamFraming: 'sse' | 'aws-eventstream'
  /** Pure: the HTTP request for one attempt. For translated operations `input.body` is an OpenAI ChatRequest (or embeddings request). */
  buildRequest(input: AttemptInput): UpstreamRequest
  /** Optional async signing step run after buildRequest (SigV4). */
  sign?(req: UpstreamRequest, input: AttemptInput): Promise<UpstreamRequest>
  /** A 2xx non-streamed body. */
  parseResponse(input: AttemptInput, body: Buffer): ParsedResponse
  /** A 2xx stream. */
  streamTranslator(input: AttemptInput, opts: StreamOptions): StreamTranslator
  /** A non-2xx response. */
  parseError(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): ProviderError
}

/** How a provider type is assembled: its adapter and, optionally, its own transport (mock). */
export interface ProviderKind {
  adapter: ProviderAdapter
  /** Default base URL when the config gives none. */
  defaultBaseUrl?: string
  /** Whether a key (or credentials) is required; a required key that is unset disables the provider. */
  needsKey: boolean
  /** A transport of its own instead of HTTP (the in-process mock). */
  transport?: (provider: ProviderConfig) => Transport
}

/** Helper type for translated request bodies. */
export type ChatBody = ChatRequest
export type { Json }
