/**
 * The built-in `mock` vendor: an in-process OpenAI-compatible server, so `npm start` answers
 * offline. It goes through the same adapter, stream parser and accounting as a real vendor.
 */
import { Readable } from 'node:stream'
import { isObject, type JsonObject } from '../../core/json.ts'
import type { Transport, UpstreamRequest, UpstreamResponse } from '../../upstream/types.ts'
import { approxTokens, chooseReply, embed, promptText, textOf } from './reply.ts'

const CREATED = 1_700_000_000

function json(status: number, body: unknown): UpstreamResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Readable.from([Buffer.from(JSON.stringify(body))]) }
}

function sse(events: unknown[]): UpstreamResponse {
  const frames = events.map((e) => Buffer.from(`data: ${JSON.stringify(e)}\n\n`))
  frames.push(Buffer.from('data: [DONE]\n\n'))
  return { status: 200, headers: { 'content-type': 'text/event-stream' }, body: Readable.from(frames) }
}

function usage(prompt: number, completion: number) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

function chat(body: JsonObject): UpstreamResponse {
  const model = String(body.model)
  const reply = chooseReply(body)
  const promptTokens = approxTokens(promptText(body))
  const id = `chatcmpl-mock-${promptTokens}`
  const completionText = reply.kind === 'text' ? reply.text : reply.name + reply.arguments
  const u = usage(promptTokens, approxTokens(completionText))
  const toolCall = reply.kind === 'tool' ? { id: 'call_mock_0', type: 'function', function: { name: reply.name, arguments: reply.arguments } } : undefined
  const finish = reply.kind === 'tool' ? 'tool_calls' : 'stop'
  if (!body.stream) {
    const message = { role: 'assistant', content: reply.kind === 'text' ? reply.text : null, ...(toolCall ? { tool_calls: [toolCall] } : {}), refusal: null }
    return json(200, { id, object: 'chat.completion', created: CREATED, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage: u })
  }
  const wantsUsage = isObject(body.stream_options) && body.stream_options.include_usage === true
  const base = { id, object: 'chat.completion.chunk', created: CREATED, model }
  const chunk = (delta: JsonObject, finishReason: string | null = null) => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...(wantsUsage ? { usage: null } : {}) })
  const events: unknown[] = [chunk({ role: 'assistant', content: '' })]
  if (reply.kind === 'text') {
    for (const piece of reply.text.match(/\S+\s*/g) ?? []) events.push(chunk({ content: piece }))
  } else {
    const half = Math.ceil(reply.arguments.length / 2)
    events.push(chunk({ tool_calls: [{ index: 0, id: 'call_mock_0', type: 'function', function: { name: reply.name, arguments: '' } }] }))
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: reply.arguments.slice(0, half) } }] }))
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: reply.arguments.slice(half) } }] }))
  }
  events.push(chunk({}, finish))
  if (wantsUsage) events.push({ ...base, choices: [], usage: u })
  return sse(events)
}

function completions(body: JsonObject): UpstreamResponse {
  const text = ` mock completion of: ${textOf(body.prompt as string).slice(0, 100)}`
  const u = usage(approxTokens(promptText(body)), approxTokens(text))
  return json(200, { id: 'cmpl-mock', object: 'text_completion', created: CREATED, model: body.model, choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }], usage: u })
}

function embeddings(body: JsonObject): UpstreamResponse {
  const inputs = Array.isArray(body.input) ? body.input.map((i) => (typeof i === 'string' ? i : JSON.stringify(i))) : [String(body.input ?? '')]
  const tokens = inputs.reduce((n, s) => n + approxTokens(s), 0)
  return json(200, {
    object: 'list',
    data: inputs.map((s, index) => ({ object: 'embedding', index, embedding: embed(s) })),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  })
}

function responses(body: JsonObject): UpstreamResponse {
  const text = `This is the mock model answering: ${promptText(body).slice(0, 200) || 'hello'}`
  const inTok = approxTokens(promptText(body) + (typeof body.instructions === 'string' ? body.instructions : ''))
  const outTok = approxTokens(text)
  const item = { id: 'msg_mock_0', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }
  const response = {
    id: `resp_mock_${inTok}`, object: 'response', created_at: CREATED, status: 'completed', model: body.model, output: [item],
    usage: { input_tokens: inTok, input_tokens_details: { cached_tokens: 0 }, output_tokens: outTok, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inTok + outTok },
  }
  if (!body.stream) return json(200, response)
  const frames = [
    { type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [], usage: null } },
    { type: 'response.output_item.added', sequence_number: 1, output_index: 0, item: { ...item, status: 'in_progress', content: [] } },
    { type: 'response.output_text.delta', sequence_number: 2, item_id: item.id, output_index: 0, content_index: 0, delta: text },
    { type: 'response.output_text.done', sequence_number: 3, item_id: item.id, output_index: 0, content_index: 0, text },
    { type: 'response.output_item.done', sequence_number: 4, output_index: 0, item },
    { type: 'response.completed', sequence_number: 5, response },
  ].map((e) => Buffer.from(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`))
  return { status: 200, headers: { 'content-type': 'text/event-stream' }, body: Readable.from(frames) }
}

export function createMockTransport(): Transport {
  return {
    async send(req: UpstreamRequest): Promise<UpstreamResponse> {
      const body: unknown = req.body ? JSON.parse(req.body.toString()) : {}
      if (!isObject(body)) return json(400, { error: { message: 'expected a JSON object', type: 'invalid_request_error', param: null, code: null } })
      const path = req.path.split('?')[0] ?? ''
      if (path.endsWith('/chat/completions')) return chat(body)
      if (path.endsWith('/completions')) return completions(body)
      if (path.endsWith('/embeddings')) return embeddings(body)
      if (path.endsWith('/responses')) return responses(body)
      return json(404, { error: { message: `the mock provider does not serve ${path}`, type: 'invalid_request_error', param: null, code: 'not_found' } })
    },
    close: async () => {},
  }
}
