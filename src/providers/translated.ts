/** Helpers every translating adapter shares, so each vendor folder holds only what is its own. */
import { invalidRequest } from '../core/errors.ts'
import { isObject, type JsonObject } from '../core/json.ts'
import type { ChatCompletion } from '../core/openai-chat.ts'
import type { Usage } from '../core/usage.ts'
import type { ParsedResponse } from './types.ts'

/** A vendor answer translated to an OpenAI chat.completion, as the pipeline takes it. */
export function chatResponse(completion: ChatCompletion, usage: Usage | undefined, finishReasons: string[] = completion.choices.map((c) => c.finish_reason ?? 'stop')): ParsedResponse {
  return {
    kind: 'object',
    body: completion as unknown as JsonObject,
    usage,
    responseModel: completion.model,
    responseId: completion.id,
    finishReasons,
  }
}

/** An assistant tool call's `arguments` as the object vendors want; empty means no arguments. */
export function toolArguments(args: string, param: string): JsonObject {
  if (args.trim() === '') return {}
  try {
    const parsed: unknown = JSON.parse(args)
    if (isObject(parsed)) return parsed
  } catch {
    // not JSON: refused below
  }
  throw invalidRequest('tool_calls[].function.arguments must be a JSON object', param)
}

/**
 * Claude, direct or on Bedrock, refuses thinking when the last assistant turn used tools but does
 * not start with its signed thinking ("a final assistant message must start with a thinking
 * block"): the client rebuilt the turn without keeping reasoning_details, which most OpenAI
 * clients do. The adapters then leave thinking off rather than send a request bound to fail.
 * It reads the vendor's own turns, so it sees exactly what is sent; the predicates name the
 * vendor's thinking and tool-use blocks.
 */
export function lastToolTurnLacksThinking<B>(
  turns: ReadonlyArray<{ role: string; content: string | readonly B[] }>,
  isThinking: (block: B) => boolean,
  isToolUse: (block: B) => boolean,
): boolean {
  const last = turns.findLast(t => t.role === 'assistant')
  if (!last || typeof last.content === 'string') return false
  const first = last.content[0]
  return last.content.some(isToolUse) && (first === undefined || !isThinking(first))
}
