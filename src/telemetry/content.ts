/**
 * Content capture (`telemetry.capture_content`): prompts and completions in the GenAI conventions'
 * message shapes (`gen_ai.system_instructions`, `gen_ai.input.messages`, `gen_ai.output.messages`),
 * redacted and capped. Only ever called when capture is on; costs nothing otherwise.
 */
import type { Attributes } from '@opentelemetry/api'
import type { Operation } from '../core/call.ts'
import type { Json as JsonValue, JsonObject } from '../core/json.ts'
import type { Redactor } from './redact.ts'

type Part =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: string }
  | { type: 'tool_call_response'; id?: string; response: string }
  | { type: string }
interface Message { role: string; parts: Part[]; finish_reason?: string }

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const asText = (v: JsonValue | undefined): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v))

/** Text parts of OpenAI, Anthropic or Responses content (a string or a list of blocks). */
function contentParts(content: JsonValue | undefined): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content }]
  if (!Array.isArray(content)) return []
  const parts: Part[] = []
  for (const b of content) {
    if (!isObj(b)) continue
    const type = str(b.type) ?? 'unknown'
    const text = str(b.text)
    if (text !== undefined) parts.push({ type: 'text', content: text })
    else if (type === 'tool_use') parts.push({ type: 'tool_call', id: str(b.id), name: str(b.name) ?? '', arguments: asText(b.input) })
    else if (type === 'tool_result') parts.push({ type: 'tool_call_response', id: str(b.tool_use_id), response: asText(b.content) })
    else parts.push({ type }) // images, audio, files: recorded by kind, never by bytes
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
        parts.push({ type: 'tool_call', id: str(tc.id), name: str(tc.function.name) ?? '', arguments: asText(tc.function.arguments) })
      }
    }
    out.push({ role, parts })
  }
  return out
}

function responsesInput(input: JsonValue | undefined): Message[] {
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', content: input }] }]
  if (!Array.isArray(input)) return []
  const out: Message[] = []
  for (const item of input) {
    if (!isObj(item)) continue
    if (item.type === 'function_call') out.push({ role: 'assistant', parts: [{ type: 'tool_call', id: str(item.call_id), name: str(item.name) ?? '', arguments: asText(item.arguments) }] })
    else if (item.type === 'function_call_output') out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: str(item.call_id), response: asText(item.output) }] })
    else if (item.role !== undefined) out.push({ role: str(item.role) ?? 'user', parts: contentParts(item.content) })
  }
  return out
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
    const fixPart = (p: Part): Part => {
      if ('content' in p) return { ...p, content: cut(p.content) }
      if ('arguments' in p && p.arguments !== undefined) return { ...p, arguments: cut(p.arguments) }
      if ('response' in p) return { ...p, response: cut(p.response) }
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
        for (const item of body.output) {
          if (!isObj(item)) continue
          if (item.type === 'message') out.push({ role: 'assistant', parts: contentParts(item.content) })
          else if (item.type === 'function_call') out.push({ role: 'assistant', parts: [{ type: 'tool_call', id: str(item.call_id), name: str(item.name) ?? '', arguments: asText(item.arguments) }] })
        }
      }
      if (out.length > 0) into['gen_ai.output.messages'] = finish(out)
    },
  }
}
