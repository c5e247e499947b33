/**
 * The Responses API on vendors without it: the official openai SDK calls /v1/responses on the
 * gateway, which serves it through an Anthropic target and a Chat-Completions-only
 * OpenAI-compatible target (a scripted vendor on loopback). Asserts what the vendor received and
 * what the SDK accumulated, for plain answers, streams, tool round trips, reasoning signatures,
 * custom and namespaced tools, and previous_response_id over the gateway's own store.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startScriptedVendor, THINKING_SIGNATURE, type ScriptedVendor } from '../agents/scripted-vendor.ts'
import { json, sse, startStandIn, type StandIn } from '../helpers/stand-in.ts'

const KEY_A = 'sk-sb-responses-team-a'
const KEY_B = 'sk-sb-responses-team-b'

let vendor: ScriptedVendor
let gemini: StandIn
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  vendor = await startScriptedVendor()
  gemini = await startStandIn(json(500, {}))
  gw = await startTestGateway(`
logging: { level: silent }
store: { url: "sqlite::memory:" }
providers:
  anthropic: { type: anthropic, base_url: "${vendor.url}", keys: ["sk-ant-vendor"] }
  compat: { type: openai-compatible, base_url: "${vendor.url}/v1", responses: translate }
  gemini: { type: gemini, base_url: "${gemini.url}", keys: ["gm-vendor-key"] }
models:
  claude: { targets: [{ provider: anthropic, model: claude-sonnet-4-5 }] }
  claude-long: { targets: [{ provider: anthropic, model: claude-sonnet-4-5 }], default_max_output_tokens: 32000 }
  local: { targets: [{ provider: compat, model: qwen3 }] }
  gem: { targets: [{ provider: gemini, model: gemini-2.5-flash }] }
routing: { retries: { max_attempts: 1 } }
teams:
  a: { keys: { k: { key: "${KEY_A}" } } }
  b: { keys: { k: { key: "${KEY_B}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_A, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
  await gemini?.close()
})

const lastSeen = () => vendor.received.at(-1)!
/** Output items go back as input items, as agents do (the SDK types the two lists apart). */
const asInput = (items: unknown[]): OpenAI.Responses.ResponseInput => items as OpenAI.Responses.ResponseInput

const SECRET_TOOL = {
  type: 'function' as const,
  name: 'get_secret',
  description: 'Returns the secret word.',
  strict: true,
  parameters: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {}, required: [], additionalProperties: false },
}

describe('Responses API on an Anthropic target', () => {
  it('non-streamed: instructions and input translated, a Response object back', async () => {
    const { data, response } = await client.responses.create({ model: 'claude', instructions: 'Be brief.', input: 'hi', max_output_tokens: 100, store: false }).withResponse()
    expect(data.output_text).toBe('SB_FINAL: hello')
    expect(data.id).toMatch(/^resp_sb[0-9a-f]{32}$/)
    expect(data.object).toBe('response')
    expect(data.status).toBe('completed')
    expect(data.model).toBe('claude')
    expect(data.usage).toEqual({ input_tokens: 25, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 32 })
    expect(data.output).toEqual([{ id: `msg_${data.id.slice(5)}_0`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'SB_FINAL: hello' }] }])
    expect(response.headers.get('x-switchboard-provider')).toBe('anthropic')
    const seen = lastSeen()
    expect(seen.path).toBe('/v1/messages')
    expect(seen.headers['x-api-key']).toBe('sk-ant-vendor')
    expect(seen.json).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] })
  })

  it("without max_output_tokens (as Codex sends), Anthropic gets the model's default_max_output_tokens, else routing's", async () => {
    await client.responses.create({ model: 'claude-long', input: 'write a long patch', store: false })
    expect(lastSeen().json?.max_tokens).toBe(32000)
    await client.responses.create({ model: 'claude', input: 'hi', store: false })
    expect(lastSeen().json?.max_tokens).toBe(4096)
  })

  it('prompt_cache_key (Codex sends one each turn) places cache breakpoints: last tool, system prompt, last input item', async () => {
    await client.responses.create({
      model: 'claude', instructions: 'You are Codex.', prompt_cache_key: 'codex-session-7', store: false,
      tools: [SECRET_TOOL],
      input: asInput([{ role: 'user', content: 'find the secret' }, { type: 'function_call', call_id: 'call_1', name: 'get_secret', arguments: '{}' }, { type: 'function_call_output', call_id: 'call_1', output: 'swordfish' }]),
    })
    const body = lastSeen().json as { system: unknown; tools: Array<Record<string, unknown>>; messages: Array<{ content: Array<Record<string, unknown>> }> }
    expect(body.system).toEqual([{ type: 'text', text: 'You are Codex.', cache_control: { type: 'ephemeral' } }])
    expect(body.tools.at(-1)!.cache_control).toEqual({ type: 'ephemeral' })
    expect(body.messages.at(-1)!.content.at(-1)).toMatchObject({ type: 'tool_result', tool_use_id: 'call_1', cache_control: { type: 'ephemeral' } })
    expect(JSON.stringify(body)).not.toContain('prompt_cache_key')
    // Without the key nothing is marked: a cache write costs more than plain input.
    await client.responses.create({ model: 'claude', instructions: 'You are Codex.', input: 'hi', store: false })
    expect(JSON.stringify(lastSeen().json)).not.toContain('cache_control')
  })

  it('streamed: the SDK accumulates the synthesized events; Accept: application/json does not turn streaming off', async () => {
    const stream = client.responses.stream({ model: 'claude', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }], store: false }, { headers: { accept: 'application/json' } })
    const types: string[] = []
    const deltas: string[] = []
    stream.on('event', (e) => types.push(e.type))
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta))
    const final = await stream.finalResponse()
    expect(final.output_text).toBe('SB_FINAL: hello')
    expect(final.status).toBe('completed')
    expect(final.usage?.total_tokens).toBe(32)
    expect(deltas.join('')).toBe('SB_FINAL: hello')
    expect(types).toEqual([
      'response.created', 'response.in_progress',
      'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.completed',
    ])
    expect(lastSeen().json?.stream).toBe(true)
  })

  it('sequence numbers count from 0 without gaps and every item event names its item', async () => {
    const res = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude', input: 'SB_USE_TOOL please', tools: [SECRET_TOOL], stream: true, store: false }) })
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const events = (await res.text()).split('\n\n').filter(Boolean).map((block) => {
      const [eventLine, dataLine] = block.split('\n')
      const data = JSON.parse(dataLine!.slice(6)) as { type: string; sequence_number: number; item_id?: string; item?: { id: string } }
      expect(eventLine).toBe(`event: ${data.type}`)
      return data
    })
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => e.item!.id)
    for (const e of events) if (e.item_id) expect(added).toContain(e.item_id)
  })

  it('tool round trip: strict function tool without $schema, call ids kept, the result reaches the vendor', async () => {
    const first = await client.responses.stream({ model: 'claude', input: 'SB_USE_TOOL: what is the secret?', tools: [SECRET_TOOL], store: false }).finalResponse()
    const sentTools = lastSeen().json?.tools
    expect(sentTools).toEqual([{ name: 'get_secret', description: 'Returns the secret word.', input_schema: { type: 'object', properties: {}, required: [], additionalProperties: false } }])
    const call = first.output.find((o) => o.type === 'function_call')
    expect(call).toMatchObject({ type: 'function_call', name: 'get_secret', arguments: '{}', status: 'completed' })
    expect(call?.type === 'function_call' && call.call_id).toMatch(/^toolu_call_scripted_/)
    expect(first.output[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'Running the tool.' }] })

    const callId = call?.type === 'function_call' ? call.call_id : ''
    const second = await client.responses.create({
      model: 'claude', tools: [SECRET_TOOL], store: false,
      input: asInput([{ role: 'user', content: 'SB_USE_TOOL: what is the secret?' }, ...first.output, { type: 'function_call_output', call_id: callId, output: 'SB_TOOL_RESULT_42' }]),
    })
    expect(second.output_text).toBe('SB_FINAL: SB_TOOL_RESULT_42')
    const messages = lastSeen().json?.messages
    expect(messages).toEqual([
      { role: 'user', content: 'SB_USE_TOOL: what is the secret?' },
      { role: 'assistant', content: [{ type: 'text', text: 'Running the tool.' }, { type: 'tool_use', id: callId, name: 'get_secret', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: callId, content: 'SB_TOOL_RESULT_42' }] },
    ])
  })

  it('reasoning: effort becomes thinking, the signature rides in encrypted_content and returns byte for byte', async () => {
    const first = await client.responses.stream({ model: 'claude', input: 'SB_USE_TOOL now', tools: [SECRET_TOOL], reasoning: { effort: 'high' }, max_output_tokens: 20000, include: ['reasoning.encrypted_content'], store: false }).finalResponse()
    expect((lastSeen().json?.thinking as { type: string }).type).toBe('enabled')
    const reasoning = first.output[0]
    expect(reasoning?.type).toBe('reasoning')
    if (reasoning?.type !== 'reasoning') throw new Error('no reasoning item')
    expect(reasoning.summary).toEqual([{ type: 'summary_text', text: 'Planning the reply.' }])
    expect(reasoning.encrypted_content).toMatch(/^sbr1\./)
    const call = first.output.find((o) => o.type === 'function_call')
    const callId = call?.type === 'function_call' ? call.call_id : ''
    await client.responses.create({
      model: 'claude', tools: [SECRET_TOOL], reasoning: { effort: 'high' }, max_output_tokens: 20000, store: false,
      input: asInput([{ role: 'user', content: 'SB_USE_TOOL now' }, ...first.output, { type: 'function_call_output', call_id: callId, output: 'ok' }]),
    })
    const assistant = (lastSeen().json?.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>)[1]!
    expect(assistant.content[0]).toEqual({ type: 'thinking', thinking: 'Planning the reply.', signature: THINKING_SIGNATURE })
    expect(lastSeen().body).toContain(JSON.stringify(THINKING_SIGNATURE))
  })

  it('custom (grammar) tools become a function taking {input} and come back as custom_tool_call', async () => {
    const applyPatch = { type: 'custom' as const, name: 'apply_patch', description: 'Edit files.', format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: "*** Begin Patch" /(.|\\n)*/ "*** End Patch"' } }
    const first = await client.responses.create({ model: 'claude', input: 'SB_USE_TOOL patch it', tools: [applyPatch], store: false })
    const tool = (lastSeen().json?.tools as Array<Record<string, unknown>>)[0]
    expect(tool).toEqual({
      name: 'apply_patch',
      description: 'Edit files.\n\nCall it with {"input": "<text>"}; the text must follow this lark grammar exactly:\nstart: "*** Begin Patch" /(.|\\n)*/ "*** End Patch"',
      input_schema: { type: 'object', properties: { input: { type: 'string', description: 'The complete input for the tool, as plain text.' } }, required: ['input'], additionalProperties: false },
    })
    const call = first.output.find((o) => o.type === 'custom_tool_call')
    expect(call).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' })

    const streamed = await client.responses.stream({ model: 'claude', input: 'SB_USE_TOOL patch it', tools: [applyPatch], store: false }).finalResponse()
    expect(streamed.output.find((o) => o.type === 'custom_tool_call')).toMatchObject({ name: 'apply_patch', input: '*** Begin Patch\n*** End Patch', status: 'completed' })

    const callId = call?.type === 'custom_tool_call' ? call.call_id : ''
    await client.responses.create({
      model: 'claude', tools: [applyPatch], store: false,
      input: asInput([{ role: 'user', content: 'SB_USE_TOOL patch it' }, ...first.output, { type: 'custom_tool_call_output', call_id: callId, output: 'Done!' }]),
    })
    const messages = lastSeen().json?.messages as Array<{ content: unknown }>
    expect(messages[1]?.content).toEqual([{ type: 'text', text: 'Running the tool.' }, { type: 'tool_use', id: callId, name: 'apply_patch', input: { input: '*** Begin Patch\n*** End Patch' } }])
    expect(messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: callId, content: 'Done!' }])
  })

  it("a recorded Codex request: developer messages, namespaces flattened, hosted tools dropped, OpenAI's encrypted reasoning dropped", async () => {
    const recorded = JSON.parse(readFileSync(new URL('../unit/ingress-responses/fixtures/codex-0.169-request.json', import.meta.url), 'utf8')) as { body: Record<string, unknown> }
    const body = { ...recorded.body, model: 'claude' } as Record<string, unknown>
    ;(body.input as unknown[]).push({ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAAABopenai-only' })
    const res = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(body) })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('event: response.completed')
    const seen = lastSeen().json!
    const names = (seen.tools as Array<{ name: string }>).map((t) => t.name)
    expect(names).toEqual(['exec_command', 'write_stdin', 'request_user_input', 'view_image', 'multi_agent_v1__close_agent', 'multi_agent_v1__resume_agent', 'get_goal', 'create_goal', 'update_goal'])
    expect(JSON.stringify(seen.system)).toContain('You are a coding agent running in the Codex CLI')
    const msgs = seen.messages as Array<{ role: string }>
    expect(msgs.map((m) => m.role)).toEqual(['user'])
    expect(lastSeen().body).not.toContain('gAAAAABopenai-only')
  })
})

describe('Responses API on a Chat-Completions-only OpenAI-compatible target', () => {
  it('translates to /chat/completions and drops reasoning_effort for a model not marked as reasoning (and prompt_cache_key)', async () => {
    const r = await client.responses.create({ model: 'local', input: 'hi', prompt_cache_key: 'k1', reasoning: { effort: 'low' }, text: { format: { type: 'json_schema', name: 'out', schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: { type: 'string' } } }, strict: true } }, store: false })
    expect(r.output_text).toBe('SB_FINAL: hello')
    const seen = lastSeen()
    expect(seen.path).toBe('/v1/chat/completions')
    expect(seen.json).toEqual({
      model: 'qwen3', messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true } },
    })
  })

  it('streams a tool call as function_call events', async () => {
    const stream = client.responses.stream({ model: 'local', input: 'SB_USE_TOOL', tools: [SECRET_TOOL], store: false })
    const argDeltas: string[] = []
    stream.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta))
    const final = await stream.finalResponse()
    expect(argDeltas.join('')).toBe('{}')
    expect(final.output).toEqual([{ id: `fc_${final.id.slice(5)}_0`, type: 'function_call', status: 'completed', arguments: '{}', call_id: expect.stringMatching(/^call_scripted_/), name: 'get_secret', parsed_arguments: {} }])
    expect(lastSeen().json?.stream_options).toEqual({ include_usage: true })
  })
})

describe('store and previous_response_id on a translated target', () => {
  it('continues a conversation by id, serves GET and DELETE, scoped to the team', async () => {
    const first = await client.responses.create({ model: 'claude', input: 'SB_USE_TOOL first', tools: [SECRET_TOOL] })
    const call = first.output.find((o) => o.type === 'function_call')
    const callId = call?.type === 'function_call' ? call.call_id : ''
    const second = await client.responses.create({ model: 'claude', previous_response_id: first.id, tools: [SECRET_TOOL], input: [{ type: 'function_call_output', call_id: callId, output: 'SB_TOOL_RESULT_42' }] })
    expect(second.output_text).toBe('SB_FINAL: SB_TOOL_RESULT_42')
    expect(second.previous_response_id).toBe(first.id)
    expect(lastSeen().json?.messages).toEqual([
      { role: 'user', content: 'SB_USE_TOOL first' },
      { role: 'assistant', content: [{ type: 'text', text: 'Running the tool.' }, { type: 'tool_use', id: callId, name: 'get_secret', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: callId, content: 'SB_TOOL_RESULT_42' }] },
    ])
    // A third turn walks the whole chain.
    const third = await client.responses.stream({ model: 'claude', previous_response_id: second.id, input: 'thanks' }).finalResponse()
    expect(third.output_text).toBe('SB_FINAL: hello')
    expect((lastSeen().json?.messages as unknown[]).length).toBe(5)

    const got = await client.responses.retrieve(third.id)
    expect(got).toMatchObject({ id: third.id, status: 'completed', previous_response_id: second.id })
    // The SDK adds `parsed` to output_text parts it returns; the stored object is what the gateway sent.
    expect(JSON.stringify(got.output)).toBe(JSON.stringify(third.output).replaceAll(',"parsed":null', ''))
    const items = await client.responses.inputItems.list(second.id)
    expect(items.data).toEqual([expect.objectContaining({ type: 'function_call_output', call_id: callId, output: 'SB_TOOL_RESULT_42' })])

    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_B, maxRetries: 0 })
    await expect(other.responses.retrieve(third.id)).rejects.toMatchObject({ status: 404 })
    await expect(other.responses.create({ model: 'claude', previous_response_id: third.id, input: 'x' })).rejects.toMatchObject({ status: 404 })
    await expect(other.responses.delete(third.id)).rejects.toMatchObject({ status: 404 })

    await client.responses.delete(third.id)
    await expect(client.responses.retrieve(third.id)).rejects.toMatchObject({ status: 404 })
  })

  it('store: false keeps nothing; an OpenAI id cannot be continued on another vendor', async () => {
    const r = await client.responses.create({ model: 'claude', input: 'hi', store: false })
    await new Promise((resolve) => setTimeout(resolve, 20))
    await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 })
    await expect(client.responses.create({ model: 'claude', previous_response_id: r.id, input: 'again' })).rejects.toMatchObject({ status: 404 })
    const err = await client.responses.create({ model: 'claude', previous_response_id: 'resp_0123abcd', input: 'again' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 400, param: 'previous_response_id' })
  })
})

describe('Responses API on a Gemini target', () => {
  it('a function call streams back as function_call events; the tool schema reaches Gemini without $schema', async () => {
    gemini.queue.push(sse([
      { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'get_secret', args: {} } }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 3, totalTokenCount: 12 } },
    ], { done: false }))
    const final = await client.responses.stream({ model: 'gem', input: 'SB_USE_TOOL', tools: [SECRET_TOOL], store: false }).finalResponse()
    expect(final.output).toEqual([expect.objectContaining({ type: 'function_call', name: 'get_secret', arguments: '{}', status: 'completed' })])
    expect(final.usage).toMatchObject({ input_tokens: 9, output_tokens: 3, total_tokens: 12 })
    const seen = gemini.received.at(-1)!
    expect(seen.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse')
    expect(seen.body).not.toContain('$schema')
    expect(seen.json?.contents).toEqual([{ role: 'user', parts: [{ text: 'SB_USE_TOOL' }] }])

    const callId = final.output[0]?.type === 'function_call' ? final.output[0].call_id : ''
    gemini.queue.push(json(200, { candidates: [{ content: { role: 'model', parts: [{ text: 'It is SB_TOOL_RESULT_42.' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 6, totalTokenCount: 26 } }))
    const second = await client.responses.create({ model: 'gem', tools: [SECRET_TOOL], store: false, input: asInput([{ role: 'user', content: 'SB_USE_TOOL' }, ...final.output, { type: 'function_call_output', call_id: callId, output: 'SB_TOOL_RESULT_42' }]) })
    expect(second.output_text).toBe('It is SB_TOOL_RESULT_42.')
    const contents = gemini.received.at(-1)!.json?.contents as Array<{ role: string; parts: Array<Record<string, unknown>> }>
    expect(contents.map((c) => c.role)).toEqual(['user', 'model', 'user'])
    expect(contents[2]!.parts[0]).toMatchObject({ functionResponse: { name: 'get_secret' } })
  })
})
