/**
 * OpenAI chat.completion.chunk stream -> Anthropic Messages SSE, in the order the Anthropic SDK
 * accumulates: message_start, then per block content_block_start / _delta* / _stop with indices
 * 0, 1, 2..., then message_delta (stop_reason, usage) and message_stop.
 *
 * OpenAI reports finish_reason one chunk before usage, so message_delta waits for end(): that is
 * the only point where the final usage is known.
 */
import { randomUUID } from 'node:crypto'
import type { ChatCompletionChunk, FinishReason } from '../../core/openai-chat.ts'
import type { JsonObject } from '../../core/json.ts'
import { usageFromOpenAI } from '../../core/usage.ts'
import type { Usage } from '../../core/usage.ts'
import { anthropicErrorBody } from '../../core/errors.ts'
import type { GatewayError } from '../../core/errors.ts'
import type { EncodeContext, StreamEncoder } from '../types.ts'
import { anthropicUsage, stopReason } from './usage-and-stop.ts'
import { geminiSignatureEnvelope } from './gemini-signatures.ts'

type Delta = ChatCompletionChunk['choices'][number]['delta']

type OpenBlock =
  | { kind: 'text'; index: number }
  /** `text`: the thinking text sent in this block so far. */
  | { kind: 'thinking'; index: number; signed: boolean; text: string }
  | { kind: 'tool'; index: number }

function sse(type: string, data: JsonObject): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`
}

export function createAnthropicStreamEncoder(ctx: EncodeContext): StreamEncoder {
  let started = false
  let finished = false
  let messageId = ''
  let open: OpenBlock | undefined
  let nextIndex = 0
  /** OpenAI tool_calls[].index -> Anthropic content block index. */
  const toolBlocks = new Map<number, number>()
  let finish: FinishReason | null = null
  let refused = false
  let seenUsage: Usage | undefined

  function messageStart(chunk: ChatCompletionChunk | undefined): string {
    started = true
    messageId = `msg_${chunk?.id ?? randomUUID().replaceAll('-', '')}`
    const usage = { ...anthropicUsage(usageFromOpenAI(chunk?.usage)), output_tokens: 0 }
    return sse('message_start', {
      type: 'message_start',
      message: {
        id: messageId, type: 'message', role: 'assistant', model: ctx.requestedModel, content: [],
        stop_reason: null, stop_sequence: null, usage,
      },
    })
  }

  /**
   * A vendor that interleaves parallel tool calls (some OpenAI-compatible servers do; OpenAI
   * streams them one after another) sends fragments of a call whose block is no longer open.
   * Anthropic's blocks are strictly sequential and a client may run a tool when its block stops,
   * so a call that starts while another call's block is open waits here, whole, until that block
   * closes, and is then sent as one block.
   */
  const queued: Array<{ call: number; id: string; name: string; args: string }> = []

  function closeBlock(): string {
    if (!open) return ''
    const out = sse('content_block_stop', { type: 'content_block_stop', index: open.index })
    open = undefined
    return queued.length > 0 ? out + flushQueued() : out
  }

  function flushQueued(): string {
    let out = ''
    for (const q of queued) {
      const index = nextIndex++
      toolBlocks.set(q.call, index)
      out += sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: q.id, name: q.name, input: {} } })
      if (q.args) out += blockDelta(index, { type: 'input_json_delta', partial_json: q.args })
      out += sse('content_block_stop', { type: 'content_block_stop', index })
    }
    queued.length = 0
    return out
  }

  /** Closes the open block (sending any calls queued behind it), then opens the next at the next index. */
  function openBlock(kind: OpenBlock['kind'], contentBlock: JsonObject, signed = false): { out: string; index: number } {
    const closed = closeBlock()
    const index = nextIndex++
    open = kind === 'thinking' ? { kind, index, signed, text: '' } : { kind, index }
    return { out: closed + sse('content_block_start', { type: 'content_block_start', index, content_block: contentBlock }), index }
  }

  function blockDelta(index: number, delta: JsonObject): string {
    return sse('content_block_delta', { type: 'content_block_delta', index, delta })
  }

  function thinkingBlock(): { out: string; index: number } {
    // A signed thinking block is complete; more reasoning text starts the next one.
    if (open?.kind === 'thinking' && !open.signed) return { out: '', index: open.index }
    return openBlock('thinking', { type: 'thinking', thinking: '', signature: '' })
  }

  function thinkingText(text: string): string {
    if (text === '') return ''
    const { out, index } = thinkingBlock()
    if (open?.kind === 'thinking') open.text += text
    return out + blockDelta(index, { type: 'thinking_delta', thinking: text })
  }

  /**
   * A thinking detail is a whole block: its text and its signature. Bedrock streams the text as
   * reasoning deltas and then sends it whole again with the signature, so when the open block's
   * text begins it, only the rest is new; sent twice, the client would show the thinking twice and
   * return the doubled text with a signature made for the single one. A detail without text (the
   * Anthropic translator's) only signs the open block.
   */
  function thinkingDetail(d: { thinking: string; signature?: string }): string {
    let out = ''
    let rest = d.thinking
    if (rest !== '' && open?.kind === 'thinking' && !open.signed && open.text !== '') {
      if (rest.startsWith(open.text)) rest = rest.slice(open.text.length)
      else out += closeBlock()
    }
    out += thinkingText(rest)
    return d.signature ? out + signature(d.signature) : out
  }

  function signature(sig: string): string {
    const { out, index } = thinkingBlock()
    if (open?.kind === 'thinking') open.signed = true
    return out + blockDelta(index, { type: 'signature_delta', signature: sig })
  }

  function reasoning(delta: Delta): string {
    // When a vendor sends reasoning_content, its details (if any) repeat that text: use them only
    // for signatures and redacted blocks, never twice for the text.
    const hasText = typeof delta.reasoning_content === 'string'
    let out = hasText ? thinkingText(delta.reasoning_content ?? '') : ''
    for (const d of delta.reasoning_details ?? []) {
      if (d.type === 'thinking') {
        if (!hasText) out += thinkingDetail(d)
        else if (d.signature) out += signature(d.signature)
      } else if (d.type === 'redacted_thinking') {
        out += openBlock('thinking', { type: 'redacted_thinking', data: d.data }, true).out
        out += closeBlock()
      }
    }
    // Gemini thought signatures sign the open thinking block (Gemini's thought text), else an empty one.
    const carried = geminiSignatureEnvelope(delta.reasoning_details ?? [])
    if (carried !== undefined) out += signature(carried)
    return out
  }

  function text(value: string): string {
    if (value === '') return ''
    if (open?.kind === 'text') return blockDelta(open.index, { type: 'text_delta', text: value })
    const { out, index } = openBlock('text', { type: 'text', text: '' })
    return out + blockDelta(index, { type: 'text_delta', text: value })
  }

  function toolCalls(delta: Delta): string {
    let out = ''
    for (const call of delta.tool_calls ?? []) {
      const args = call.function?.arguments
      let index = toolBlocks.get(call.index)
      if (index === undefined) {
        const waiting = queued.find((q) => q.call === call.index)
        if (waiting) {
          if (args) waiting.args += args
          continue
        }
        const id = call.id ?? `toolu_${messageId.slice(4)}_${call.index}`
        const name = call.function?.name ?? ''
        if (open?.kind === 'tool') {
          queued.push({ call: call.index, id, name, args: args ?? '' })
          continue
        }
        const opened = openBlock('tool', { type: 'tool_use', id, name, input: {} })
        out += opened.out
        index = opened.index
        toolBlocks.set(call.index, index)
      }
      if (args) out += blockDelta(index, { type: 'input_json_delta', partial_json: args })
    }
    return out
  }

  return {
    push(chunk) {
      if (finished) return ''
      let out = started ? '' : messageStart(chunk)
      if (chunk.usage) seenUsage = usageFromOpenAI(chunk.usage)
      // Anthropic has one candidate per message; with n > 1 only the first is forwarded.
      const choice = chunk.choices.find((c) => c.index === 0)
      if (!choice) return out
      const delta = choice.delta
      out += reasoning(delta)
      if (typeof delta.content === 'string') out += text(delta.content)
      if (typeof delta.refusal === 'string' && delta.refusal !== '') {
        refused = true
        out += text(delta.refusal)
      }
      out += toolCalls(delta)
      if (choice.finish_reason) {
        finish = choice.finish_reason
        out += closeBlock()
      }
      return out
    },

    end(usage) {
      if (finished) return ''
      finished = true
      let out = started ? '' : messageStart(undefined)
      out += closeBlock()
      out += sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason(finish, toolBlocks.size > 0, refused), stop_sequence: null },
        usage: anthropicUsage(usage ?? seenUsage),
      })
      return out + sse('message_stop', { type: 'message_stop' })
    },

    error(err: GatewayError) {
      if (finished) return ''
      finished = true
      return `event: error\ndata: ${anthropicErrorBody(err)}\n\n`
    },
  }
}
