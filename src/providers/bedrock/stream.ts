/**
 * Bedrock converse-stream events (decoded from AWS event-stream frames) -> OpenAI chunks.
 * Text, tool-use input and reasoning text stream as deltas; a reasoning block's full text and
 * signature are sent once, as a reasoning_details entry, when the block stops; a tool call that
 * got no input closes with arguments "{}".
 */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import type { ChatCompletionChunk, FinishReason } from '../../core/openai-chat.ts'
import { usageToOpenAI, type Usage } from '../../core/usage.ts'
import type { StreamEvent } from '../../upstream/types.ts'
import type { ProviderError, StreamFrame, StreamOptions, StreamTranslator } from '../types.ts'
import { finishReasonFromBedrock, usageFromBedrock } from './common.ts'
import { bedrockStreamError } from './errors.ts'

type Delta = ChatCompletionChunk['choices'][number]['delta']

const EVENTS = new Set(['messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata'])

export interface BedrockStreamContext { model: string; created: number; id: string; opts: StreamOptions }

interface ReasoningBlock { text: string; signature: string | undefined; redacted: string[] }
interface ToolBlock { index: number; sentArgs: boolean }

/** The event's name and payload; also accepts `{"<eventName>": payload}` (the recordings' decoded form). */
export function unwrapEvent(event: StreamEvent): { name: string; payload: JsonObject } | undefined {
  let parsed: Json
  try {
    parsed = JSON.parse(event.data) as Json
  } catch {
    return undefined
  }
  if (!isObject(parsed)) return undefined
  if (event.event !== undefined && EVENTS.has(event.event)) return { name: event.event, payload: parsed }
  const keys = Object.keys(parsed)
  const key = keys.find((k) => EVENTS.has(k))
  const inner = key === undefined ? undefined : parsed[key]
  return key !== undefined && isObject(inner) ? { name: key, payload: inner } : undefined
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function createBedrockStreamTranslator(ctx: BedrockStreamContext): StreamTranslator {
  let sentRole = false
  let usage: Usage | undefined
  let error: ProviderError | undefined
  const finishReasons: FinishReason[] = []
  /** contentBlockIndex -> the OpenAI tool_calls index, and whether any argument bytes went out. */
  const tools = new Map<number, ToolBlock>()
  const reasoning = new Map<number, ReasoningBlock>()

  const chunk = (delta: Delta, finish: FinishReason | null = null): ChatCompletionChunk => ({
    id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: ctx.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  })

  const emit = (out: StreamFrame[], delta: Delta, finish: FinishReason | null = null): void => {
    if (!sentRole) {
      sentRole = true
      out.push({ kind: 'chunk', chunk: chunk({ role: 'assistant', content: '' }) })
      if (Object.keys(delta).length === 0 && finish === null) return
    }
    out.push({ kind: 'chunk', chunk: chunk(delta, finish) })
  }

  const onDelta = (out: StreamFrame[], block: number, delta: JsonObject): void => {
    const text = str(delta['text'])
    if (text !== undefined) {
      if (text !== '') emit(out, { content: text })
      return
    }
    const use = delta['toolUse']
    if (isObject(use)) {
      const input = str(use['input']) ?? ''
      const tool = tools.get(block)
      if (tool && input !== '') {
        tool.sentArgs = true
        emit(out, { tool_calls: [{ index: tool.index, function: { arguments: input } }] })
      }
      return
    }
    const rc = delta['reasoningContent']
    if (isObject(rc)) {
      const r = reasoning.get(block) ?? { text: '', signature: undefined, redacted: [] }
      reasoning.set(block, r)
      const t = str(rc['text'])
      if (t) {
        r.text += t
        emit(out, { reasoning_content: t })
      }
      const sig = str(rc['signature'])
      if (sig !== undefined) r.signature = (r.signature ?? '') + sig
      const redacted = str(rc['redactedContent'])
      if (redacted !== undefined) r.redacted.push(redacted)
    }
  }

  const onStop = (out: StreamFrame[], block: number): void => {
    const tool = tools.get(block)
    // A call with no input (Bedrock sends input "") closes with "{}", so clients can always
    // JSON.parse the joined arguments, as the non-streamed answer and the Anthropic stream give.
    if (tool && !tool.sentArgs) {
      tool.sentArgs = true
      emit(out, { tool_calls: [{ index: tool.index, function: { arguments: '{}' } }] })
    }
    const r = reasoning.get(block)
    if (!r) return
    reasoning.delete(block)
    const details: NonNullable<Delta['reasoning_details']> = []
    if (r.text !== '' || r.signature !== undefined) {
      details.push(r.signature === undefined ? { type: 'thinking', thinking: r.text } : { type: 'thinking', thinking: r.text, signature: r.signature })
    }
    for (const data of r.redacted) details.push({ type: 'redacted_thinking', data })
    if (details.length > 0) emit(out, { reasoning_details: details })
  }

  return {
    push(event: StreamEvent): StreamFrame[] {
      if (event.event !== undefined && !EVENTS.has(event.event)) {
        // Exceptions (throttlingException, modelStreamErrorException...) and untyped errors end the stream.
        error = bedrockStreamError(event.event, event.data)
        return []
      }
      const ev = unwrapEvent(event)
      if (!ev) return []
      const { name, payload } = ev
      const block = typeof payload['contentBlockIndex'] === 'number' ? payload['contentBlockIndex'] : 0
      const out: StreamFrame[] = []
      switch (name) {
        case 'messageStart':
          emit(out, {})
          break
        case 'contentBlockStart': {
          const start = isObject(payload['start']) ? payload['start'] : {}
          const use = start['toolUse']
          if (isObject(use)) {
            const index = tools.size
            tools.set(block, { index, sentArgs: false })
            emit(out, { tool_calls: [{ index, id: str(use['toolUseId']) ?? `call_${index}`, type: 'function', function: { name: str(use['name']) ?? '', arguments: '' } }] })
          }
          break
        }
        case 'contentBlockDelta':
          if (isObject(payload['delta'])) onDelta(out, block, payload['delta'])
          break
        case 'contentBlockStop':
          onStop(out, block)
          break
        case 'messageStop': {
          for (const b of [...reasoning.keys()]) onStop(out, b)
          const finish = finishReasonFromBedrock(str(payload['stopReason']) ?? 'end_turn')
          finishReasons.push(finish)
          emit(out, {}, finish)
          break
        }
        case 'metadata':
          usage = usageFromBedrock(payload['usage']) ?? usage
          break
      }
      return out
    },
    end(): StreamFrame[] {
      if (!ctx.opts.clientWantsUsage || !usage) return []
      return [{ kind: 'chunk', chunk: { ...chunk({}), choices: [], usage: usageToOpenAI(usage) } }]
    },
    usage: () => usage,
    error: () => error,
    responseModel: () => ctx.model,
    responseId: () => ctx.id,
    finishReasons: () => finishReasons,
  }
}
