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
 * it is read here only to find the model that routes it: a JSON body's `model` member or a form's
 * `model` field (multipart: audio transcriptions; urlencoded). A model named in the body decides
 * (the x-switchboard-model header names it only for a body without one). The vendor reads the
 * same bytes, so the gateway must read the model the vendor will: a form is read to its end, and
 * a body it cannot read with certainty (a second `model`, a `model` that is a file or not a
 * string, a form that does not parse) is a 400. `json` is false for a body that is not JSON,
 * whose size says nothing about prompt tokens.
 */
export function parsePassthroughBody(raw: Buffer, contentType: string | undefined): { body: JsonObject; json: boolean } {
  if (raw.length === 0) return { body: {}, json: false }
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase()
  if (type === '' || type === 'application/json' || type.endsWith('+json')) {
    const body = parseJsonBody(raw)
    if (body.model !== undefined && body.model !== null && (typeof body.model !== 'string' || body.model === '')) fail('model', 'a non-empty string', body.model)
    return { body, json: true }
  }
  let model: string | undefined
  if (type === 'multipart/form-data') model = multipartModel(raw, contentType!)
  else if (type === 'application/x-www-form-urlencoded') model = urlencodedModel(raw)
  else return { body: {}, json: false }
  return { body: model === undefined ? {} : { model }, json: false }
}

const MAX_MODEL_BYTES = 256
const BOUNDARY = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i
const CRLF = Buffer.from('\r\n')
const HEADERS_END = Buffer.from('\r\n\r\n')

const unreadableForm = (why: string): never => {
  throw invalidRequest(`The multipart/form-data body could not be read (${why}); the gateway must read its 'model' field before forwarding it. Send a well-formed form (RFC 7578), as the SDKs do.`)
}

const twoModels = (): never => fail('model', "one 'model' field", 'several')

/**
 * The `model` field of a multipart/form-data body (RFC 7578), or undefined when no part is named
 * `model`. Every part is visited (the body is already bounded by server.max_body_bytes): stopping
 * early, or taking the first of two `model` fields, let a key allowed one model name another
 * that the vendor then read. File contents are skipped by their boundaries, never decoded.
 */
export function multipartModel(raw: Buffer, contentType: string): string | undefined {
  const m = BOUNDARY.exec(contentType)
  const boundary = m?.[1] ?? m?.[2]
  if (!boundary) return unreadableForm('its Content-Type names no boundary')
  const delimiter = Buffer.from(`--${boundary}`)
  const next = Buffer.from(`\r\n--${boundary}`)
  let at = raw.indexOf(delimiter)
  if (at < 0) return unreadableForm('no part starts with the boundary')
  let model: string | undefined
  for (;;) {
    const after = at + delimiter.length
    // `--boundary--` closes the form.
    if (raw[after] === 0x2d && raw[after + 1] === 0x2d) return model
    const lineEnd = raw.indexOf(CRLF, after)
    const headersEnd = lineEnd < 0 ? -1 : raw.indexOf(HEADERS_END, lineEnd)
    const end = headersEnd < 0 ? -1 : raw.indexOf(next, headersEnd + 4)
    if (end < 0) return unreadableForm('a part or the closing boundary is missing')
    const part = partDisposition(raw.toString('latin1', lineEnd + 2, headersEnd))
    if (part.name === 'model') {
      if (part.file) fail('model', 'a text field, not a file', 'a file part')
      if (model !== undefined) twoModels()
      if (end - (headersEnd + 4) > MAX_MODEL_BYTES) fail('model', `a model name of at most ${MAX_MODEL_BYTES} bytes`, 'a longer field')
      model = raw.toString('utf8', headersEnd + 4, end)
      if (model === '') fail('model', 'a non-empty string', model)
    }
    at = end + 2
  }
}

/** A part's form-data name and whether it is a file, from its headers (all of them: no prefix is skipped). */
function partDisposition(headers: string): { name: string | undefined; file: boolean } {
  let found: { name: string | undefined; file: boolean } | undefined
  for (const line of headers.split('\r\n')) {
    const d = /^content-disposition[ \t]*:(.*)$/i.exec(line)
    if (!d) continue
    // Two dispositions: servers differ on which one counts.
    if (found) return unreadableForm('a part has two Content-Disposition headers')
    const params = d[1]!
    // RFC 7578 forbids the RFC 5987 form (name*=); a server that decodes it would see a name we do not.
    if (/;\s*name\*\s*=/i.test(params)) return unreadableForm("a part names itself with name*=")
    const n = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/i.exec(params)
    found = { name: n ? (n[1] !== undefined ? n[1].replace(/\\(.)/g, '$1') : n[2]) : undefined, file: /;\s*filename\*?\s*=/i.test(params) }
  }
  return found ?? { name: undefined, file: false }
}

/** The `model` field of an application/x-www-form-urlencoded body (servers that take form fields read these too). */
function urlencodedModel(raw: Buffer): string | undefined {
  const models = new URLSearchParams(raw.toString('utf8')).getAll('model')
  if (models.length > 1) twoModels()
  if (models[0] !== undefined && Buffer.byteLength(models[0]) > MAX_MODEL_BYTES) fail('model', `a model name of at most ${MAX_MODEL_BYTES} bytes`, 'a longer field')
  if (models[0] === '') fail('model', 'a non-empty string', '')
  return models[0]
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
