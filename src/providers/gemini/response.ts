/** Gemini GenerateContentResponse -> OpenAI chat.completion. Pure. */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import type { ChatCompletion, FinishReason, ReasoningDetail, ToolCall } from '../../core/openai-chat.ts'
import { usageToOpenAI, type Usage } from '../../core/usage.ts'
import type { ProviderError } from '../types.ts'
import { argsToString, finishReasonFromGemini, stringField, toolCallId, usageFromGemini } from './common.ts'

export interface GeminiCompletion { completion: ChatCompletion; usage: Usage | undefined }

type Choice = ChatCompletion['choices'][number]

function choiceFromCandidate(cand: JsonObject, position: number, responseId: string | undefined): Choice {
  const index = typeof cand['index'] === 'number' ? cand['index'] : position
  const parts = isObject(cand['content']) && Array.isArray(cand['content']['parts']) ? cand['content']['parts'] : []
  let text = ''
  let reasoning = ''
  const toolCalls: ToolCall[] = []
  const details: ReasoningDetail[] = []
  for (const part of parts) {
    if (!isObject(part)) continue
    const signature = stringField(part, 'thoughtSignature')
    const call = part['functionCall']
    if (isObject(call)) {
      const id = stringField(call, 'id') ?? toolCallId(responseId, index, toolCalls.length)
      toolCalls.push({ id, type: 'function', function: { name: stringField(call, 'name') ?? '', arguments: argsToString(call['args']) } })
      if (signature !== undefined) details.push({ type: 'thought_signature', signature, tool_call_id: id })
      continue
    }
    const partText = stringField(part, 'text')
    if (partText !== undefined) {
      if (part['thought'] === true) reasoning += partText
      else text += partText
    }
    if (signature !== undefined) details.push({ type: 'thought_signature', signature })
  }
  const message: Choice['message'] = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text }
  if (reasoning !== '') message.reasoning_content = reasoning
  if (toolCalls.length > 0) message.tool_calls = toolCalls
  if (details.length > 0) message.reasoning_details = details
  const reason = stringField(cand, 'finishReason')
  const finish: FinishReason | null = reason === undefined ? null : finishReasonFromGemini(reason, toolCalls.length > 0)
  return { index, message, finish_reason: finish }
}

export function geminiToChat(body: JsonObject, model: string, created: number): GeminiCompletion {
  const responseId = stringField(body, 'responseId')
  const candidates = Array.isArray(body['candidates']) ? body['candidates'].filter(isObject) : []
  const choices = candidates.map((c, i) => choiceFromCandidate(c, i, responseId))
  // No candidates and no block reason (a blocked prompt is an error: promptBlocked): an empty answer.
  if (choices.length === 0) choices.push({ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'stop' })
  const usage = usageFromGemini(body['usageMetadata'])
  const completion: ChatCompletion = {
    id: responseId ? `chatcmpl-${responseId}` : 'chatcmpl-gemini',
    object: 'chat.completion',
    created,
    model: stringField(body, 'modelVersion') ?? model,
    choices,
  }
  if (usage) completion.usage = usageToOpenAI(usage)
  return { completion, usage }
}

/**
 * Gemini's answer when it blocked the prompt itself: HTTP 200, `promptFeedback.blockReason` and no
 * candidates ("If set, the prompt was blocked and no candidates are returned"). That is a refusal,
 * not an empty answer: a content-filter error shaped as OpenAI (and Azure) send one, a 400 with code
 * content_filter, so content_policy_fallbacks react to it and a client without one sees a 400.
 */
export function promptBlocked(body: JsonObject): ProviderError | undefined {
  const feedback = body['promptFeedback']
  if (!isObject(feedback) || feedback['blockReason'] === undefined) return undefined
  if (Array.isArray(body['candidates']) && body['candidates'].length > 0) return undefined
  const reason = typeof feedback['blockReason'] === 'string' ? feedback['blockReason'] : 'BLOCK_REASON_UNSPECIFIED'
  const detail = stringField(feedback, 'blockReasonMessage')
  return {
    status: 400,
    code: 'content_filter',
    type: 'invalid_request_error',
    param: null,
    kind: 'content_filter',
    message: `Gemini blocked the prompt (blockReason ${reason})${detail ? `: ${detail}` : ''}. Rephrase the prompt.`,
  }
}

export function parseJsonBody(body: Buffer): Json {
  return JSON.parse(body.toString('utf8')) as Json
}
