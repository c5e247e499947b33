/**
 * Native /v1/messages streams: every vendor event goes to the client byte for byte (Claude Code
 * depends on the exact stream), while usage, model, id and stop reasons are read on the side for
 * accounting and tracing. An `error` event is not forwarded: it is reported through error(), and
 * the pipeline either retries (nothing sent yet) or ends the client's stream with its own
 * Anthropic-format error event; forwarding it too would give the client two. A stream that ends
 * before message_stop is reported the same way, so a truncated answer is not taken for a whole one.
 */
import { isObject } from '../../core/json.ts'
import type { Usage } from '../../core/usage.ts'
import type { StreamEvent } from '../../upstream/types.ts'
import type { ProviderError, StreamFrame, StreamTranslator } from '../types.ts'
import { streamErrorToProviderError } from './errors.ts'
import { readAnthropicEvent } from './stream-events.ts'
import type { AnthropicUsage } from './types.ts'
import { anthropicUsageToUsage, mergeAnthropicUsage, readAnthropicUsage } from './usage.ts'

export function createNativeStreamTranslator(): StreamTranslator {
  let id: string | undefined
  let model: string | undefined
  let usage: AnthropicUsage | undefined
  let failed: ProviderError | undefined
  let open = false
  const stopReasons: string[] = []

  function observe(type: string, data: Record<string, unknown>): void {
    if (type === 'message_start' && isObject(data['message'])) {
      const message = data['message']
      if (typeof message['id'] === 'string') id = message['id']
      if (typeof message['model'] === 'string') model = message['model']
      usage = mergeAnthropicUsage(usage, readAnthropicUsage(message['usage']))
      open = true
    } else if (type === 'message_stop') {
      open = false
    } else if (type === 'message_delta') {
      usage = mergeAnthropicUsage(usage, readAnthropicUsage(data['usage']))
      const delta = data['delta']
      if (isObject(delta) && typeof delta['stop_reason'] === 'string') stopReasons.push(delta['stop_reason'])
    } else if (type === 'error') {
      failed = streamErrorToProviderError(data['error'])
    }
  }

  return {
    push(event: StreamEvent): StreamFrame[] {
      if (failed) return []
      const parsed = readAnthropicEvent(event)
      if (parsed) observe(parsed.type, parsed.data)
      return failed ? [] : [{ kind: 'raw', bytes: event.raw }]
    },
    end(): StreamFrame[] {
      if (open && !failed) failed = { status: 502, code: 'incomplete_stream', kind: 'server', message: 'Anthropic stream ended before message_stop' }
      return []
    },
    usage: (): Usage | undefined => (usage ? anthropicUsageToUsage(usage) : undefined),
    error: () => failed,
    responseModel: () => model,
    responseId: () => id,
    finishReasons: () => [...stopReasons],
  }
}
