/**
 * OpenAI chat.completion -> Responses Response object: output items in the order OpenAI produces
 * them (reasoning, message, then one item per tool call), usage in Responses' names. The message
 * holds an output_text part, a refusal part, or both in that order.
 */
import type { ChatCompletion, ChatMessage } from '../../core/openai-chat.ts'
import type { JsonObject } from '../../core/json.ts'
import { usageFromOpenAI } from '../../core/usage.ts'
import type { EncodeContext } from '../types.ts'
import { callItem, envelope, itemId, messageItem, newResponseId, originsOf, outputText, reasoningItem, responsesUsage, statusOf } from './response-object.ts'

export function chatToResponse(completion: ChatCompletion, ctx: EncodeContext): JsonObject {
  const id = newResponseId()
  const choice = completion.choices[0]
  const message = choice?.message
  const output: JsonObject[] = []
  if (message) {
    const reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : ''
    const details = message.reasoning_details ?? []
    if (reasoning !== '' || details.length > 0) output.push(reasoningItem(itemId(id, 'rs', output.length), reasoning, details))
    // One message: the text, then the refusal (a vendor may explain a refusal after words of its own),
    // as the stream encoder builds it.
    const content: JsonObject[] = []
    const text = textOf(message)
    if (text !== '') content.push(outputText(text))
    if (typeof message.refusal === 'string' && message.refusal !== '') content.push({ type: 'refusal', refusal: message.refusal })
    if (content.length > 0) output.push(messageItem(itemId(id, 'msg', output.length), 'completed', content))
    const origins = originsOf(ctx.request)
    for (const call of message.tool_calls ?? []) {
      output.push(callItem(id, output.length, call.id, call.function.name, call.function.arguments, 'completed', origins))
    }
  }
  const { status, incomplete } = statusOf(choice?.finish_reason)
  return envelope({
    id,
    createdAt: typeof completion.created === 'number' ? completion.created : Math.floor(Date.now() / 1000),
    model: ctx.requestedModel,
    request: ctx.request,
    status,
    incomplete,
    output,
    usage: responsesUsage(usageFromOpenAI(completion.usage)),
  })
}

function textOf(message: ChatMessage): string {
  const c = message.content
  if (typeof c === 'string') return c
  if (!Array.isArray(c)) return ''
  return c.map((p) => (p.type === 'text' ? p.text : '')).join('')
}
