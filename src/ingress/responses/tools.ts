/**
 * Responses tools -> OpenAI Chat function tools, and the name map that turns a vendor's tool call
 * back into the Responses item the client expects (function_call, custom_tool_call, or a
 * function_call inside a namespace). docs/translation-responses.md lists every tool type.
 *
 * - function: one to one; `$schema` stripped (Gemini and OpenAI strict mode reject it);
 *   `defer_loading` ignored: a deferred tool is sent up front, so no tool search is needed.
 * - custom (free text or a Lark/regex grammar): a function taking {"input": string}, the grammar
 *   quoted in the description; the call comes back as a custom_tool_call with that string.
 * - namespace: its function tools are flattened as `<namespace>__<name>`.
 * - tool_search, and tools OpenAI runs itself (web_search, file_search, code_interpreter,
 *   computer_use, image_generation, mcp): dropped; no other vendor runs them for us, and deferred
 *   tools are always visible anyway.
 * - local_shell, shell (local environment) and apply_patch, which the client runs: function tools
 *   with the same fields, their calls returned as the built-in items (client-tools.ts).
 */
import type { FunctionTool, ToolChoice } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import { fail, optionalString, requireArray, requireObject, requireString } from '../anthropic/fields.ts'
import { stripSchemaUri } from '../anthropic/tools-to-chat.ts'
import { clientTool, type ClientToolKind } from './client-tools.ts'

export const NAMESPACE_SEPARATOR = '__'

/** What a chat tool name stands for in the client's Responses vocabulary. */
export type ToolOrigin =
  | { kind: 'function'; name: string; namespace?: string }
  | { kind: 'custom'; name: string }
  /** A built-in tool the client runs (client-tools.ts). */
  | { kind: 'client'; tool: ClientToolKind }

export interface ChatTools {
  tools: FunctionTool[]
  /** Chat tool name -> origin, for tools that are not plain top-level functions. */
  origins: Map<string, ToolOrigin>
}

const CUSTOM_PARAMETERS: JsonObject = {
  type: 'object',
  properties: { input: { type: 'string', description: 'The complete input for the tool, as plain text.' } },
  required: ['input'],
  additionalProperties: false,
}

function functionTool(tool: JsonObject, path: string, name: string): FunctionTool {
  const fn: FunctionTool['function'] = { name }
  const description = optionalString(tool.description, `${path}.description`)
  if (description !== undefined) fn.description = description
  if (tool.parameters !== undefined && tool.parameters !== null) fn.parameters = stripSchemaUri(requireObject(tool.parameters, `${path}.parameters`))
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict
  return { type: 'function', function: fn }
}

function customTool(tool: JsonObject, path: string): FunctionTool {
  const name = requireString(tool.name, `${path}.name`)
  const description = optionalString(tool.description, `${path}.description`) ?? ''
  let how = 'Call it with {"input": "<text>"}; the text is passed to the tool verbatim.'
  if (tool.format !== undefined && tool.format !== null) {
    const format = requireObject(tool.format, `${path}.format`)
    if (format.type === 'grammar') {
      const syntax = optionalString(format.syntax, `${path}.format.syntax`) ?? 'lark'
      const definition = requireString(format.definition, `${path}.format.definition`)
      how = `Call it with {"input": "<text>"}; the text must follow this ${syntax} grammar exactly:\n${definition}`
    }
  }
  return { type: 'function', function: { name, description: description === '' ? how : `${description}\n\n${how}`, parameters: CUSTOM_PARAMETERS } }
}

export function toolsToChat(value: Json | undefined): ChatTools {
  const out: ChatTools = { tools: [], origins: new Map() }
  if (value === undefined || value === null) return out
  requireArray(value, 'tools').forEach((raw, i) => {
    const path = `tools[${i}]`
    const tool = requireObject(raw, path)
    const type = requireString(tool.type, `${path}.type`)
    if (type === 'function') {
      out.tools.push(functionTool(tool, path, requireString(tool.name, `${path}.name`)))
    } else if (type === 'custom') {
      const t = customTool(tool, path)
      out.tools.push(t)
      out.origins.set(t.function.name, { kind: 'custom', name: t.function.name })
    } else if (type === 'namespace') {
      const ns = requireString(tool.name, `${path}.name`)
      requireArray(tool.tools ?? [], `${path}.tools`).forEach((rawInner, j) => {
        const innerPath = `${path}.tools[${j}]`
        const inner = requireObject(rawInner, innerPath)
        if (inner.type !== 'function') return // only functions can be flattened; see the doc
        const name = requireString(inner.name, `${innerPath}.name`)
        const chatName = `${ns}${NAMESPACE_SEPARATOR}${name}`
        out.tools.push(functionTool(inner, innerPath, chatName))
        out.origins.set(chatName, { kind: 'function', name, namespace: ns })
      })
    } else {
      const client = clientTool(type, tool)
      // A client tool whose name a function or custom tool already has (Codex's custom apply_patch) keeps that one.
      if (client && !out.tools.some((t) => t.function.name === client.tool.function.name)) {
        out.tools.push(client.tool)
        out.origins.set(client.tool.function.name, { kind: 'client', tool: client.kind })
      }
    }
    // Every other type is a tool OpenAI runs itself, or tool_search: dropped (see the header).
  })
  return out
}

/** The chat name a Responses call item refers to (namespaced calls are flattened). */
export function chatToolName(name: string, namespace: string | undefined, origins: ReadonlyMap<string, ToolOrigin>): string {
  if (namespace === undefined || namespace === name) return name
  const flat = `${namespace}${NAMESPACE_SEPARATOR}${name}`
  return origins.has(flat) ? flat : name
}

export function toolChoiceToChat(value: Json | undefined, tools: ChatTools): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') {
    if (value === 'auto' || value === 'none' || value === 'required') return value
    return fail('tool_choice', `must be 'auto', 'none', 'required' or an object (got '${value}')`)
  }
  const choice = requireObject(value, 'tool_choice')
  const type = requireString(choice.type, 'tool_choice.type')
  if (type === 'function' || type === 'custom') {
    const name = requireString(choice.name, 'tool_choice.name')
    // Forcing a tool that was dropped cannot be honoured; the vendor's default applies.
    return tools.tools.some((t) => t.function.name === name) ? { type: 'function', function: { name } } : undefined
  }
  // A client-run built-in tool is offered as a function of the same name.
  if (tools.origins.get(type)?.kind === 'client') return { type: 'function', function: { name: type } }
  if (type === 'allowed_tools') {
    // Chat has no allow-list; every tool stays visible and only the mode is kept.
    return choice.mode === 'required' ? 'required' : 'auto'
  }
  // A hosted tool (web_search, file_search, mcp...) was dropped: the vendor's default applies.
  return undefined
}
