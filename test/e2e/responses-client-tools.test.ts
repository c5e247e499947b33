/**
 * OpenAI's built-in tools that the client runs (local_shell, shell with a local environment,
 * apply_patch) on a vendor without them: the official openai SDK calls /v1/responses, the gateway
 * offers them to a Chat-Completions vendor as function tools, and a call comes back as the item
 * the client's runner executes (shell_call, apply_patch_call, local_shell_call); the client's
 * results go back to the vendor as tool messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { json, sse, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-client-tools-key-0001'
let vendor: StandIn
let gw: TestGateway
let client: OpenAI

const TOOLS: OpenAI.Responses.Tool[] = [{ type: 'shell', environment: { type: 'local' } }, { type: 'apply_patch' }, { type: 'local_shell' }]
const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }
const toolCallAnswer = (name: string, args: string) => json(200, {
  id: 'chatcmpl-tools', object: 'chat.completion', created: 1, model: 'qwen3',
  choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name, arguments: args } }] }, finish_reason: 'tool_calls' }],
  usage,
})

beforeAll(async () => {
  vendor = await startStandIn()
  gw = await startTestGateway(`
providers: { compat: { type: openai-compatible, base_url: "${vendor.url}/v1", responses: translate } }
models: { local: { targets: [{ provider: compat, model: qwen3 }] } }
routing: { retries: { max_attempts: 1 } }
teams: { t: { keys: { k: { key: "${KEY}" } } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

describe('client-run built-in tools on a Chat-Completions vendor', () => {
  it('are offered as function tools; a hosted shell is not', async () => {
    vendor.queue.push(json(200, { id: 'c', object: 'chat.completion', created: 1, model: 'qwen3', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage }))
    await client.responses.create({ model: 'local', input: 'hi', tools: [...TOOLS, { type: 'shell', environment: { type: 'container_auto' } }], store: false })
    const tools = vendor.received.at(-1)!.json!.tools as Array<{ type: string; function: { name: string; parameters: { required: string[] } } }>
    expect(tools.map((t) => [t.type, t.function.name, t.function.parameters.required])).toEqual([
      ['function', 'shell', ['commands']], ['function', 'apply_patch', ['type', 'path']], ['function', 'local_shell', ['command']],
    ])
  })

  it('a shell call comes back as a shell_call item the runner executes', async () => {
    vendor.queue.push(toolCallAnswer('shell', '{"commands":["ls -la","pwd"],"timeout_ms":5000}'))
    const r = await client.responses.create({ model: 'local', input: 'list the files', tools: TOOLS, store: false })
    expect(r.output).toEqual([{
      id: expect.stringMatching(/^sh_/), type: 'shell_call', status: 'completed', call_id: 'call_1',
      action: { commands: ['ls -la', 'pwd'], timeout_ms: 5000, max_output_length: null }, environment: { type: 'local' },
    }])
  })

  it('streamed: an apply_patch call arrives whole as an apply_patch_call item, with no function-call argument events', async () => {
    const base = { id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 1, model: 'qwen3' }
    vendor.queue.push(sse([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: 'call_p', type: 'function', function: { name: 'apply_patch', arguments: '{"type":"update_file",' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"path":"src/a.ts","diff":"@@\\n-a\\n+b\\n"}' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      { ...base, choices: [], usage },
    ]))
    const stream = client.responses.stream({ model: 'local', input: 'fix it', tools: TOOLS, store: false })
    const types: string[] = []
    stream.on('event', (e) => types.push(e.type))
    const final = await stream.finalResponse()
    expect(final.output).toEqual([{ id: expect.stringMatching(/^apc_/), type: 'apply_patch_call', status: 'completed', call_id: 'call_p', operation: { type: 'update_file', path: 'src/a.ts', diff: '@@\n-a\n+b\n' } }])
    expect(types.filter((t) => t.startsWith('response.function_call_arguments'))).toEqual([])
    expect(types).toContain('response.output_item.done')
  })

  it("the client's calls and results go back to the vendor as tool calls and tool messages", async () => {
    vendor.queue.push(json(200, { id: 'c', object: 'chat.completion', created: 1, model: 'qwen3', choices: [{ index: 0, message: { role: 'assistant', content: 'done' }, finish_reason: 'stop' }], usage }))
    const input = [
      { role: 'user', content: 'go' },
      { type: 'shell_call', call_id: 'c1', action: { commands: ['pwd'], timeout_ms: null, max_output_length: null }, status: 'completed' },
      { type: 'shell_call_output', call_id: 'c1', output: [{ stdout: '/repo\n', stderr: '', outcome: { type: 'exit', exit_code: 0 } }] },
      { type: 'apply_patch_call', call_id: 'c2', operation: { type: 'delete_file', path: 'old.txt' }, status: 'completed' },
      { type: 'apply_patch_call_output', call_id: 'c2', status: 'completed', output: 'deleted' },
      { type: 'local_shell_call', id: 'lsh_1', call_id: 'c3', action: { type: 'exec', command: ['ls'], env: {} }, status: 'completed' },
      { type: 'local_shell_call_output', id: 'c3', output: 'a.ts\n' },
    ] as unknown as OpenAI.Responses.ResponseInput
    await client.responses.create({ model: 'local', input, tools: TOOLS, store: false })
    const messages = vendor.received.at(-1)!.json!.messages as Array<Record<string, unknown>>
    expect(messages).toEqual([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'shell', arguments: '{"commands":["pwd"]}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '[{"stdout":"/repo\\n","stderr":"","outcome":"exit 0"}]' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c2', type: 'function', function: { name: 'apply_patch', arguments: '{"type":"delete_file","path":"old.txt"}' } }] },
      { role: 'tool', tool_call_id: 'c2', content: 'completed: deleted' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c3', type: 'function', function: { name: 'local_shell', arguments: '{"command":["ls"],"env":{}}' } }] },
      { role: 'tool', tool_call_id: 'c3', content: 'a.ts\n' },
    ])
  })
})
