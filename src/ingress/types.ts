/**
 * An ingress codec lets a client speaking another API (Anthropic Messages, OpenAI Responses) reach
 * any target through OpenAI Chat, the internal lingua franca. It is used only when the target's
 * adapter does not serve the operation natively; native targets get the client's bytes untouched.
 */
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from '../core/openai-chat.ts'
import type { JsonObject } from '../core/json.ts'
import type { Usage } from '../core/usage.ts'
import type { GatewayError } from '../core/errors.ts'

export interface EncodeContext {
  /** The model name the client asked for (echoed back in responses). */
  requestedModel: string
  /** The client asked for usage in streams (OpenAI: stream_options.include_usage; Anthropic: always). */
  clientWantsUsage: boolean
  /** The client's request body (Responses echoes request fields and maps tools back by name). */
  request?: JsonObject
}

export interface StreamEncoder {
  /** Bytes (SSE text) to send for one OpenAI chunk; '' when nothing is owed yet. */
  push(chunk: ChatCompletionChunk): string
  /** Closing events once the upstream stream ended normally (usage is the final accounting). */
  end(usage: Usage | undefined): string
  /** An error event in the client's format, after bytes were already sent. */
  error(err: GatewayError): string
  /** The complete client-format response once end() ran (Responses keeps it for previous_response_id). */
  result?(): JsonObject | undefined
}

export interface IngressCodec {
  /** Client body -> OpenAI ChatRequest. Pure; throws GatewayError(400) naming the field on bad input. */
  toChat(body: JsonObject): ChatRequest
  /** OpenAI chat.completion -> the client's response body. */
  fromChat(completion: ChatCompletion, ctx: EncodeContext): JsonObject
  /** A per-stream encoder from OpenAI chunks to the client's SSE events. */
  streamEncoder(ctx: EncodeContext): StreamEncoder
}
