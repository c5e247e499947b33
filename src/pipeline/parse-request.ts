/**
 * Validates a client body for its operation and pulls out what every stage needs (model, stream,
 * output cap). Errors name the field and say what was expected.
 */
import { invalidRequest } from '../core/errors.ts'
import { isObject, type Json, type JsonObject } from '../core/json.ts'
import type { Operation } from '../core/call.ts'

export interface ParsedCall {
  body: JsonObject
  model: string
  stream: boolean
  /** max_tokens / max_completion_tokens / max_output_tokens when the client set one. */
  maxOutputTokens: number | undefined
}

export function parseJsonBody(raw: Buffer): JsonObject {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch (err) {
    throw invalidRequest(`The request body is not valid JSON (${(err as Error).message}). Send a JSON object with Content-Type: application/json.`)
  }
  if (!isObject(parsed)) throw invalidRequest('The request body must be a JSON object.')
  return parsed
}

const fail = (field: string, expected: string, got: Json | undefined): never => {
  throw invalidRequest(`Invalid value for '${field}': expected ${expected}, got ${got === undefined ? 'nothing' : JSON.stringify(got).slice(0, 60)}.`, field)
}

function optionalNumber(body: JsonObject, field: string, integer = true): number | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || (integer && !Number.isInteger(v)) || v < 0) fail(field, integer ? 'a non-negative integer' : 'a non-negative number', v)
  return v as number
}

export function parseCall(operation: Operation, body: JsonObject): ParsedCall {
  const model = body.model
  if (operation !== 'passthrough') {
    if (model === undefined) throw invalidRequest("Missing required parameter: 'model'.", 'model')
    if (typeof model !== 'string' || model.length === 0) fail('model', 'a non-empty string', model)
  }
  const stream = body.stream
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') fail('stream', 'a boolean', stream)
  for (const f of ['temperature', 'top_p']) optionalNumber(body, f, false)

  switch (operation) {
    case 'chat': {
      const messages = body.messages
      if (messages === undefined) throw invalidRequest("Missing required parameter: 'messages'.", 'messages')
      if (!Array.isArray(messages)) fail('messages', 'an array of message objects', messages)
      const list = messages as Json[]
      if (list.length === 0) fail('messages', 'at least one message', messages)
      list.forEach((m, i) => {
        if (!isObject(m)) fail(`messages[${i}]`, 'an object with role and content', m)
        const mm = m as JsonObject
        if (typeof mm.role !== 'string') fail(`messages[${i}].role`, "one of 'system', 'developer', 'user', 'assistant', 'tool'", mm.role)
      })
      if (body.tools !== undefined && !Array.isArray(body.tools)) fail('tools', 'an array of tool objects', body.tools)
      const so = body.stream_options
      if (so !== undefined && so !== null && !isObject(so)) fail('stream_options', 'an object', so)
      break
    }
    case 'completions':
      if (body.prompt === undefined) throw invalidRequest("Missing required parameter: 'prompt'.", 'prompt')
      break
    case 'embeddings':
      if (body.input === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input')
      if (typeof body.input !== 'string' && !Array.isArray(body.input)) fail('input', 'a string or an array', body.input)
      break
    case 'responses':
      if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input)) fail('input', 'a string or an array of input items', body.input)
      break
    case 'messages':
      if (!Array.isArray(body.messages)) fail('messages', 'an array of message objects', body.messages)
      if (body.max_tokens === undefined) throw invalidRequest("Missing required parameter: 'max_tokens'.", 'max_tokens')
      break
    case 'count_tokens':
      if (!Array.isArray(body.messages)) fail('messages', 'an array of message objects', body.messages)
      break
    case 'passthrough':
      break
  }
  const maxOutputTokens = optionalNumber(body, 'max_completion_tokens') ?? optionalNumber(body, 'max_tokens') ?? optionalNumber(body, 'max_output_tokens')
  return { body, model: typeof model === 'string' ? model : '', stream: stream === true, maxOutputTokens }
}
