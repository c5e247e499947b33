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

/**
 * The body of a forwarded /v1/* call. It goes upstream as the client's bytes whatever its type;
 * it is read here only to find the model that routes it: a JSON body's `model` member, a
 * multipart form's `model` field (audio transcriptions, uploads), else nothing (the
 * x-switchboard-model header then names it). `json` is false for a body that is not JSON, whose
 * size says nothing about prompt tokens.
 */
export function parsePassthroughBody(raw: Buffer, contentType: string | undefined): { body: JsonObject; json: boolean } {
  if (raw.length === 0) return { body: {}, json: false }
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase()
  if (type === '' || type === 'application/json' || type.endsWith('+json')) return { body: parseJsonBody(raw), json: true }
  if (type === 'multipart/form-data') {
    const model = multipartField(raw, contentType!, 'model')
    return { body: model === undefined ? {} : { model }, json: false }
  }
  return { body: {}, json: false }
}

const MAX_PARTS = 64
const MAX_FIELD_BYTES = 256

/** A short text field of a multipart/form-data body (RFC 7578), or undefined. Files are skipped by their headers, never decoded. */
export function multipartField(raw: Buffer, contentType: string, name: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  const boundary = m?.[1] ?? m?.[2]
  if (!boundary) return undefined
  const delimiter = Buffer.from(`--${boundary}`)
  const next = Buffer.from(`\r\n--${boundary}`)
  let at = raw.indexOf(delimiter)
  for (let part = 0; at >= 0 && part < MAX_PARTS; part++) {
    const headersStart = at + delimiter.length + 2
    const headersEnd = raw.indexOf('\r\n\r\n', headersStart)
    if (headersEnd < 0) return undefined
    const end = raw.indexOf(next, headersEnd + 4)
    if (end < 0) return undefined
    const headers = raw.toString('latin1', headersStart, Math.min(headersEnd, headersStart + 1024))
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? ''
    if (/;\s*name="?([^";]*)"?/i.exec(disposition)?.[1] === name && !/;\s*filename/i.test(disposition)) {
      return end - (headersEnd + 4) <= MAX_FIELD_BYTES ? raw.toString('utf8', headersEnd + 4, end).trim() : undefined
    }
    at = end + 2
  }
  return undefined
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
