/**
 * Native /v1/messages streams: every vendor event goes to the client byte for byte (Claude Code
 * depends on the exact stream), while usage, model, id and stop reasons are read on the side for
 * accounting and tracing. An `error` event is forwarded like any other (the client speaks
 * Anthropic and understands it), then reported through error() and nothing more is forwarded.
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
  const stopReasons: string[] = []

  function observe(type: string, data: Record<string, unknown>): void {
    if (type === 'message_start' && isObject(data['message'])) {
      const message = data['message']
      if (typeof message['id'] === 'string') id = message['id']
      if (typeof message['model'] === 'string') model = message['model']
      usage = mergeAnthropicUsage(usage, readAnthropicUsage(message['usage']))
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
      return [{ kind: 'raw', bytes: event.raw }]
    },
    end: () => [],
    usage: (): Usage | undefined => (usage ? anthropicUsageToUsage(usage) : undefined),
    error: () => failed,
    responseModel: () => model,
    responseId: () => id,
    finishReasons: () => [...stopReasons],
  }
}
