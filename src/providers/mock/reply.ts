/**
 * What the mock model says. Deterministic: the same request always gets the same answer, so the
 * demo, the tests and the cache behave predictably. Token counts are honest for what it says:
 * roughly four characters per token, the same rule for prompt and completion.
 */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'

export const approxTokens = (text: string): number => (text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4)))

export function textOf(content: Json | undefined): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) return content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('')
  return ''
}

export function promptText(body: JsonObject): string {
  if (Array.isArray(body.messages)) return body.messages.map((m) => (isObject(m) ? textOf(m.content) : '')).join('\n')
  if (typeof body.prompt === 'string') return body.prompt
  if (typeof body.input === 'string') return body.input
  if (Array.isArray(body.input)) return body.input.map((i) => (typeof i === 'string' ? i : isObject(i) ? textOf(i.content) : '')).join('\n')
  return ''
}

export type MockReply =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; name: string; arguments: string }

/** A tool call when tools are offered and the conversation does not already end in a tool result. */
export function chooseReply(body: JsonObject): MockReply {
  const messages = Array.isArray(body.messages) ? body.messages.filter(isObject) : []
  const last = messages[messages.length - 1]
  const tools = Array.isArray(body.tools) ? body.tools.filter(isObject) : []
  if (tools.length > 0 && body.tool_choice !== 'none' && last?.role !== 'tool') {
    const forced = isObject(body.tool_choice) && isObject(body.tool_choice.function) ? body.tool_choice.function.name : undefined
    const tool = tools.find((t) => isObject(t.function) && t.function.name === forced) ?? tools[0]
    const fn = tool && isObject(tool.function) ? tool.function : undefined
    if (fn && typeof fn.name === 'string') return { kind: 'tool', name: fn.name, arguments: JSON.stringify(exampleArgs(fn.parameters)) }
  }
  if (last?.role === 'tool') return { kind: 'text', text: `The tool returned: ${textOf(last.content).slice(0, 200)}` }
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')
  const said = lastUser ? textOf(lastUser.content) : promptText(body)
  return { kind: 'text', text: `This is the mock model answering: ${said.slice(0, 200) || 'hello'}` }
}

/** Arguments that satisfy a JSON schema's required properties, with placeholder values. */
function exampleArgs(schema: Json | undefined): JsonObject {
  const out: JsonObject = {}
  if (!isObject(schema) || !isObject(schema.properties)) return out
  const required = Array.isArray(schema.required) ? schema.required : Object.keys(schema.properties)
  for (const name of required) {
    if (typeof name !== 'string') continue
    const prop = schema.properties[name]
    const type = isObject(prop) ? prop.type : undefined
    out[name] = type === 'number' || type === 'integer' ? 1 : type === 'boolean' ? true : type === 'array' ? [] : type === 'object' ? {} : isObject(prop) && Array.isArray(prop.enum) && prop.enum[0] !== undefined ? prop.enum[0] : 'example'
  }
  return out
}

/** A deterministic unit vector derived from the text. */
export function embed(text: string, dims = 8): number[] {
  const v: number[] = []
  let h = 2166136261
  for (let i = 0; i < dims; i++) {
    for (let j = 0; j < text.length; j++) h = Math.imul(h ^ text.charCodeAt(j) ^ i, 16777619)
    v.push(((h >>> 0) % 2000) / 1000 - 1)
  }
  const norm = Math.hypot(...v) || 1
  return v.map((x) => Number((x / norm).toFixed(6)))
}
