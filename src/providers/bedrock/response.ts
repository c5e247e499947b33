/** Bedrock Converse response -> OpenAI chat.completion. Pure. */
import { isObject, type JsonObject } from '../../core/json.ts'
import type { ChatCompletion, ReasoningDetail, ToolCall } from '../../core/openai-chat.ts'
import { usageToOpenAI, type Usage } from '../../core/usage.ts'
import { finishReasonFromBedrock, usageFromBedrock } from './common.ts'

type Message = ChatCompletion['choices'][number]['message']

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function bedrockToChat(body: JsonObject, model: string, created: number, id: string): { completion: ChatCompletion; usage: Usage | undefined } {
  const output = isObject(body['output']) ? body['output'] : {}
  const msg = isObject(output['message']) ? output['message'] : {}
  const blocks = Array.isArray(msg['content']) ? msg['content'] : []
  let text = ''
  let reasoning = ''
  const toolCalls: ToolCall[] = []
  const details: ReasoningDetail[] = []
  for (const block of blocks) {
    if (!isObject(block)) continue
    const t = str(block['text'])
    if (t !== undefined) text += t
    const use = block['toolUse']
    if (isObject(use)) {
      toolCalls.push({
        id: str(use['toolUseId']) ?? `call_${toolCalls.length}`,
        type: 'function',
        function: { name: str(use['name']) ?? '', arguments: JSON.stringify(isObject(use['input']) ? use['input'] : {}) },
      })
    }
    const rc = block['reasoningContent']
    if (isObject(rc)) {
      const rt = rc['reasoningText']
      if (isObject(rt)) {
        const thinking = str(rt['text']) ?? ''
        reasoning += thinking
        const detail: ReasoningDetail = { type: 'thinking', thinking }
        const signature = str(rt['signature'])
        if (signature !== undefined) detail.signature = signature
        details.push(detail)
      }
      const redacted = str(rc['redactedContent'])
      if (redacted !== undefined) details.push({ type: 'redacted_thinking', data: redacted })
    }
  }
  const message: Message = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text }
  if (reasoning !== '') message.reasoning_content = reasoning
  if (toolCalls.length > 0) message.tool_calls = toolCalls
  if (details.length > 0) message.reasoning_details = details
  const stopReason = str(body['stopReason'])
  const usage = usageFromBedrock(body['usage'])
  const completion: ChatCompletion = {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, finish_reason: stopReason === undefined ? null : finishReasonFromBedrock(stopReason) }],
  }
  if (usage) completion.usage = usageToOpenAI(usage)
  return { completion, usage }
}
