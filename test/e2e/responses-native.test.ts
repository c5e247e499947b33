/**
 * Codex's Responses requests (recorded from Codex CLI 0.169.0) natively to an OpenAI target: the
 * body reaches the vendor unchanged but for the model (store: false, include, client_metadata,
 * custom tools...), encrypted reasoning comes back byte for byte, the stream is relayed byte for
 * byte, and the gateway keeps nothing (OpenAI stores its own).
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { ENCRYPTED_REASONING, startScriptedVendor, type ScriptedVendor } from '../agents/scripted-vendor.ts'

type Obj = Record<string, unknown>
const recorded = JSON.parse(readFileSync(new URL('../unit/ingress-responses/fixtures/codex-0.169-request.json', import.meta.url), 'utf8')) as { headers: Record<string, string>; body: Obj }
const CLIENT_KEY = 'sk-sb-codex-client'

let vendor: ScriptedVendor
let gw: TestGateway

beforeAll(async () => {
  vendor = await startScriptedVendor()
  gw = await startTestGateway(`
logging: { level: silent }
store: { url: "sqlite::memory:" }
providers:
  openai: { type: openai, base_url: "${vendor.url}/v1", keys: ["sk-openai-vendor"] }
models:
  gpt-5.3-codex: { targets: [{ provider: openai, model: gpt-5.3-codex }] }
  codex-renamed: { targets: [{ provider: openai, model: gpt-5.3-codex-2026 }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${CLIENT_KEY}" } } }
`)
})
afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
})

const headers = { ...recorded.headers, authorization: `Bearer ${CLIENT_KEY}` }
const post = (body: Obj, h: Record<string, string> = headers) => fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: h, body: JSON.stringify(body) })
const lastSeen = () => vendor.received.at(-1)!

describe('Codex natively to an OpenAI target', () => {
  it('the recorded request reaches the vendor unchanged but for the model and key', async () => {
    const res = await post({ ...recorded.body, model: 'codex-renamed' })
    expect(res.status).toBe(200)
    await res.text()
    const seen = lastSeen()
    expect(seen.path).toBe('/v1/responses')
    expect(seen.headers.authorization).toBe('Bearer sk-openai-vendor')
    expect(seen.body).toBe(JSON.stringify({ ...recorded.body, model: 'gpt-5.3-codex-2026' }))
    expect(seen.json).toMatchObject({ store: false, include: ['reasoning.encrypted_content'], stream: true })
  })

  it('the stream is relayed byte for byte, even with Accept: application/json', async () => {
    const body = { ...recorded.body, input: 'hi' }
    const viaGateway = await (await post(body, { ...headers, accept: 'application/json' })).text()
    const direct = await (await fetch(`${vendor.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, model: 'gpt-5.3-codex' }) })).text()
    expect(viaGateway.replace(/resp_[0-9a-f]+/g, 'resp_X').replace(/(rs|msg)_[0-9a-f]+/g, '$1_X')).toBe(direct.replace(/resp_[0-9a-f]+/g, 'resp_X').replace(/(rs|msg)_[0-9a-f]+/g, '$1_X'))
    expect(viaGateway).toContain('event: response.completed')
  })

  it('encrypted reasoning and call ids go back to the vendor byte for byte; nothing is stored by the gateway', async () => {
    const first = await (await post({ ...recorded.body, input: [...(recorded.body.input as Obj[]), { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'SB_USE_TOOL list files' }] }] })).text()
    const done = first.split('\n\n').filter((e) => e.includes('"response.completed"')).map((e) => JSON.parse(e.split('\n')[1]!.slice(6)) as { response: { id: string; output: Obj[] } })[0]!
    const [reasoning, call] = done.response.output
    expect(reasoning).toMatchObject({ type: 'reasoning', encrypted_content: ENCRYPTED_REASONING })
    expect(call).toMatchObject({ type: 'function_call', name: 'exec_command' })
    const second = { ...recorded.body, input: [...(recorded.body.input as Obj[]), reasoning, call, { type: 'function_call_output', call_id: call!.call_id, output: 'SB_TOOL_RESULT_42' }] }
    const res = await post(second)
    expect(await res.text()).toContain('SB_FINAL: SB_TOOL_RESULT_42')
    expect(lastSeen().body).toBe(JSON.stringify(second))
    expect(lastSeen().body).toContain(`"encrypted_content":"${ENCRYPTED_REASONING}"`)
    const get = await fetch(`${gw.url}/v1/responses/${done.response.id}`, { headers: { authorization: `Bearer ${CLIENT_KEY}`, 'x-switchboard-model': 'gpt-5.3-codex' } })
    // An OpenAI id is not the gateway's: the GET is forwarded to the OpenAI target.
    expect(lastSeen().method).toBe('GET')
    expect(lastSeen().path).toBe(`/v1/responses/${done.response.id}`)
    expect(get.status).toBe(404) // the scripted vendor keeps nothing
  })

  it("Codex's session-id header becomes the run id", async () => {
    const res = await post({ ...recorded.body, input: 'hi' })
    await res.text()
    expect(res.headers.get('x-switchboard-run-id')).toBe(recorded.headers['session-id'])
  })
})
