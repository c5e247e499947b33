/**
 * OpenAI chat.completion.chunk stream -> Responses SSE events, in the order OpenAI sends them and
 * the openai SDK's responses.stream() accumulates: response.created, response.in_progress, then per
 * output item output_item.added, its content events, output_item.done, and finally
 * response.completed (or response.incomplete) carrying the whole Response with usage. Every event
 * has a sequence_number; every item an id and an output_index.
 *
 * Reasoning text becomes a reasoning item with one summary part; a vendor's signatures go in its
 * encrypted_content. Tool calls stay open until the vendor finishes, since parallel calls may
 * interleave their argument fragments. Custom tools stream nothing until their input is complete:
 * the model's {"input": "..."} JSON can only be unwrapped whole.
 */
import type { ChatCompletionChunk, FinishReason, ReasoningDetail } from '../../core/openai-chat.ts'
import type { JsonObject } from '../../core/json.ts'
import type { Usage } from '../../core/usage.ts'
import { usageFromOpenAI } from '../../core/usage.ts'
import type { GatewayError } from '../../core/errors.ts'
import type { EncodeContext, StreamEncoder } from '../types.ts'
import type { ToolOrigin } from './tools.ts'
import {
  callItem, customInput, envelope, itemId, messageItem, newResponseId, originsOf, outputText, reasoningItem, responsesUsage, statusOf,
  type Status,
} from './response-object.ts'

type Delta = ChatCompletionChunk['choices'][number]['delta']

interface OpenReasoning { index: number; id: string; text: string; segment: string; details: ReasoningDetail[]; summaryOpen: boolean }
/** `parts`: the finished content parts; the open one (`text`, a refusal or not) is at content_index parts.length. */
interface OpenMessage { index: number; id: string; parts: JsonObject[]; text: string; refusal: boolean }
/** `kind`: the tool's origin; only plain functions stream their arguments as function_call_arguments. */
interface OpenCall { index: number; callId: string; name: string; args: string; kind: ToolOrigin['kind'] | undefined }
const streamsArguments = (c: OpenCall): boolean => c.kind !== 'custom' && c.kind !== 'client'

export function createResponsesStreamEncoder(ctx: EncodeContext): StreamEncoder {
  const id = newResponseId()
  const origins = originsOf(ctx.request)
  let createdAt = Math.floor(Date.now() / 1000)
  let seq = 0
  let started = false
  let finished = false
  let final: JsonObject | undefined
  /** Finished items by output_index (a slot is reserved when an item is added). */
  const items: Array<JsonObject | undefined> = []
  let reasoning: OpenReasoning | undefined
  let message: OpenMessage | undefined
  const calls = new Map<number, OpenCall>()
  let finish: FinishReason | null = null
  let seenUsage: Usage | undefined

  const ev = (type: string, data: JsonObject): string =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`

  const snapshot = (status: Status, incomplete: JsonObject | null, usage: JsonObject | null, error?: JsonObject): JsonObject =>
    envelope({ id, createdAt, model: ctx.requestedModel, request: ctx.request, status, incomplete, usage, error, output: status === 'in_progress' ? [] : items.filter((i): i is JsonObject => i !== undefined) })

  function start(chunk: ChatCompletionChunk | undefined): string {
    started = true
    if (typeof chunk?.created === 'number') createdAt = chunk.created
    const response = snapshot('in_progress', null, null)
    return ev('response.created', { response }) + ev('response.in_progress', { response })
  }

  function add(item: JsonObject): number {
    const index = items.length
    items.push(undefined)
    pending = ev('response.output_item.added', { output_index: index, item })
    return index
  }
  let pending = ''
  const take = (): string => { const p = pending; pending = ''; return p }

  function closeReasoning(): string {
    if (!reasoning) return ''
    const r = reasoning
    reasoning = undefined
    let out = ''
    if (r.summaryOpen) {
      const part = { type: 'summary_text', text: r.text }
      out += ev('response.reasoning_summary_text.done', { item_id: r.id, output_index: r.index, summary_index: 0, text: r.text })
      out += ev('response.reasoning_summary_part.done', { item_id: r.id, output_index: r.index, summary_index: 0, part })
    }
    const item = reasoningItem(r.id, r.text, r.details)
    items[r.index] = item
    return out + ev('response.output_item.done', { output_index: r.index, item })
  }

  function openPart(m: OpenMessage): string {
    return ev('response.content_part.added', { item_id: m.id, output_index: m.index, content_index: m.parts.length, part: m.refusal ? { type: 'refusal', refusal: '' } : outputText('') })
  }

  function closePart(m: OpenMessage): string {
    const contentIndex = m.parts.length
    const part = m.refusal ? { type: 'refusal', refusal: m.text } : outputText(m.text)
    m.parts.push(part)
    const out = m.refusal
      ? ev('response.refusal.done', { item_id: m.id, output_index: m.index, content_index: contentIndex, refusal: m.text })
      : ev('response.output_text.done', { item_id: m.id, output_index: m.index, content_index: contentIndex, text: m.text, logprobs: [] })
    return out + ev('response.content_part.done', { item_id: m.id, output_index: m.index, content_index: contentIndex, part })
  }

  function closeMessage(): string {
    if (!message) return ''
    const m = message
    message = undefined
    const out = closePart(m)
    const item = messageItem(m.id, 'completed', m.parts)
    items[m.index] = item
    return out + ev('response.output_item.done', { output_index: m.index, item })
  }

  function closeCalls(): string {
    let out = ''
    for (const c of [...calls.values()].sort((a, b) => a.index - b.index)) {
      const item = callItem(id, c.index, c.callId, c.name, c.args, 'completed', origins)
      const itemIdValue = item.id as string
      if (c.kind === 'custom') {
        const input = customInput(c.args)
        if (input !== '') out += ev('response.custom_tool_call_input.delta', { item_id: itemIdValue, output_index: c.index, delta: input })
        out += ev('response.custom_tool_call_input.done', { item_id: itemIdValue, output_index: c.index, input })
      } else if (streamsArguments(c)) {
        out += ev('response.function_call_arguments.done', { item_id: itemIdValue, output_index: c.index, arguments: c.args })
      }
      items[c.index] = item
      out += ev('response.output_item.done', { output_index: c.index, item })
    }
    calls.clear()
    return out
  }

  function openReasoning(): OpenReasoning {
    if (reasoning) return reasoning
    const index = items.length
    const rid = itemId(id, 'rs', index)
    add({ id: rid, type: 'reasoning', summary: [] })
    reasoning = { index, id: rid, text: '', segment: '', details: [], summaryOpen: false }
    return reasoning
  }

  function reasoningDelta(delta: Delta): string {
    const text = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : ''
    const details = delta.reasoning_details ?? []
    if (text === '' && details.length === 0) return ''
    let out = message ? closeMessage() : ''
    const r = openReasoning()
    out += take()
    if (text !== '') {
      if (!r.summaryOpen) {
        r.summaryOpen = true
        out += ev('response.reasoning_summary_part.added', { item_id: r.id, output_index: r.index, summary_index: 0, part: { type: 'summary_text', text: '' } })
      }
      r.text += text
      r.segment += text
      out += ev('response.reasoning_summary_text.delta', { item_id: r.id, output_index: r.index, summary_index: 0, delta: text })
    }
    for (const d of details) {
      // A signature-only detail signs the thinking text streamed since the previous signature.
      if (d.type === 'thinking' && d.thinking === '' && r.segment !== '') r.details.push({ ...d, thinking: r.segment })
      else r.details.push(d)
      if (d.type === 'thinking') r.segment = ''
    }
    return out
  }

  /** Text or refusal text: a refusal after text (or the reverse) is the message's next content part, as non-streamed. */
  function textDelta(value: string, refusal: boolean): string {
    if (value === '') return ''
    let out = closeReasoning()
    if (!message) {
      const index = items.length
      const mid = itemId(id, 'msg', index)
      add(messageItem(mid, 'in_progress', []))
      out += take()
      message = { index, id: mid, parts: [], text: '', refusal }
      out += openPart(message)
    } else if (message.refusal !== refusal) {
      out += closePart(message)
      message.text = ''
      message.refusal = refusal
      out += openPart(message)
    }
    const part = message.parts.length
    message.text += value
    return out + (refusal
      ? ev('response.refusal.delta', { item_id: message.id, output_index: message.index, content_index: part, delta: value })
      : ev('response.output_text.delta', { item_id: message.id, output_index: message.index, content_index: part, delta: value, logprobs: [] }))
  }

  function toolDeltas(delta: Delta): string {
    let out = ''
    for (const t of delta.tool_calls ?? []) {
      let call = calls.get(t.index)
      if (!call) {
        out += closeReasoning() + closeMessage()
        const index = items.length
        const name = t.function?.name ?? ''
        const callId = t.id ?? `call_${id.slice(7)}_${t.index}`
        call = { index, callId, name, args: '', kind: origins.get(name)?.kind }
        calls.set(t.index, call)
        add(callItem(id, index, callId, name, '', 'in_progress', origins))
        out += take()
      }
      const args = t.function?.arguments
      if (args) {
        call.args += args
        if (streamsArguments(call)) out += ev('response.function_call_arguments.delta', { item_id: itemId(id, 'fc', call.index), output_index: call.index, delta: args })
      }
    }
    return out
  }

  function closeAll(): string {
    return closeReasoning() + closeMessage() + closeCalls()
  }

  return {
    push(chunk) {
      if (finished) return ''
      let out = started ? '' : start(chunk)
      if (chunk.usage) seenUsage = usageFromOpenAI(chunk.usage)
      // A Response has one answer; with n > 1 only the first choice is forwarded.
      const choice = chunk.choices.find((c) => c.index === 0)
      if (!choice) return out
      const delta = choice.delta
      out += reasoningDelta(delta)
      if (typeof delta.content === 'string') out += textDelta(delta.content, false)
      if (typeof delta.refusal === 'string') out += textDelta(delta.refusal, true)
      out += toolDeltas(delta)
      if (choice.finish_reason) finish = choice.finish_reason
      return out
    },

    end(usage) {
      if (finished) return ''
      finished = true
      let out = started ? '' : start(undefined)
      out += closeAll()
      const { status, incomplete } = statusOf(finish)
      final = snapshot(status, incomplete, responsesUsage(usage ?? seenUsage))
      return out + ev(status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: final })
    },

    error(err: GatewayError) {
      if (finished) return ''
      finished = true
      let out = started ? '' : start(undefined)
      out += ev('error', { error: { type: err.type, code: err.code, message: err.message, param: err.param } })
      return out + ev('response.failed', { response: snapshot('failed', null, responsesUsage(seenUsage), { code: err.code, message: err.message }) })
    },

    result() {
      return final
    },
  }
}
