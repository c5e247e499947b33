/**
 * Content capture (`telemetry.capture_content`): prompts and completions in the GenAI conventions'
 * message shapes (`gen_ai.system_instructions`, `gen_ai.input.messages`, `gen_ai.output.messages`),
 * redacted and capped. Only ever called when capture is on; costs nothing otherwise.
 */
import type { Attributes } from '@opentelemetry/api'
import type { Operation } from '../core/call.ts'
import type { Json as JsonValue, JsonObject } from '../core/json.ts'
import type { Redactor } from './redact.ts'

/**
 * The message parts of the GenAI input/output message JSON schemas. Media keep their modality: a
 * URL is a `uri` part, a provider file id a `file` part, inline data a `blob` part, whose bytes are
 * never recorded (no `content`: a prompt's images would dwarf every other attribute, and they are
 * not text the redactor can read).
 */
type Part =
  | { type: 'text'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: JsonValue }
  | { type: 'tool_call_response'; id?: string; response: string }
  | { type: 'uri'; modality: Modality; mime_type?: string; uri: string }
  | { type: 'file'; modality: Modality; mime_type?: string; file_id: string }
  | { type: 'blob'; modality: Modality; mime_type?: string }
  | { type: string }
type Modality = 'image' | 'audio' | 'video' | 'document'
interface Message { role: string; parts: Part[]; finish_reason?: string }

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const asText = (v: JsonValue | undefined): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v))

/**
 * Tool-call arguments as the schemas show them: an object. OpenAI-type APIs send them as a JSON
 * string, parsed here (capture is opt-in, so the parse is paid only by those who asked); a string
 * that is not valid JSON (a model's broken output) stays a string.
 */
function toolArguments(v: JsonValue | undefined): JsonValue | undefined {
  if (typeof v !== 'string') return v
  try {
    return JSON.parse(v) as JsonValue
  } catch {
    return v
  }
}

/** A media reference by URL: a `data:` URL is inline bytes (a blob part, bytes left out), anything else a `uri` part. */
function fromUrl(modality: Modality, url: string, mimeType?: string): Part {
  if (url.startsWith('data:')) {
    const end = url.search(/[;,]/)
    const mime = end > 5 ? url.slice(5, end) : mimeType
    return mime ? { type: 'blob', modality, mime_type: mime } : { type: 'blob', modality }
  }
  return mimeType ? { type: 'uri', modality, mime_type: mimeType, uri: url } : { type: 'uri', modality, uri: url }
}

/** Anthropic's image/document `source`: base64 or text (a blob), url, or file. */
function fromSource(modality: Modality, source: JsonValue | undefined): Part {
  if (!isObj(source)) return { type: 'blob', modality }
  const mime = str(source.media_type) ?? (source.type === 'text' ? 'text/plain' : undefined)
  if (source.type === 'url' && typeof source.url === 'string') return fromUrl(modality, source.url, mime)
  if (source.type === 'file' && typeof source.file_id === 'string') return mime ? { type: 'file', modality, mime_type: mime, file_id: source.file_id } : { type: 'file', modality, file_id: source.file_id }
  return mime ? { type: 'blob', modality, mime_type: mime } : { type: 'blob', modality }
}

/** A content block that is a picture, a sound or a document, in any of the client APIs; undefined for anything else. */
function mediaPart(type: string, b: JsonObject): Part | undefined {
  switch (type) {
    case 'image_url': {
      // OpenAI Chat: { image_url: { url } } (older clients: a bare string).
      const url = isObj(b.image_url) ? str(b.image_url.url) : str(b.image_url)
      return url === undefined ? { type: 'blob', modality: 'image' } : fromUrl('image', url)
    }
    case 'input_image': {
      // Responses: image_url (a URL or a data: URL) or file_id.
      const url = str(b.image_url)
      if (url !== undefined) return fromUrl('image', url)
      const id = str(b.file_id)
      return id === undefined ? { type: 'blob', modality: 'image' } : { type: 'file', modality: 'image', file_id: id }
    }
    case 'input_audio': {
      // OpenAI Chat: { input_audio: { data, format } }, always inline.
      const format = isObj(b.input_audio) ? str(b.input_audio.format) : undefined
      return format ? { type: 'blob', modality: 'audio', mime_type: `audio/${format}` } : { type: 'blob', modality: 'audio' }
    }
    case 'file':
    case 'input_file': {
      // OpenAI Chat: { file: { file_id | file_data } }; Responses: file_id, file_data or file_url on the part.
      const f = isObj(b.file) ? b.file : b
      const id = str(f.file_id)
      if (id !== undefined) return { type: 'file', modality: 'document', file_id: id }
      const url = str(f.file_url)
      if (url !== undefined) return fromUrl('document', url)
      const data = str(f.file_data)
      return data !== undefined && data.startsWith('data:') ? fromUrl('document', data) : { type: 'blob', modality: 'document' }
    }
    case 'image':
      return fromSource('image', b.source)
    case 'document':
      return fromSource('document', b.source)
    default:
      return undefined
  }
}

/** The parts of OpenAI, Anthropic or Responses content (a string or a list of blocks). */
function contentParts(content: JsonValue | undefined): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content }]
  if (!Array.isArray(content)) return []
  const parts: Part[] = []
  for (const b of content) {
    if (!isObj(b)) continue
    const type = str(b.type) ?? 'unknown'
    const text = str(b.text)
    if (text !== undefined) parts.push({ type: 'text', content: text })
    else if (type === 'thinking') parts.push({ type: 'reasoning', content: str(b.thinking) ?? '' })
    else if (type === 'tool_use') parts.push({ type: 'tool_call', id: str(b.id), name: str(b.name) ?? '', arguments: toolArguments(b.input) })
    else if (type === 'tool_result') parts.push({ type: 'tool_call_response', id: str(b.tool_use_id), response: asText(b.content) })
    // Redacted thinking is encrypted, server tool blocks and the rest have no schema part: by type.
    else parts.push(mediaPart(type, b) ?? { type })
  }
  return parts
}

function chatMessages(messages: JsonValue | undefined, system: Part[]): Message[] {
  const out: Message[] = []
  if (!Array.isArray(messages)) return out
  for (const m of messages) {
    if (!isObj(m)) continue
    const role = str(m.role) ?? 'user'
    if (role === 'system' || role === 'developer') {
      system.push(...contentParts(m.content))
      continue
    }
    if (role === 'tool') {
      out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: str(m.tool_call_id), response: asText(m.content) }] })
      continue
    }
    const parts = contentParts(m.content)
    if (Array.isArray(m.tool_calls)) {
      for (const tc of m.tool_calls) {
        if (!isObj(tc) || !isObj(tc.function)) continue
        parts.push({ type: 'tool_call', id: str(tc.id), name: str(tc.function.name) ?? '', arguments: toolArguments(tc.function.arguments) })
      }
    }
    out.push({ role, parts })
  }
  return out
}

/** A Responses `reasoning` item: its summary (and its text, when the vendor returns it) as reasoning parts. */
function reasoningParts(item: JsonObject): Part[] {
  const parts: Part[] = []
  for (const list of [item.summary, item.content]) {
    if (!Array.isArray(list)) continue
    for (const p of list) if (isObj(p) && typeof p.text === 'string') parts.push({ type: 'reasoning', content: p.text })
  }
  return parts
}

const functionCall = (item: JsonObject): Part => ({ type: 'tool_call', id: str(item.call_id), name: str(item.name) ?? '', arguments: toolArguments(item.arguments) })

function responsesInput(input: JsonValue | undefined): Message[] {
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', content: input }] }]
  if (!Array.isArray(input)) return []
  const out: Message[] = []
  for (const item of input) {
    if (!isObj(item)) continue
    if (item.type === 'function_call') out.push({ role: 'assistant', parts: [functionCall(item)] })
    else if (item.type === 'function_call_output') out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: str(item.call_id), response: asText(item.output) }] })
    else if (item.type === 'reasoning') out.push({ role: 'assistant', parts: reasoningParts(item) })
    else if (item.role !== undefined) out.push({ role: str(item.role) ?? 'user', parts: contentParts(item.content) })
  }
  return out
}

/**
 * A Responses answer is one generation: one output message holding every item's parts, with the
 * finish reason the schema requires, read from the response's status (the API has no such field).
 */
function responsesOutput(body: JsonObject, output: JsonValue[]): Message {
  const parts: Part[] = []
  let calledTool = false
  for (const item of output) {
    if (!isObj(item)) continue
    if (item.type === 'message') parts.push(...contentParts(item.content))
    else if (item.type === 'reasoning') parts.push(...reasoningParts(item))
    else if (item.type === 'function_call') {
      parts.push(functionCall(item))
      calledTool = true
    } else if (typeof item.type === 'string') parts.push({ type: item.type })
  }
  const incomplete = isObj(body.incomplete_details) ? str(body.incomplete_details.reason) : undefined
  const finish = body.status === 'failed' ? 'error'
    : body.status === 'incomplete' ? (incomplete === 'content_filter' ? 'content_filter' : 'length')
    : calledTool ? 'tool_call'
    : 'stop'
  return { role: 'assistant', parts, finish_reason: finish }
}

export interface ContentCapture {
  /** Adds the prompt attributes of this request. */
  input(operation: Operation, body: JsonObject, into: Attributes): void
  /** Adds `gen_ai.output.messages` from a complete (non-streamed) response body in the client's format. */
  output(operation: Operation, body: Buffer, into: Attributes): void
}

export function createContentCapture(redact: Redactor, maxBytes: number): ContentCapture {
  /** Redacts every text field and cuts text once the attribute's byte budget is spent, keeping valid JSON. */
  const finish = (value: Part[] | Message[]): string => {
    let budget = maxBytes
    const cut = (s: string): string => {
      const r = redact(s)
      const n = Buffer.byteLength(r)
      if (n <= budget) {
        budget -= n
        return r
      }
      const kept = budget > 0 ? Buffer.from(r).subarray(0, budget).toString('utf8').replace(/\uFFFD$/, '') : ''
      budget = 0
      return `${kept}...[truncated]`
    }
    /** Every string inside parsed tool arguments is redacted and cut; keys are the tool's schema, kept. */
    const cutJson = (v: JsonValue): JsonValue => {
      if (typeof v === 'string') return cut(v)
      if (Array.isArray(v)) return v.map(cutJson)
      if (!isObj(v)) return v
      const o: JsonObject = {}
      for (const k of Object.keys(v)) {
        const item = v[k]
        if (item === undefined) continue
        if (k === '__proto__') Object.defineProperty(o, k, { value: cutJson(item), enumerable: true, writable: true, configurable: true })
        else o[k] = cutJson(item)
      }
      return o
    }
    const fixPart = (p: Part): Part => {
      if ('content' in p) return { ...p, content: cut(p.content) }
      if ('arguments' in p && p.arguments !== undefined) return { ...p, arguments: cutJson(p.arguments) }
      if ('response' in p) return { ...p, response: cut(p.response) }
      if ('uri' in p) return { ...p, uri: cut(p.uri) }
      return p
    }
    const fixed = value.map((v) => ('parts' in v ? { ...v, parts: v.parts.map(fixPart) } : fixPart(v)))
    return JSON.stringify(fixed)
  }

  return {
    input(operation, body, into) {
      const system: Part[] = []
      let messages: Message[] = []
      if (operation === 'chat') messages = chatMessages(body.messages, system)
      else if (operation === 'messages' || operation === 'count_tokens') {
        system.push(...contentParts(body.system))
        messages = chatMessages(body.messages, system)
      } else if (operation === 'responses') {
        if (typeof body.instructions === 'string') system.push({ type: 'text', content: body.instructions })
        messages = responsesInput(body.input)
      } else if (operation === 'completions') {
        const prompt = body.prompt
        const texts = typeof prompt === 'string' ? [prompt] : Array.isArray(prompt) ? prompt.filter((p): p is string => typeof p === 'string') : []
        messages = texts.map((t) => ({ role: 'user', parts: [{ type: 'text', content: t }] }))
      } else {
        return
      }
      if (system.length > 0) into['gen_ai.system_instructions'] = finish(system)
      into['gen_ai.input.messages'] = finish(messages)
    },
    output(operation, bytes, into) {
      let body: unknown
      try {
        body = JSON.parse(bytes.toString('utf8'))
      } catch {
        return
      }
      if (!isObj(body)) return
      const out: Message[] = []
      if (Array.isArray(body.choices)) {
        for (const c of body.choices) {
          if (!isObj(c)) continue
          const finishReason = str(c.finish_reason)
          if (isObj(c.message)) {
            const m = chatMessages([c.message], [])[0]
            if (m) out.push(finishReason ? { ...m, finish_reason: finishReason } : m)
          } else if (typeof c.text === 'string') {
            out.push({ role: 'assistant', parts: [{ type: 'text', content: c.text }], ...(finishReason ? { finish_reason: finishReason } : {}) })
          }
        }
      } else if (operation === 'messages' && Array.isArray(body.content)) {
        const reason = str(body.stop_reason)
        out.push({ role: 'assistant', parts: contentParts(body.content), ...(reason ? { finish_reason: reason } : {}) })
      } else if (Array.isArray(body.output)) {
        out.push(responsesOutput(body, body.output))
      }
      if (out.length > 0) into['gen_ai.output.messages'] = finish(out)
    },
  }
}
