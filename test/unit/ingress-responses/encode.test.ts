import { describe, expect, it } from 'vitest'
import { chatToResponse } from '../../../src/ingress/responses/chat-to-response.ts'
import { createResponsesStreamEncoder } from '../../../src/ingress/responses/stream-encoder.ts'
import { decodeReasoning } from '../../../src/ingress/responses/reasoning.ts'
import type { ChatCompletion, ChatCompletionChunk } from '../../../src/core/openai-chat.ts'
import type { JsonObject } from '../../../src/core/json.ts'
import { GatewayError } from '../../../src/core/errors.ts'

const request: JsonObject = {
  model: 'pub', instructions: 'Be brief.', store: false,
  tools: [{ type: 'function', name: 'get' }, { type: 'custom', name: 'apply_patch' }, { type: 'namespace', name: 'ns', tools: [{ type: 'function', name: 'inner' }] }],
}
const ctx = { requestedModel: 'pub', clientWantsUsage: false, request }
const usage = { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 4 } }

describe('chat.completion -> Response', () => {
  it('reasoning, text and every kind of call, with usage and echoed request fields', () => {
    const completion: ChatCompletion = {
      id: 'c', object: 'chat.completion', created: 1700, model: 'up',
      choices: [{ index: 0, finish_reason: 'tool_calls', message: {
        role: 'assistant', content: 'Calling.', reasoning_content: 'Think.', reasoning_details: [{ type: 'thinking', thinking: 'Think.', signature: 'sig' }],
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } },
          { id: 'c2', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } },
          { id: 'c3', type: 'function', function: { name: 'ns__inner', arguments: '{}' } },
        ],
      } }],
      usage,
    }
    const r = chatToResponse(completion, ctx)
    const id = r.id as string
    const base = id.slice(5)
    expect(r).toMatchObject({ object: 'response', created_at: 1700, status: 'completed', incomplete_details: null, model: 'pub', instructions: 'Be brief.', store: false, tools: request.tools, previous_response_id: null })
    expect(r.usage).toEqual({ input_tokens: 30, input_tokens_details: { cached_tokens: 10 }, output_tokens: 12, output_tokens_details: { reasoning_tokens: 4 }, total_tokens: 42 })
    const output = r.output as JsonObject[]
    expect(output).toEqual([
      { id: `rs_${base}_0`, type: 'reasoning', summary: [{ type: 'summary_text', text: 'Think.' }], encrypted_content: expect.stringMatching(/^sbr1\./) },
      { id: `msg_${base}_1`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Calling.' }] },
      { id: `fc_${base}_2`, type: 'function_call', status: 'completed', arguments: '{"a":1}', call_id: 'c1', name: 'get' },
      { id: `ctc_${base}_3`, type: 'custom_tool_call', status: 'completed', call_id: 'c2', name: 'apply_patch', input: '*** Begin Patch' },
      { id: `fc_${base}_4`, type: 'function_call', status: 'completed', arguments: '{}', call_id: 'c3', name: 'inner', namespace: 'ns' },
    ])
    expect(decodeReasoning(output[0]!.encrypted_content as string)).toEqual([{ type: 'thinking', thinking: 'Think.', signature: 'sig' }])
  })

  it('length -> incomplete (max_output_tokens); refusal -> refusal content', () => {
    const make = (message: JsonObject, finish: 'length' | 'stop'): ChatCompletion => ({ id: 'c', object: 'chat.completion', created: 1, model: 'up', choices: [{ index: 0, finish_reason: finish, message: { role: 'assistant', ...message } }] })
    expect(chatToResponse(make({ content: 'Trunc' }, 'length'), ctx)).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: null })
    expect((chatToResponse(make({ content: null, refusal: 'No.' }, 'stop'), ctx).output as JsonObject[])[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'No.' }] })
  })
})

const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk =>
  ({ id: 'c', object: 'chat.completion.chunk', created: 1700, model: 'up', choices: [{ index: 0, delta, finish_reason: finish }] })

function parse(sse: string): Array<JsonObject & { type: string; sequence_number: number }> {
  return sse.split('\n\n').filter(Boolean).map((block) => {
    const [ev, data] = block.split('\n')
    const json = JSON.parse(data!.slice(6)) as JsonObject & { type: string; sequence_number: number }
    expect(ev).toBe(`event: ${json.type}`)
    return json
  })
}

describe('chat chunks -> Responses events', () => {
  it('reasoning with a signature, text, interleaved parallel calls and a custom call: the full event sequence', () => {
    const enc = createResponsesStreamEncoder(ctx)
    let out = ''
    out += enc.push(chunk({ role: 'assistant', reasoning_content: 'Thi' }))
    out += enc.push(chunk({ reasoning_content: 'nk.' }))
    out += enc.push(chunk({ reasoning_details: [{ type: 'thinking', thinking: '', signature: 'sig' }] }))
    out += enc.push(chunk({ content: 'Hel' }))
    out += enc.push(chunk({ content: 'lo' }))
    out += enc.push(chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'get', arguments: '{"a"' } }] }))
    out += enc.push(chunk({ tool_calls: [{ index: 1, id: 'c2', type: 'function', function: { name: 'apply_patch', arguments: '{"input":' } }] }))
    out += enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }))
    out += enc.push(chunk({ tool_calls: [{ index: 1, function: { arguments: '"x"}' } }] }))
    out += enc.push(chunk({}, 'tool_calls'))
    out += enc.push({ id: 'c', object: 'chat.completion.chunk', created: 1700, model: 'up', choices: [], usage })
    out += enc.end(undefined)
    const events = parse(out)
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect(events.map((e) => `${e.type}${e.output_index === undefined ? '' : `@${String(e.output_index)}`}`)).toEqual([
      'response.created', 'response.in_progress',
      'response.output_item.added@0', 'response.reasoning_summary_part.added@0',
      'response.reasoning_summary_text.delta@0', 'response.reasoning_summary_text.delta@0',
      'response.reasoning_summary_text.done@0', 'response.reasoning_summary_part.done@0', 'response.output_item.done@0',
      'response.output_item.added@1', 'response.content_part.added@1', 'response.output_text.delta@1', 'response.output_text.delta@1',
      'response.output_text.done@1', 'response.content_part.done@1', 'response.output_item.done@1',
      'response.output_item.added@2', 'response.function_call_arguments.delta@2',
      'response.output_item.added@3',
      'response.function_call_arguments.delta@2',
      'response.function_call_arguments.done@2', 'response.output_item.done@2',
      'response.custom_tool_call_input.delta@3', 'response.custom_tool_call_input.done@3', 'response.output_item.done@3',
      'response.completed',
    ])
    const completed = events.at(-1)!.response as JsonObject
    const final = enc.result!()
    expect(completed).toEqual(final)
    const base = (final!.id as string).slice(5)
    expect(final!.output).toEqual([
      { id: `rs_${base}_0`, type: 'reasoning', summary: [{ type: 'summary_text', text: 'Think.' }], encrypted_content: expect.stringMatching(/^sbr1\./) },
      { id: `msg_${base}_1`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello' }] },
      { id: `fc_${base}_2`, type: 'function_call', status: 'completed', arguments: '{"a":1}', call_id: 'c1', name: 'get' },
      { id: `ctc_${base}_3`, type: 'custom_tool_call', status: 'completed', call_id: 'c2', name: 'apply_patch', input: 'x' },
    ])
    // The signature-only detail is stored with the text it signs, so Anthropic accepts it back.
    expect(decodeReasoning((final!.output as JsonObject[])[0]!.encrypted_content as string)).toEqual([{ type: 'thinking', thinking: 'Think.', signature: 'sig' }])
    expect(final!.usage).toEqual({ input_tokens: 30, input_tokens_details: { cached_tokens: 10 }, output_tokens: 12, output_tokens_details: { reasoning_tokens: 4 }, total_tokens: 42 })
  })

  it('a truncated answer ends with response.incomplete; an error after bytes ends with error and response.failed', () => {
    const enc = createResponsesStreamEncoder(ctx)
    const events = parse(enc.push(chunk({ content: 'x' }, 'length')) + enc.end(undefined))
    expect(events.at(-1)).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } })

    const failing = createResponsesStreamEncoder(ctx)
    const errEvents = parse(failing.push(chunk({ content: 'x' })) + failing.error(new GatewayError({ status: 502, code: 'upstream_error', message: 'broke' })))
    expect(errEvents.slice(-2)).toEqual([
      expect.objectContaining({ type: 'error', error: { type: 'api_error', code: 'upstream_error', message: 'broke', param: null } }),
      expect.objectContaining({ type: 'response.failed', response: expect.objectContaining({ status: 'failed', error: { code: 'upstream_error', message: 'broke' } }) }),
    ])
    expect(failing.result!()).toBeUndefined()
  })
})
