/**
 * Gemini SSE stream (each event a GenerateContentResponse fragment) -> OpenAI chunks. Text and
 * thoughts stream as deltas; each function call is sent whole, once complete, with its own index.
 */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import type { ChatCompletionChunk, FinishReason, ReasoningDetail, ToolCallDelta } from '../../core/openai-chat.ts'
import { usageToOpenAI, type Usage } from '../../core/usage.ts'
import type { StreamEvent } from '../../upstream/types.ts'
import type { ProviderError, StreamFrame, StreamOptions, StreamTranslator } from '../types.ts'
import { argsToString, finishReasonFromGemini, stringField, toolCallId, usageFromGemini } from './common.ts'
import { geminiErrorFromObject, googleErrorObject } from './errors.ts'
import { applyPartialArg } from './partial-args.ts'
import { promptBlocked } from './response.ts'

type Delta = ChatCompletionChunk['choices'][number]['delta']

interface PendingCall { name: string; args: JsonObject; signature: string | undefined }

interface CandidateState {
  sentRole: boolean
  toolCalls: number
  pending: PendingCall | undefined
  finished: boolean
}

export interface GeminiStreamContext { model: string; created: number; opts: StreamOptions }

export function createGeminiStreamTranslator(ctx: GeminiStreamContext): StreamTranslator {
  const candidates = new Map<number, CandidateState>()
  const finishReasons: FinishReason[] = []
  let usage: Usage | undefined
  let error: ProviderError | undefined
  let responseId: string | undefined
  let model: string | undefined

  const chunk = (index: number, delta: Delta, finish: FinishReason | null = null): StreamFrame => ({
    kind: 'chunk',
    chunk: {
      id: responseId ? `chatcmpl-${responseId}` : 'chatcmpl-gemini',
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: model ?? ctx.model,
      choices: [{ index, delta, finish_reason: finish }],
    },
  })

  const stateOf = (index: number): CandidateState => {
    let s = candidates.get(index)
    if (!s) {
      s = { sentRole: false, toolCalls: 0, pending: undefined, finished: false }
      candidates.set(index, s)
    }
    return s
  }

  const emit = (out: StreamFrame[], index: number, s: CandidateState, delta: Delta): void => {
    if (!s.sentRole) {
      s.sentRole = true
      out.push(chunk(index, { role: 'assistant', content: '' }))
    }
    out.push(chunk(index, delta))
  }

  const emitCall = (out: StreamFrame[], index: number, s: CandidateState, name: string, args: string, signature: string | undefined, vendorId: string | undefined): void => {
    const id = vendorId ?? toolCallId(responseId, index, s.toolCalls)
    const call: ToolCallDelta = { index: s.toolCalls, id, type: 'function', function: { name, arguments: args } }
    s.toolCalls++
    const delta: Delta = { tool_calls: [call] }
    if (signature !== undefined) delta.reasoning_details = [{ type: 'thought_signature', signature, tool_call_id: id }]
    emit(out, index, s, delta)
  }

  const flushPending = (out: StreamFrame[], index: number, s: CandidateState): void => {
    const p = s.pending
    if (!p) return
    s.pending = undefined
    emitCall(out, index, s, p.name, JSON.stringify(p.args), p.signature, undefined)
  }

  const onFunctionCall = (out: StreamFrame[], index: number, s: CandidateState, call: JsonObject, signature: string | undefined): void => {
    const name = stringField(call, 'name')
    const continues = call['willContinue'] === true
    if (name !== undefined) {
      flushPending(out, index, s)
      if (!continues) return emitCall(out, index, s, name, argsToString(call['args']), signature, stringField(call, 'id'))
      s.pending = { name, args: isObject(call['args']) ? structuredClone(call['args']) : {}, signature }
      return
    }
    const p = s.pending
    if (!p) return
    if (Array.isArray(call['partialArgs'])) for (const arg of call['partialArgs']) applyPartialArg(p.args, arg)
    if (signature !== undefined && p.signature === undefined) p.signature = signature
    if (!continues) flushPending(out, index, s)
  }

  const onCandidate = (out: StreamFrame[], cand: JsonObject, position: number): void => {
    const index = typeof cand['index'] === 'number' ? cand['index'] : position
    const s = stateOf(index)
    const parts = isObject(cand['content']) && Array.isArray(cand['content']['parts']) ? cand['content']['parts'] : []
    for (const part of parts) {
      if (!isObject(part)) continue
      const signature = stringField(part, 'thoughtSignature')
      if (isObject(part['functionCall'])) {
        onFunctionCall(out, index, s, part['functionCall'], signature)
        continue
      }
      const text = stringField(part, 'text')
      const delta: Delta = {}
      if (text) {
        if (part['thought'] === true) delta.reasoning_content = text
        else delta.content = text
      }
      if (signature !== undefined) delta.reasoning_details = [{ type: 'thought_signature', signature } satisfies ReasoningDetail]
      if (Object.keys(delta).length > 0) emit(out, index, s, delta)
    }
    const reason = stringField(cand, 'finishReason')
    if (reason !== undefined && !s.finished) {
      flushPending(out, index, s)
      s.finished = true
      const finish = finishReasonFromGemini(reason, s.toolCalls > 0)
      finishReasons.push(finish)
      if (!s.sentRole) emit(out, index, s, { content: '' })
      out.push(chunk(index, {}, finish))
    }
  }

  return {
    push(event: StreamEvent): StreamFrame[] {
      const data = event.data.trim()
      if (data === '' || data === '[DONE]') return []
      let parsed: Json
      try {
        parsed = JSON.parse(data) as Json
      } catch {
        return []
      }
      const err = googleErrorObject(parsed)
      if (err) {
        error = geminiErrorFromObject(0, err)
        return []
      }
      if (!isObject(parsed)) return []
      // A blocked prompt comes as the stream's only event, before any candidate.
      if (candidates.size === 0) {
        const blocked = promptBlocked(parsed)
        if (blocked) {
          error = blocked
          return []
        }
      }
      responseId ??= stringField(parsed, 'responseId')
      model ??= stringField(parsed, 'modelVersion')
      usage = usageFromGemini(parsed['usageMetadata']) ?? usage
      const out: StreamFrame[] = []
      const cands = Array.isArray(parsed['candidates']) ? parsed['candidates'] : []
      cands.forEach((c, i) => {
        if (isObject(c)) onCandidate(out, c, i)
      })
      return out
    },
    end(): StreamFrame[] {
      const out: StreamFrame[] = []
      for (const [index, s] of candidates) flushPending(out, index, s)
      if (ctx.opts.clientWantsUsage && usage) {
        const base = chunk(0, {})
        if (base.kind === 'chunk') out.push({ kind: 'chunk', chunk: { ...base.chunk, choices: [], usage: usageToOpenAI(usage) } })
      }
      return out
    },
    usage: () => usage,
    error: () => error,
    responseModel: () => model,
    responseId: () => responseId,
    finishReasons: () => finishReasons,
  }
}
