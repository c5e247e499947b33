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
