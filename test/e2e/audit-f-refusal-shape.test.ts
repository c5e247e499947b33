/**
 * Audit F, point 6: an Anthropic refusal (stop_reason refusal) gives the same Response streamed and
 * not: one message, the model's text then, when Anthropic explains the refusal, a refusal part with
 * the explanation. The stream used to add a second message with an invented "The model declined to
 * respond." that the non-streamed Response did not have; agents replaying the output sent it back.
 * The placeholder remains only for a refusal with no text at all, so the message is never empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { json, type Handler, startStandIn, type StandIn } from '../helpers/stand-in.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'

const KEY = 'sk-sb-audit-f-refusal-shape'
const EXPLANATION = "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy."
const usage = { input_tokens: 5, output_tokens: 2 }

/** Claude's answer, non-streamed or as its event stream: `text` (possibly none), then stop_reason refusal. */
function refusing(text: string, explanation?: string): Handler {
  const stopDetails = explanation ? { stop_details: { type: 'refusal', category: 'cyber', explanation } } : {}
  return (req, res) => {
    if (!req.json?.stream) {
      return json(200, { id: 'msg_r', type: 'message', role: 'assistant', model: 'claude-x', content: text ? [{ type: 'text', text }] : [], stop_reason: 'refusal', ...stopDetails, usage })(req, res)
    }
    const events: Array<Record<string, unknown>> = [{ type: 'message_start', message: { id: 'msg_r', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } } }]
    if (text) {
      events.push({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
      for (const piece of text.split(/(?<= )/)) events.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } })
      events.push({ type: 'content_block_stop', index: 0 })
    }
    events.push({ type: 'message_delta', delta: { stop_reason: 'refusal', stop_sequence: null, ...stopDetails }, usage: { output_tokens: 2 } }, { type: 'message_stop' })
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const e of events) res.write(`event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`)
    res.end()
  }
}

let claude: StandIn
let gw: TestGateway
let client: OpenAI

beforeAll(async () => {
  claude = await startStandIn(json(500, {}))
  gw = await startTestGateway(`
logging: { level: silent }
providers:
  ant: { type: anthropic, base_url: "${claude.url}", keys: ["sk-ant-vendor-0001"] }
models:
  claude: { targets: [{ provider: ant, model: claude-x }] }
routing: { retries: { max_attempts: 1 } }
teams:
  t: { keys: { k: { key: "${KEY}" } } }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await claude?.close()
})

/** The same refusal, non-streamed and streamed: the output items without their generated ids. */
async function bothWays(answer: Handler): Promise<Array<{ status: string | undefined; reason: unknown; output: unknown[] }>> {
  const shapes = []
  for (const stream of [false, true]) {
    claude.queue.push(answer)
    const r = stream
      ? await client.responses.stream({ model: 'claude', input: 'go', store: false }).finalResponse()
      : await client.responses.create({ model: 'claude', input: 'go', store: false })
    // Without the generated ids, and without the `parsed` the SDK's stream helper adds to text parts.
    const output = JSON.parse(JSON.stringify(r.output, (key, value: unknown) => (key === 'id' || key === 'parsed' ? undefined : value))) as unknown[]
    shapes.push({ status: r.status, reason: r.incomplete_details?.reason, output })
  }
  return shapes
}

const message = (content: unknown[]) => ({ type: 'message', role: 'assistant', status: 'completed', content })
const outputText = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] })

describe('an Anthropic refusal on the Responses API', () => {
  it('text without an explanation: one message with the text, streamed as not; nothing invented', async () => {
    const [plain, streamed] = await bothWays(refusing('I cannot help with that.'))
    expect(plain).toEqual({ status: 'incomplete', reason: 'content_filter', output: [message([outputText('I cannot help with that.')])] })
    expect(streamed).toEqual(plain)
  })

  it("text and Anthropic's explanation: one message, the text then a refusal part", async () => {
    const [plain, streamed] = await bothWays(refusing('I cannot help with that.', EXPLANATION))
    expect(plain?.output).toEqual([message([outputText('I cannot help with that.'), { type: 'refusal', refusal: EXPLANATION }])])
    expect(streamed).toEqual(plain)
  })

  it('no text at all: one message with a refusal part (the explanation, else a placeholder)', async () => {
    const [plain, streamed] = await bothWays(refusing('', EXPLANATION))
    expect(plain?.output).toEqual([message([{ type: 'refusal', refusal: EXPLANATION }])])
    expect(streamed).toEqual(plain)
    const [bare, bareStreamed] = await bothWays(refusing(''))
    expect(bare?.output).toEqual([message([{ type: 'refusal', refusal: 'The model declined to respond.' }])])
    expect(bareStreamed).toEqual(bare)
  })
})
