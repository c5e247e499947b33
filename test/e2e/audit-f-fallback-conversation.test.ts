/**
 * Audit F, point 4: a conversation the gateway moves between kinds of target. Turn 1 of a model on
 * OpenAI falls back to Claude (OpenAI answers 503), which thinks and calls a tool; turn 2 goes to
 * OpenAI again. The gateway's own reasoning item (`sbr1.` encrypted_content) and item ids
 * (`rs_sb…`, `fc_sb…`) must not reach OpenAI, which rejects what it cannot verify with
 * 400 invalid_encrypted_content and ends the agent's conversation. Both by previous_response_id
 * (the store expands the turn) and with the history resent by the client (Codex, store: false).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { json, startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startScriptedVendor, type ScriptedVendor } from '../agents/scripted-vendor.ts'

const KEY = 'sk-sb-audit-f-fallback-conv'
const GATEWAY_ID = /_sb[0-9a-f]{32}_\d+$/
const answer = {
  id: 'resp_0123abcd', object: 'response', created_at: 1_700_000_000, status: 'completed', model: 'gpt-5',
  output: [{ id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'from openai', annotations: [] }] }],
  usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
}
/** What OpenAI does with reasoning it did not encrypt, and with item ids it never issued. */
const strictOpenAI: Handler = (req, res) => {
  for (const item of (req.json?.input ?? []) as Array<Record<string, unknown>>) {
    if (typeof item.encrypted_content === 'string' && !item.encrypted_content.startsWith('gAAAA')) {
      return json(400, { error: { message: 'The encrypted content for item rs_x could not be verified.', type: 'invalid_request_error', param: null, code: 'invalid_encrypted_content' } })(req, res)
    }
    if (typeof item.id === 'string' && GATEWAY_ID.test(item.id)) {
      return json(404, { error: { message: `Item with id '${item.id}' not found.`, type: 'invalid_request_error', param: 'input', code: null } })(req, res)
    }
  }
  return json(200, answer)(req, res)
}
const unavailable = json(503, { error: { message: 'overloaded', type: 'server_error', param: null, code: null } })
const SECRET_TOOL = { type: 'function' as const, name: 'get_secret', description: 'Returns the secret.', strict: false, parameters: { type: 'object', properties: {} } }

let openai: StandIn
let claude: ScriptedVendor
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  openai = await startStandIn(strictOpenAI)
  claude = await startScriptedVendor()
  gw = await startTestGateway(`
logging: { level: silent }
providers:
  openai: { type: openai, base_url: "${openai.url}/v1", keys: ["sk-oai-vendor-0001"] }
  ant: { type: anthropic, base_url: "${claude.url}", keys: ["sk-ant-vendor-0001"] }
models:
  gpt: { targets: [{ provider: openai, model: gpt-5 }], fallbacks: [claude] }
  claude: { targets: [{ provider: ant, model: claude-sonnet-4-5 }] }
routing: { retries: { max_attempts: 2 }, circuit_breaker: { failures: 1000 } }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await openai?.close()
  await claude?.close()
})
beforeEach(() => {
  openai.queue.length = 0
  openai.queue.push(unavailable) // turn 1: OpenAI is down, Claude answers
})

/** Turn 1 on Claude (after OpenAI's 503): signed thinking, a word, and a tool call. */
async function claudeTurn(store: boolean): Promise<{ r1: OpenAI.Responses.Response; call: OpenAI.Responses.ResponseFunctionToolCall }> {
  const r1 = await client.responses.stream({ model: 'gpt', input: 'SB_USE_TOOL please', tools: [SECRET_TOOL], reasoning: { effort: 'high' }, store }).finalResponse()
  expect(r1.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call'])
  expect((r1.output[0] as { encrypted_content?: string }).encrypted_content).toMatch(/^sbr1\./)
  expect(r1.output.every((i) => GATEWAY_ID.test(i.id ?? ''))).toBe(true)
  return { r1, call: r1.output[2] as OpenAI.Responses.ResponseFunctionToolCall }
}
/** What OpenAI must receive for turn 2: the user's words, Claude's words and call (without ids), the tool's output. */
const TURN_2_TYPES = ['message', 'message', 'function_call', 'function_call_output']

describe('a conversation that falls back from Claude to OpenAI', () => {
  it('by previous_response_id: OpenAI gets the turn without the gateway reasoning item or ids', async () => {
    const { r1, call } = await claudeTurn(true)
    const r2 = await client.responses.create({ model: 'gpt', previous_response_id: r1.id, tools: [SECRET_TOOL], input: [{ type: 'function_call_output', call_id: call.call_id, output: 'the secret' }] })
    expect(r2.output_text).toBe('from openai')
    const sent = openai.received.at(-1)!.json!.input as Array<Record<string, unknown>>
    expect(sent.map((i) => i.type ?? 'message')).toEqual(TURN_2_TYPES)
    expect(JSON.stringify(sent)).not.toMatch(/sbr1\.|_sb[0-9a-f]{32}_/)
    expect(sent[2]).toEqual({ type: 'function_call', status: 'completed', arguments: call.arguments, call_id: call.call_id, name: 'get_secret' })
  })

  it('with the history resent by the client (store: false, as Codex does): same', async () => {
    const { r1, call } = await claudeTurn(false)
    const history = [{ role: 'user' as const, content: 'SB_USE_TOOL please' }, ...r1.output, { type: 'function_call_output' as const, call_id: call.call_id, output: 'the secret' }]
    const r2 = await client.responses.create({ model: 'gpt', store: false, tools: [SECRET_TOOL], input: history as OpenAI.Responses.ResponseInput })
    expect(r2.output_text).toBe('from openai')
    const sent = openai.received.at(-1)!.json!
    expect((sent.input as Array<Record<string, unknown>>).map((i) => i.type ?? 'message')).toEqual(TURN_2_TYPES)
    expect(JSON.stringify(sent)).not.toMatch(/sbr1\.|_sb[0-9a-f]{32}_/)
    expect(sent.model).toBe('gpt-5')
  })

  it("OpenAI's own reasoning and ids pass through untouched", async () => {
    openai.queue.length = 0
    const own = [
      { role: 'user', content: 'hi' },
      { id: 'rs_68af0c1e', type: 'reasoning', summary: [], encrypted_content: 'gAAAAB-openai-own' },
      { id: 'msg_68af0c1e', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hello', annotations: [] }] },
      { role: 'user', content: 'again, with _sb in the text' },
    ]
    const r = await client.responses.create({ model: 'gpt', store: false, input: own as OpenAI.Responses.ResponseInput })
    expect(r.output_text).toBe('from openai')
    expect(openai.received.at(-1)!.json!.input).toEqual(own)
  })
})
