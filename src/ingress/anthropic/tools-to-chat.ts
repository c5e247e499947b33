/**
 * Anthropic tools and tool_choice -> OpenAI function tools. Custom tools map one to one; tools
 * Anthropic runs or defines itself (web search, code execution, bash, text editor, tool search,
 * memory, computer use, MCP toolsets) have no counterpart on another vendor and are left out.
 */
import type { FunctionTool, ToolChoice } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import { fail, optionalString, requireArray, requireObject, requireString } from './fields.ts'

export function toolsToChat(value: Json | undefined): FunctionTool[] {
  if (value === undefined || value === null) return []
  const tools: FunctionTool[] = []
  requireArray(value, 'tools').forEach((raw, i) => {
    const path = `tools[${i}]`
    const tool = requireObject(raw, path)
    // Anthropic-defined tools always carry a versioned `type`; custom tools have none or 'custom'.
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      requireString(tool.type, `${path}.type`)
      return
    }
    const fn: FunctionTool['function'] = {
      name: requireString(tool.name, `${path}.name`),
      parameters: stripSchemaUri(requireObject(tool.input_schema, `${path}.input_schema`)),
    }
    const description = optionalString(tool.description, `${path}.description`)
    if (description !== undefined) fn.description = description
    if (tool.strict === true) fn.strict = true
    // defer_loading is deliberately ignored: a deferred tool is sent like any other, so a foreign
    // model can call it without Anthropic's server-side tool search.
    tools.push({ type: 'function', function: fn })
  })
  return tools
}

/** `$schema` is rejected by Gemini and by OpenAI strict mode and means nothing to a model. */
export function stripSchemaUri(schema: JsonObject): JsonObject {
  if (!('$schema' in schema)) return schema
  const { $schema: _dropped, ...rest } = schema
  return rest
}

export interface ToolChoiceResult { toolChoice?: ToolChoice; parallelToolCalls?: boolean }

export function toolChoiceToChat(value: Json | undefined): ToolChoiceResult {
  if (value === undefined || value === null) return {}
  const choice = requireObject(value, 'tool_choice')
  const type = requireString(choice.type, 'tool_choice.type')
  const result: ToolChoiceResult = {}
  switch (type) {
    case 'auto': result.toolChoice = 'auto'; break
    case 'any': result.toolChoice = 'required'; break
    case 'none': result.toolChoice = 'none'; break
    case 'tool':
      result.toolChoice = { type: 'function', function: { name: requireString(choice.name, 'tool_choice.name') } }
      break
    default: fail('tool_choice.type', `must be one of auto, any, tool, none (got '${type}')`)
  }
  if (choice.disable_parallel_tool_use === true) result.parallelToolCalls = false
  return result
}
