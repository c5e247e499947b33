/**
 * A scripted vendor on 127.0.0.1 speaking the three wire formats agents reach: Anthropic Messages
 * (/v1/messages), OpenAI Chat Completions (/v1/chat/completions) and OpenAI Responses
 * (/v1/responses), streamed or not. It plays a tiny agent-shaped conversation:
 *
 * - the last turn is a tool result -> a final answer quoting it: `SB_FINAL: <result>`;
 * - the user asks for a tool (the text contains SB_USE_TOOL) and a known tool is offered -> one
 *   tool call (Claude Code's Bash, Codex's exec_command/shell, or a test's get_secret);
 * - anything else -> the final answer `SB_FINAL: hello`.
 *
 * With thinking on (Anthropic) or encrypted reasoning asked for (Responses) it also returns signed
 * reasoning, so tests can check the signature comes back byte for byte on the next turn.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface VendorRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
  json: Record<string, unknown> | undefined
}

export interface ScriptedVendor {
  url: string
  received: VendorRequest[]
  close(): Promise<void>
}

export const THINKING_SIGNATURE = 'sig-Eq8BCkYIBRgCKkD+/scripted==' // opaque, with characters JSON escapes differently nowhere
export const ENCRYPTED_REASONING = 'gAAAAABscripted-encrypted-reasoning_0123456789-_=='
export const TOOL_RESULT_MARK = 'SB_TOOL_RESULT_42'
/** Prints the mark only when a shell really runs it: the literal command does not contain it. */
export const TOOL_COMMAND = 'echo SB_TOOL_RESULT_$((6*7))'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

interface ToolCallPlan { name: string; input: Obj }

/** The tool to call, from the names offered, with arguments that make the tool print the mark. */
export function pickTool(names: string[]): ToolCallPlan | undefined {
  if (names.includes('get_secret')) return { name: 'get_secret', input: {} }
  if (names.includes('apply_patch')) return { name: 'apply_patch', input: { input: '*** Begin Patch\n*** End Patch' } }
  if (names.includes('Bash')) return { name: 'Bash', input: { command: TOOL_COMMAND, description: 'Print the mark' } }
  if (names.includes('exec_command')) return { name: 'exec_command', input: { cmd: TOOL_COMMAND } }
  if (names.includes('shell')) return { name: 'shell', input: { command: ['bash', '-lc', TOOL_COMMAND] } }
  return undefined
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  return arr(content).map((b) => {
    if (!isObj(b)) return ''
    if (typeof b.text === 'string') return b.text
    if (b.type === 'tool_result') return textOf(b.content)
    return ''
  }).join('\n')
}

/** The text of the turn the model answers: every message since the last assistant turn (agents add system turns). */
function latestText(list: unknown[]): string {
  const lastAssistant = list.findLastIndex((m) => isObj(m) && (m.role === 'assistant' || m.type === 'function_call' || m.type === 'custom_tool_call'))
  return list.slice(lastAssistant + 1).map((m) => (isObj(m) ? textOf(m.content) : '')).join('\n')
}

interface Turn { toolResult: string | undefined; userText: string; tools: string[]; thinking: boolean; encrypted: boolean }

function anthropicTurn(b: Obj): Turn {
  const last = arr(b.messages).at(-1)
  const blocks = isObj(last) ? arr(last.content) : []
  const result = blocks.find((x) => isObj(x) && x.type === 'tool_result')
  const thinking = isObj(b.thinking) && (b.thinking.type === 'enabled' || b.thinking.type === 'adaptive')
  return {
    toolResult: isObj(result) ? textOf(result.content) : undefined,
    userText: latestText(arr(b.messages)),
    tools: arr(b.tools).map((t) => (isObj(t) && typeof t.name === 'string' ? t.name : '')),
    thinking,
    encrypted: false,
  }
}

function chatTurn(b: Obj): Turn {
  const last = arr(b.messages).at(-1)
  return {
    toolResult: isObj(last) && last.role === 'tool' ? textOf(last.content) : undefined,
    userText: latestText(arr(b.messages)),
    tools: arr(b.tools).map((t) => (isObj(t) && isObj(t.function) && typeof t.function.name === 'string' ? t.function.name : '')),
    thinking: false,
    encrypted: false,
  }
}

function responsesTurn(b: Obj): Turn {
  const input = typeof b.input === 'string' ? [{ role: 'user', content: b.input }] : arr(b.input)
  const last = input.at(-1)
  const isOutput = isObj(last) && (last.type === 'function_call_output' || last.type === 'custom_tool_call_output')
  return {
    toolResult: isOutput ? textOf(last.output) : undefined,
    userText: latestText(input),
    tools: arr(b.tools).map((t) => (isObj(t) && typeof t.name === 'string' ? t.name : '')),
    thinking: false,
    encrypted: arr(b.include).includes('reasoning.encrypted_content'),
  }
}

type Answer = { kind: 'text'; text: string } | { kind: 'tool'; call: ToolCallPlan; id: string }

let callCounter = 0
function decide(turn: Turn): Answer {
  if (turn.toolResult !== undefined) return { kind: 'text', text: `SB_FINAL: ${turn.toolResult.trim().slice(0, 200)}` }
  const call = turn.userText.includes('SB_USE_TOOL') ? pickTool(turn.tools) : undefined
  if (call) return { kind: 'tool', call, id: `call_scripted_${++callCounter}` }
  return { kind: 'text', text: 'SB_FINAL: hello' }
}

const USAGE = { input: 25, output: 7 }

function sseWrite(res: ServerResponse, events: Array<{ event?: string; data: unknown }>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`)
  res.end()
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function anthropic(res: ServerResponse, b: Obj): void {
  const turn = anthropicTurn(b)
  const answer = decide(turn)
  const content: Obj[] = []
  if (turn.thinking) content.push({ type: 'thinking', thinking: 'Planning the reply.', signature: THINKING_SIGNATURE })
  if (answer.kind === 'text') content.push({ type: 'text', text: answer.text })
  else content.push({ type: 'text', text: 'Running the tool.' }, { type: 'tool_use', id: `toolu_${answer.id}`, name: answer.call.name, input: answer.call.input })
  const stop = answer.kind === 'tool' ? 'tool_use' : 'end_turn'
  const message = { id: 'msg_scripted', type: 'message', role: 'assistant', model: String(b.model), content, stop_reason: stop, stop_sequence: null, usage: { input_tokens: USAGE.input, output_tokens: USAGE.output } }
  if (b.stream !== true) return sendJson(res, 200, message)
  const ev = (data: Obj) => ({ event: String(data.type), data })
  const events = [ev({ type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: USAGE.input, output_tokens: 1 } } })]
  content.forEach((block, index) => {
    if (block.type === 'thinking') {
      events.push(ev({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }))
      events.push(ev({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: block.thinking } }))
      events.push(ev({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } }))
    } else if (block.type === 'text') {
      events.push(ev({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }))
      events.push(ev({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } }))
    } else {
      events.push(ev({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }))
      events.push(ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } }))
    }
    events.push(ev({ type: 'content_block_stop', index }))
  })
  events.push(ev({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: USAGE.output } }))
  events.push(ev({ type: 'message_stop' }))
  sseWrite(res, events)
}

function chat(res: ServerResponse, b: Obj): void {
  const answer = decide(chatTurn(b))
  const model = String(b.model)
  const usage = { prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output }
  const toolCalls = answer.kind === 'tool' ? [{ id: answer.id, type: 'function', function: { name: answer.call.name, arguments: JSON.stringify(answer.call.input) } }] : undefined
  const finish = answer.kind === 'tool' ? 'tool_calls' : 'stop'
  if (b.stream !== true) {
    return sendJson(res, 200, {
      id: 'chatcmpl-scripted', object: 'chat.completion', created: 1_700_000_000, model,
      choices: [{ index: 0, message: { role: 'assistant', content: answer.kind === 'text' ? answer.text : null, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, logprobs: null, finish_reason: finish }],
      usage,
    })
  }
  const base = { id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1_700_000_000, model }
  const chunk = (delta: Obj, finish_reason: string | null = null) => ({ data: { ...base, choices: [{ index: 0, delta, finish_reason }] } })
  const events: Array<{ data: unknown }> = [chunk({ role: 'assistant', content: '' })]
  if (answer.kind === 'text') {
    for (const piece of answer.text.split(/(?<= )/)) events.push(chunk({ content: piece }))
  } else {
    const args = JSON.stringify(answer.call.input)
    events.push(chunk({ tool_calls: [{ index: 0, id: answer.id, type: 'function', function: { name: answer.call.name, arguments: '' } }] }))
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(0, 5) } }] }))
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(5) } }] }))
  }
  events.push(chunk({}, finish))
  const so = b.stream_options
  if (isObj(so) && so.include_usage === true) events.push({ data: { ...base, choices: [], usage } })
  events.push({ data: '[DONE]' })
  sseWrite(res, events)
}

function responses(res: ServerResponse, b: Obj): void {
  const turn = responsesTurn(b)
  const answer = decide(turn)
  const id = `resp_0123456789abcdef${String(++callCounter).padStart(16, '0')}`
  const output: Obj[] = []
  if (turn.encrypted) output.push({ id: `rs_${id.slice(5)}`, type: 'reasoning', summary: [], encrypted_content: ENCRYPTED_REASONING })
  if (answer.kind === 'text') {
    output.push({ id: `msg_${id.slice(5)}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: answer.text }] })
  } else {
    output.push({ id: `fc_${id.slice(5)}`, type: 'function_call', status: 'completed', arguments: JSON.stringify(answer.call.input), call_id: answer.id, name: answer.call.name })
  }
  const usage = { input_tokens: USAGE.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: USAGE.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: USAGE.input + USAGE.output }
  const response = { id, object: 'response', created_at: 1_700_000_000, status: 'completed', error: null, incomplete_details: null, model: String(b.model), output, parallel_tool_calls: true, tool_choice: 'auto', tools: [], usage, store: b.store !== false }
  if (b.stream !== true) return sendJson(res, 200, response)
  let seq = 0
  const ev = (data: Obj) => ({ event: String(data.type), data: { ...data, sequence_number: seq++ } })
  const inProgress = { ...response, status: 'in_progress', output: [], usage: null }
  const events = [ev({ type: 'response.created', response: inProgress }), ev({ type: 'response.in_progress', response: inProgress })]
  output.forEach((item, output_index) => {
    if (item.type === 'message') {
      const text = String((item.content as Obj[])[0]?.text)
      events.push(ev({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', content: [] } }))
      events.push(ev({ type: 'response.content_part.added', item_id: item.id, output_index, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } }))
      events.push(ev({ type: 'response.output_text.delta', item_id: item.id, output_index, content_index: 0, delta: text, logprobs: [] }))
      events.push(ev({ type: 'response.output_text.done', item_id: item.id, output_index, content_index: 0, text, logprobs: [] }))
      events.push(ev({ type: 'response.content_part.done', item_id: item.id, output_index, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text } }))
    } else if (item.type === 'function_call') {
      events.push(ev({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', arguments: '' } }))
      events.push(ev({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index, delta: item.arguments }))
      events.push(ev({ type: 'response.function_call_arguments.done', item_id: item.id, output_index, arguments: item.arguments }))
    } else {
      events.push(ev({ type: 'response.output_item.added', output_index, item }))
    }
    events.push(ev({ type: 'response.output_item.done', output_index, item }))
  })
  events.push(ev({ type: 'response.completed', response }))
  sseWrite(res, events)
}

export async function startScriptedVendor(): Promise<ScriptedVendor> {
  const received: VendorRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let json: Obj | undefined
      try { json = JSON.parse(body) as Obj } catch { json = undefined }
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json })
      const path = (req.url ?? '').split('?')[0] ?? ''
      if (req.method === 'HEAD') return res.writeHead(200).end()
      if (req.method === 'GET' || req.method === 'DELETE') return sendJson(res, 404, { error: { message: `No such object: ${path}`, type: 'invalid_request_error' } })
      if (!json) return sendJson(res, 400, { error: { message: 'expected a JSON body', type: 'invalid_request_error' } })
      if (path.endsWith('/messages/count_tokens')) return sendJson(res, 200, { input_tokens: USAGE.input })
      if (path.endsWith('/messages')) return anthropic(res, json)
      if (path.endsWith('/chat/completions')) return chat(res, json)
      if (path.endsWith('/responses')) return responses(res, json)
      sendJson(res, 404, { error: { message: `no such path ${path}`, type: 'invalid_request_error' } })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
