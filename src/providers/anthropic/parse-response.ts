/**
 * A 2xx non-streamed body. Native operations return Anthropic's bytes unchanged, with usage read
 * on the side; chat is translated to an OpenAI chat.completion.
 */
import { GatewayError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { AttemptInput, ParsedResponse } from '../types.ts'
import { anthropicToChat } from './anthropic-to-chat.ts'
import { anthropicUsageToUsage, readAnthropicUsage } from './usage.ts'
import { chatResponse } from '../translated.ts'

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

export function parseResponse(input: AttemptInput, body: Buffer): ParsedResponse {
  const json = parseJson(body)
  if (input.operation === 'chat') {
    if (json === undefined) throw new GatewayError({ status: 502, code: 'upstream_error', message: 'Anthropic returned a body that is not JSON' })
    // The one clock read in this adapter: OpenAI's `created` has no Anthropic counterpart.
    const { completion, usage, stopReason } = anthropicToChat(json, Math.floor(Date.now() / 1000))
    return chatResponse(completion, usage, stopReason === undefined ? [] : [stopReason])
  }
  // count_tokens is free and reports only input_tokens, which is no usage to account.
  const message = input.operation === 'messages' && isObject(json) ? json : undefined
  const anthropicUsage = message ? readAnthropicUsage(message['usage']) : undefined
  const parsed: ParsedResponse = { kind: 'raw', bytes: body, usage: anthropicUsage ? anthropicUsageToUsage(anthropicUsage) : undefined }
  if (typeof message?.['model'] === 'string') parsed.responseModel = message['model']
  if (typeof message?.['id'] === 'string') parsed.responseId = message['id']
  if (typeof message?.['stop_reason'] === 'string') parsed.finishReasons = [message['stop_reason']]
  return parsed
}
