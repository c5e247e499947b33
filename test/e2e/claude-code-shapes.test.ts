/**
 * Claude Code's requests, as recorded from Claude Code 2.1.330, through the real gateway:
 * - natively to an Anthropic target: ?beta=true, anthropic-beta/-version and the body reach the
 *   vendor unchanged (only model and key swapped), thinking signatures come back byte for byte,
 *   the stream is relayed byte for byte, streaming is chosen by the body even with Accept: json;
 * - translated to OpenAI-type targets, with the @anthropic-ai/sdk as the client;
 * - HEAD /api/hello, and the client's session id as the run id.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startScriptedVendor, THINKING_SIGNATURE, TOOL_COMMAND, TOOL_RESULT_MARK, type ScriptedVendor } from '../agents/scripted-vendor.ts'

type Obj = Record<string, unknown>
const recorded = JSON.parse(readFileSync(new URL('../agents/fixtures/claude-code-2.1.330-request.json', import.meta.url), 'utf8')) as { path: string; headers: Record<string, string>; body: Obj }
const CLIENT_KEY = 'sk-sb-claude-code-client'

let vendor: ScriptedVendor
let gw: TestGateway

beforeAll(async () => {
  vendor = await startScriptedVendor()
  gw = await startTestGateway(`
logging: { level: silent }
store: { url: "sqlite::memory:" }
providers:
  anthropic: { type: anthropic, base_url: "${vendor.url}", keys: ["sk-ant-vendor"] }
  openai: { type: openai, base_url: "${vendor.url}/v1", keys: ["sk-openai-vendor"] }
  compat: { type: openai-compatible, base_url: "${vendor.url}/v1" }
models:
  claude-opus-5-5: { targets: [{ provider: anthropic, model: claude-opus-5-5 }] }
  claude-renamed: { targets: [{ provider: anthropic, model: claude-upstream-name }] }
  claude-on-openai: { targets: [{ provider: openai, model: gpt-5.1 }] }
  claude-on-gpt4o: { targets: [{ provider: openai, model: gpt-4o, reasoning: false }] }
  claude-on-compat: { targets: [{ provider: compat, model: qwen3 }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${CLIENT_KEY}" } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

const lastSeen = () => vendor.received.at(-1)!
const claudeHeaders = { ...recorded.headers, 'x-api-key': CLIENT_KEY }
const send = (path: string, body: string, headers: Record<string, string> = claudeHeaders, method = 'POST') =>
  fetch(gw.url + path, { method, headers, body })

describe('Claude Code natively to an Anthropic target', () => {
  it('the recorded request reaches the vendor byte for byte, with its query, betas and version', async () => {
    const bytes = JSON.stringify(recorded.body)
    const res = await send(recorded.path, bytes)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    await res.text()
    const seen = lastSeen()
    expect(seen.path).toBe('/v1/messages?beta=true')
    expect(seen.body).toBe(bytes)
    expect(seen.headers['anthropic-beta']).toBe(recorded.headers['anthropic-beta'])
    expect(seen.headers['anthropic-version']).toBe('2023-06-01')
    expect(seen.headers['x-api-key']).toBe('sk-ant-vendor')
  })

  it('only the model changes when the upstream name differs', async () => {
    const res = await send(recorded.path, JSON.stringify({ ...recorded.body, model: 'claude-renamed' }))
    await res.text()
    expect(lastSeen().body).toBe(JSON.stringify({ ...recorded.body, model: 'claude-upstream-name' }))
  })

  it('streaming follows the body, not Accept: application/json, and the stream is relayed byte for byte', async () => {
    const body = JSON.stringify({ ...recorded.body, messages: [{ role: 'user', content: 'hi' }] })
    expect(recorded.headers.accept).toBe('application/json')
    const viaGateway = await (await send(recorded.path, body)).text()
    const direct = await (await fetch(`${vendor.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text()
    expect(viaGateway).toBe(direct)
    expect(viaGateway).toContain('event: message_stop')
  })

  it('thinking signatures and tool_use ids go back to the vendor byte for byte on the next turn', async () => {
    const first = { ...recorded.body, messages: [{ role: 'user', content: 'SB_USE_TOOL run it' }] }
    const stream = await send(recorded.path, JSON.stringify(first))
    const events = (await stream.text()).split('\n\n').filter(Boolean).map((e) => JSON.parse(e.split('\n')[1]!.slice(6)) as Obj)
    const signature = events.map((e) => (e.delta as Obj | undefined)?.signature).find(Boolean)
    expect(signature).toBe(THINKING_SIGNATURE)
    const toolStart = events.find((e) => (e.content_block as Obj | undefined)?.type === 'tool_use')!.content_block as Obj
    const second = {
      ...recorded.body,
      messages: [
        { role: 'user', content: 'SB_USE_TOOL run it' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'Planning the reply.', signature }, { type: 'tool_use', id: toolStart.id, name: 'Bash', input: { command: TOOL_COMMAND } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolStart.id, content: TOOL_RESULT_MARK }] },
      ],
    }
    const bytes = JSON.stringify(second)
    const res = await send(recorded.path, bytes)
    expect(await res.text()).toContain(`SB_FINAL: ${TOOL_RESULT_MARK}`)
    expect(lastSeen().body).toBe(bytes)
    expect(lastSeen().body).toContain(`"signature":"${THINKING_SIGNATURE}"`)
  })
})

describe('Claude Code translated to OpenAI-type targets', () => {
  it('the recorded request becomes a chat request: effort, deferred tools, mid-conversation system turn, no $schema or cache_control', async () => {
    const res = await send(recorded.path, JSON.stringify({ ...recorded.body, model: 'claude-on-openai' }))
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('event: message_start')
    const deltas = text.split('\n\n').filter((e) => e.includes('"text_delta"')).map((e) => ((JSON.parse(e.split('\n')[1]!.slice(6)) as Obj).delta as { text: string }).text)
    expect(deltas.join('')).toBe('SB_FINAL: hello')
    const seen = lastSeen()
    expect(seen.path).toBe('/v1/chat/completions')
    expect(seen.headers.authorization).toBe('Bearer sk-openai-vendor')
    expect(seen.headers['anthropic-beta']).toBeUndefined()
    const json = seen.json!
    expect(json.model).toBe('gpt-5.1')
    expect(json.reasoning_effort).toBe('medium') // output_config.effort
    expect(json.max_completion_tokens).toBe(128000)
    expect(json.stream_options).toEqual({ include_usage: true })
    for (const dropped of ['thinking', 'context_management', 'output_config', 'metadata', 'system']) expect(json).not.toHaveProperty(dropped)
    expect(JSON.parse(json.user as string)).toMatchObject({ session_id: 'd47c4305-fc1c-4969-a09d-fb30a2cbf449' })
    const tools = json.tools as Array<{ function: { name: string; parameters: Obj } }>
    expect(tools.map((t) => t.function.name)).toEqual((recorded.body.tools as Array<{ name: string }>).map((t) => t.name))
    expect(seen.body).not.toContain('$schema')
    expect(seen.body).not.toContain('cache_control')
    expect(seen.body).not.toContain('defer_loading')
    const roles = (json.messages as Array<{ role: string }>).map((m) => m.role)
    expect(roles).toEqual(['system', 'user', 'system'])
  })

  it('reasoning_effort is dropped for a target marked reasoning: false and for openai-compatible targets by default', async () => {
    await (await send(recorded.path, JSON.stringify({ ...recorded.body, model: 'claude-on-gpt4o' }))).text()
    expect(lastSeen().json).not.toHaveProperty('reasoning_effort')
    await (await send(recorded.path, JSON.stringify({ ...recorded.body, model: 'claude-on-compat' }))).text()
    expect(lastSeen().json).not.toHaveProperty('reasoning_effort')
  })

  it('the Anthropic SDK runs a tool round trip with structured output, tool_reference and a deferred tool', async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0 })
    const tools = [
      { name: 'Bash', description: 'Run a command', input_schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' as const, properties: { command: { type: 'string' } }, required: ['command'] }, cache_control: { type: 'ephemeral' as const } },
      { name: 'mcp__docs__search', description: 'Search docs', input_schema: { type: 'object' as const, properties: {} }, defer_loading: true },
    ]
    const first = await client.beta.messages.stream({
      model: 'claude-on-openai', max_tokens: 1000, tools,
      thinking: { type: 'enabled', budget_tokens: 4000 },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'SB_USE_TOOL go', cache_control: { type: 'ephemeral' } }] }],
    }).finalMessage()
    expect(lastSeen().json?.reasoning_effort).toBe('medium')
    const toolUse = first.content.find((b) => b.type === 'tool_use')
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'Bash', input: { command: TOOL_COMMAND } })
    expect(first.stop_reason).toBe('tool_use')
    const id = toolUse?.type === 'tool_use' ? toolUse.id : ''

    const second = await client.beta.messages.create({
      model: 'claude-on-openai', max_tokens: 1000, tools,
      output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { answer: { type: 'string' } } } } },
      messages: [
        { role: 'user', content: 'SB_USE_TOOL go' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: [{ type: 'text', text: TOOL_RESULT_MARK }, { type: 'tool_reference', tool_name: 'mcp__docs__search' }] }] },
      ],
    } as Parameters<typeof client.beta.messages.create>[0] & { stream?: false })
    expect(second.content).toEqual([{ type: 'text', text: `SB_FINAL: ${TOOL_RESULT_MARK}\nTool available: mcp__docs__search` }])
    const json = lastSeen().json!
    expect(json.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object', properties: { answer: { type: 'string' } } }, strict: true } })
    expect((json.messages as Obj[]).at(-1)).toEqual({ role: 'tool', tool_call_id: id, content: `${TOOL_RESULT_MARK}\nTool available: mcp__docs__search` })
  })
})

describe('connectivity checks and agent sessions', () => {
  it('HEAD /api/hello answers 200 with an empty body', async () => {
    const res = await fetch(`${gw.url}/api/hello`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
  })

  it("the client's session id is the run id when x-switchboard-run-id is absent", async () => {
    const small = JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    const base = { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY }
    const claude = await send('/v1/messages', small, { ...base, 'x-claude-code-session-id': 'd47c4305-fc1c-4969-a09d-fb30a2cbf449' })
    expect(claude.headers.get('x-switchboard-run-id')).toBe('d47c4305-fc1c-4969-a09d-fb30a2cbf449')
    const codex = await send('/v1/messages', small, { ...base, 'session-id': '01a20c61-6fad-7e40-8f3b-5ce181ad2340' })
    expect(codex.headers.get('x-switchboard-run-id')).toBe('01a20c61-6fad-7e40-8f3b-5ce181ad2340')
    const explicit = await send('/v1/messages', small, { ...base, 'x-switchboard-run-id': 'run-1', 'x-claude-code-session-id': 'other' })
    expect(explicit.headers.get('x-switchboard-run-id')).toBe('run-1')
    const none = await send('/v1/messages', small, base)
    expect(none.headers.get('x-switchboard-run-id')).toBeNull()
  })
})
