/**
 * Anthropic Messages stream -> OpenAI chat.completion.chunk stream, one event at a time.
 *
 * - The first chunk carries role 'assistant'. A repeated message_start for the same message is
 *   ignored; a message_start for a different message while one is open means the vendor stream was
 *   spliced, which is reported as an error rather than merging two answers.
 * - Each client tool_use block gets the next OpenAI tool-call index (0, 1, 2...). Its first fragment
 *   carries id, type, name and arguments ''; input_json_delta fragments follow. A call that got no
 *   argument bytes is closed with '{}' so clients can always JSON.parse the joined arguments.
 * - thinking_delta -> delta.reasoning_content; signature_delta -> delta.reasoning_details
 *   [{type:'thinking', thinking:'', signature}]. Convention: a client rebuilding the message joins
 *   the reasoning_content text and takes the signature from the detail; sending back either that
 *   joined detail or the signature-only detail beside reasoning_content works (see
 *   messages-to-anthropic.ts). redacted_thinking arrives whole in content_block_start.
 * - Server-tool blocks, citations and other vendor-only blocks are not representable in chunks and
 *   are skipped.
 * - `error` events set error() and end the output.
 */
import type { ChatCompletionChunk, FinishReason } from '../../core/openai-chat.ts'
import { isObject } from '../../core/json.ts'
import type { JsonObject } from '../../core/json.ts'
import { usageToOpenAI } from '../../core/usage.ts'
import type { Usage } from '../../core/usage.ts'
import type { StreamEvent } from '../../upstream/types.ts'
import type { ProviderError, StreamFrame, StreamOptions, StreamTranslator } from '../types.ts'
import { streamErrorToProviderError } from './errors.ts'
import { readAnthropicEvent } from './stream-events.ts'
import { finishReasonFromStopReason, refusalText } from './stop-reason.ts'
import type { AnthropicUsage } from './types.ts'
import { anthropicUsageToUsage, mergeAnthropicUsage, readAnthropicUsage } from './usage.ts'

type Delta = ChatCompletionChunk['choices'][number]['delta']
type BlockState = { kind: 'text' } | { kind: 'thinking' } | { kind: 'tool'; index: number; sentArgs: boolean } | { kind: 'other' }

export function createChatStreamTranslator(opts: StreamOptions, created = Math.floor(Date.now() / 1000)): StreamTranslator {
  let id = ''
  let model = ''
  let open = false
  let started = false
  let failed: ProviderError | undefined
  let usage: AnthropicUsage | undefined
  const blocks = new Map<number, BlockState>()
  let nextToolIndex = 0
  const finishReasons: string[] = []
  /** The model wrote text: a refusal without an explanation then needs no placeholder. */
  let wroteText = false

  const chunk = (delta: Delta, finish: FinishReason | null = null): StreamFrame => ({
    kind: 'chunk',
    chunk: { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] },
  })

  function onMessageStart(data: JsonObject): StreamFrame[] {
    const message = isObject(data['message']) ? data['message'] : {}
    const messageId = typeof message['id'] === 'string' ? message['id'] : ''
    if (open) {
      if (messageId === id) return []
      failed = { status: 502, code: 'invalid_stream', kind: 'server', message: `Anthropic stream started message ${messageId} while ${id} was still open` }
      return []
    }
    open = true
    if (started) return []
    started = true
    id = messageId
    model = typeof message['model'] === 'string' ? message['model'] : ''
    usage = mergeAnthropicUsage(usage, readAnthropicUsage(message['usage']))
    return [chunk({ role: 'assistant', content: '' })]
  }

  function onBlockStart(data: JsonObject): StreamFrame[] {
    const index = typeof data['index'] === 'number' ? data['index'] : -1
    const block = isObject(data['content_block']) ? data['content_block'] : {}
    switch (block['type']) {
      case 'text': {
        blocks.set(index, { kind: 'text' })
        const text = block['text']
        if (typeof text !== 'string' || text === '') return []
        wroteText = true
        return [chunk({ content: text })]
      }
      case 'thinking': {
        blocks.set(index, { kind: 'thinking' })
        const thinking = block['thinking']
        return typeof thinking === 'string' && thinking !== '' ? [chunk({ reasoning_content: thinking })] : []
      }
      case 'redacted_thinking': {
        blocks.set(index, { kind: 'other' })
        const data = block['data']
        return typeof data === 'string' ? [chunk({ reasoning_details: [{ type: 'redacted_thinking', data }] })] : []
      }
      case 'tool_use': {
        const toolIndex = nextToolIndex++
        blocks.set(index, { kind: 'tool', index: toolIndex, sentArgs: false })
        const callId = typeof block['id'] === 'string' ? block['id'] : ''
        const name = typeof block['name'] === 'string' ? block['name'] : ''
        return [chunk({ tool_calls: [{ index: toolIndex, id: callId, type: 'function', function: { name, arguments: '' } }] })]
      }
      default:
        blocks.set(index, { kind: 'other' })
        return []
    }
  }

  function onBlockDelta(data: JsonObject): StreamFrame[] {
    const state = blocks.get(typeof data['index'] === 'number' ? data['index'] : -1)
    const delta = isObject(data['delta']) ? data['delta'] : {}
    switch (delta['type']) {
      case 'text_delta':
        if (state?.kind !== 'text' || typeof delta['text'] !== 'string' || delta['text'] === '') return []
        wroteText = true
        return [chunk({ content: delta['text'] })]
      case 'input_json_delta': {
        const json = delta['partial_json']
        if (state?.kind !== 'tool' || typeof json !== 'string' || json === '') return []
        state.sentArgs = true
        return [chunk({ tool_calls: [{ index: state.index, function: { arguments: json } }] })]
      }
      case 'thinking_delta':
        return state?.kind === 'thinking' && typeof delta['thinking'] === 'string' && delta['thinking'] !== '' ? [chunk({ reasoning_content: delta['thinking'] })] : []
      case 'signature_delta':
        return state?.kind === 'thinking' && typeof delta['signature'] === 'string'
          ? [chunk({ reasoning_details: [{ type: 'thinking', thinking: '', signature: delta['signature'] }] })]
          : []
      default:
        return []
    }
  }

  function onBlockStop(data: JsonObject): StreamFrame[] {
    const state = blocks.get(typeof data['index'] === 'number' ? data['index'] : -1)
    if (state?.kind !== 'tool' || state.sentArgs) return []
    state.sentArgs = true
    return [chunk({ tool_calls: [{ index: state.index, function: { arguments: '{}' } }] })]
  }

  function onMessageDelta(data: JsonObject): StreamFrame[] {
    usage = mergeAnthropicUsage(usage, readAnthropicUsage(data['usage']))
    const delta = isObject(data['delta']) ? data['delta'] : {}
    const stopReason = typeof delta['stop_reason'] === 'string' ? delta['stop_reason'] : undefined
    const finish = finishReasonFromStopReason(stopReason)
    if (!finish) return []
    finishReasons.push(finish)
    const frame: Delta = {}
    if (stopReason === 'refusal') {
      const refusal = refusalText(delta['stop_details'], wroteText)
      if (refusal !== undefined) frame.refusal = refusal
    }
    return [chunk(frame, finish)]
  }

  function currentUsage(): Usage | undefined {
    return usage ? anthropicUsageToUsage(usage) : undefined
  }

  function handle(type: string, data: JsonObject): StreamFrame[] {
    switch (type) {
      case 'message_start': return onMessageStart(data)
      case 'content_block_start': return onBlockStart(data)
      case 'content_block_delta': return onBlockDelta(data)
      case 'content_block_stop': return onBlockStop(data)
      case 'message_delta': return onMessageDelta(data)
      case 'message_stop': open = false; return []
      case 'error': failed = streamErrorToProviderError(data['error']); return []
      default: return [] // ping and event types added after this was written
    }
  }

  return {
    push(event: StreamEvent): StreamFrame[] {
      if (failed) return []
      const parsed = readAnthropicEvent(event)
      return parsed ? handle(parsed.type, parsed.data) : []
    },
    end(): StreamFrame[] {
      if (failed) return []
      if (open) {
        failed = { status: 502, code: 'incomplete_stream', kind: 'server', message: 'Anthropic stream ended before message_stop' }
        return []
      }
      const u = currentUsage()
      if (!opts.clientWantsUsage || !u) return []
      return [{ kind: 'chunk', chunk: { id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageToOpenAI(u) } }]
    },
    usage: currentUsage,
    error: () => failed,
    responseModel: () => model || undefined,
    responseId: () => id || undefined,
    finishReasons: () => [...finishReasons],
  }
}
