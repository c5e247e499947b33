/**
 * OpenAI's built-in tools that the client runs, for vendors that know only function tools:
 * `local_shell` (Codex's first shell), `shell` with a local environment, and `apply_patch`. The
 * model on OpenAI emits their own call items and the client (the Agents SDK's shellTool and
 * applyPatchTool, Codex) executes them; elsewhere they are offered as function tools with the
 * same fields, and a call comes back as the item the client's runner is waiting for. A `shell`
 * tool with a hosted container environment runs at OpenAI and stays dropped, like other hosted tools.
 */
import type { FunctionTool, ToolCall } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import { fail, optionalString, requireArray, requireObject, requireString } from '../anthropic/fields.ts'

export type ClientToolKind = 'local_shell' | 'shell' | 'apply_patch'

const isKind = (t: string): t is ClientToolKind => t === 'local_shell' || t === 'shell' || t === 'apply_patch'

const FUNCTIONS: Record<ClientToolKind, FunctionTool['function']> = {
  local_shell: {
    name: 'local_shell',
    description: "Runs one command on the user's machine and returns its combined output.",
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'array', items: { type: 'string' }, description: 'The command and its arguments, e.g. ["bash", "-lc", "ls -la"].' },
        working_directory: { type: 'string' },
        timeout_ms: { type: 'integer' },
        env: { type: 'object', additionalProperties: { type: 'string' } },
      },
      required: ['command'],
    },
  },
  shell: {
    name: 'shell',
    description: "Runs shell commands on the user's machine, one after another, and returns each command's stdout, stderr and exit code.",
    parameters: {
      type: 'object',
      properties: {
        commands: { type: 'array', items: { type: 'string' }, description: 'Shell command lines, run in order.' },
        timeout_ms: { type: 'integer' },
        max_output_length: { type: 'integer' },
      },
      required: ['commands'],
    },
  },
  apply_patch: {
    name: 'apply_patch',
    description: 'Creates, updates or deletes one file. create_file: diff holds the whole new file as a V4A diff (each line prefixed with "+"). update_file: diff holds a V4A diff of the change. delete_file: no diff.',
    parameters: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['create_file', 'update_file', 'delete_file'] },
        path: { type: 'string' },
        diff: { type: 'string' },
      },
      required: ['type', 'path'],
    },
  },
}

/** The function tool standing for a client-run built-in tool, or undefined when it is not one (or runs at OpenAI). */
export function clientTool(type: string, tool: JsonObject): { kind: ClientToolKind; tool: FunctionTool } | undefined {
  if (!isKind(type)) return undefined
  if (type === 'shell') {
    const env = tool.environment
    // Only a local environment is the client's to run; a container runs at OpenAI.
    if (env !== undefined && env !== null && !(typeof env === 'object' && !Array.isArray(env) && env.type === 'local')) return undefined
  }
  return { kind: type, tool: { type: 'function', function: FUNCTIONS[type] } }
}

function parsedArgs(args: string): JsonObject {
  try {
    const v: unknown = JSON.parse(args)
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as JsonObject
  } catch {
    // a model that sent broken JSON: the client gets empty fields, and its own error for them
  }
  return {}
}

const strings = (v: Json | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [])
const int = (v: Json | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null)

/** A vendor's call of one of these functions, as the Responses item the client runs. */
export function clientCallItem(kind: ClientToolKind, id: string, callId: string, args: string, status: 'in_progress' | 'completed'): JsonObject {
  const a = status === 'completed' ? parsedArgs(args) : {}
  switch (kind) {
    case 'local_shell': {
      const env: JsonObject = {}
      if (typeof a.env === 'object' && a.env !== null && !Array.isArray(a.env)) for (const [k, v] of Object.entries(a.env)) if (typeof v === 'string') env[k] = v
      const action: JsonObject = { type: 'exec', command: strings(a.command), env }
      if (typeof a.working_directory === 'string') action.working_directory = a.working_directory
      if (int(a.timeout_ms) !== null) action.timeout_ms = int(a.timeout_ms)
      return { id, type: 'local_shell_call', status, call_id: callId, action }
    }
    case 'shell':
      return { id, type: 'shell_call', status, call_id: callId, action: { commands: strings(a.commands), timeout_ms: int(a.timeout_ms), max_output_length: int(a.max_output_length) }, environment: { type: 'local' } }
    case 'apply_patch': {
      const op = a.type === 'create_file' || a.type === 'update_file' || a.type === 'delete_file' ? a.type : 'update_file'
      const operation: JsonObject = { type: op, path: typeof a.path === 'string' ? a.path : '' }
      if (op !== 'delete_file') operation.diff = typeof a.diff === 'string' ? a.diff : ''
      return { id, type: 'apply_patch_call', status, call_id: callId, operation }
    }
  }
}

/** An earlier call item from the client's history, as the assistant's function call. */
export function clientCallToChat(type: 'local_shell_call' | 'shell_call' | 'apply_patch_call', item: JsonObject, path: string): ToolCall {
  const callId = requireString(item.call_id, `${path}.call_id`)
  const call = (name: ClientToolKind, args: JsonObject): ToolCall => ({ id: callId, type: 'function', function: { name, arguments: JSON.stringify(args) } })
  if (type === 'apply_patch_call') return call('apply_patch', requireObject(item.operation, `${path}.operation`))
  const action = requireObject(item.action, `${path}.action`)
  return type === 'local_shell_call'
    ? call('local_shell', actionArgs(action, 'command', ['working_directory', 'timeout_ms', 'env'], path))
    : call('shell', actionArgs(action, 'commands', ['timeout_ms', 'max_output_length'], path))
}

/** A shell action as function arguments: its command list, and the optional fields it sets. */
function actionArgs(action: JsonObject, list: string, optional: readonly string[], path: string): JsonObject {
  const args: JsonObject = { [list]: requireArray(action[list], `${path}.action.${list}`) }
  for (const k of optional) if (action[k] !== undefined && action[k] !== null) args[k] = action[k]!
  return args
}

/** The client's result of such a call, as the tool message's text and the call it answers. */
export function clientOutputToChat(type: 'local_shell_call_output' | 'shell_call_output' | 'apply_patch_call_output', item: JsonObject, path: string): { callId: string; text: string } {
  if (type === 'local_shell_call_output') {
    // The call's id travels as `call_id` in newer items and as `id` in the original shape.
    const callId = optionalString(item.call_id, `${path}.call_id`) ?? requireString(item.id, `${path}.id`)
    return { callId, text: requireString(item.output, `${path}.output`) }
  }
  const callId = requireString(item.call_id, `${path}.call_id`)
  if (type === 'apply_patch_call_output') {
    const status = requireString(item.status, `${path}.status`)
    const output = optionalString(item.output, `${path}.output`)
    return { callId, text: output ? `${status}: ${output}` : status }
  }
  const results = requireArray(item.output, `${path}.output`).map((raw, i) => {
    const r = requireObject(raw, `${path}.output[${i}]`)
    const outcome = requireObject(r.outcome, `${path}.output[${i}].outcome`)
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', outcome: outcome.type === 'timeout' ? 'timeout' : `exit ${typeof outcome.exit_code === 'number' ? outcome.exit_code : '?'}` }
  })
  if (results.length === 0) fail(`${path}.output`, 'must hold one result per command')
  return { callId, text: JSON.stringify(results) }
}
