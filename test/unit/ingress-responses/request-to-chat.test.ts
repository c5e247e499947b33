import { describe, expect, it } from 'vitest'
import { responsesToChat } from '../../../src/ingress/responses/request-to-chat.ts'
import { encodeReasoning, decodeReasoning } from '../../../src/ingress/responses/reasoning.ts'
import type { JsonObject } from '../../../src/core/json.ts'
import { GatewayError } from '../../../src/core/errors.ts'

const SIG = encodeReasoning([{ type: 'thinking', thinking: 'Think.', signature: 'sig==' }])!

describe('Responses request -> Chat request', () => {
  it('maps every supported field and item type', () => {
    const body: JsonObject = {
      model: 'm', instructions: 'Be brief.', stream: true, max_output_tokens: 50, temperature: 0.5, top_p: 0.9,
      reasoning: { effort: 'xhigh', summary: 'auto' }, parallel_tool_calls: false, store: false, include: ['reasoning.encrypted_content'],
      user: 'u1', metadata: { a: 'b' }, prompt_cache_key: 'k', client_metadata: { x: 'y' },
      text: { format: { type: 'json_schema', name: 'out', description: 'd', schema: { $schema: 'x', type: 'object' }, strict: true }, verbosity: 'low' },
      tool_choice: { type: 'function', name: 'get' },
      tools: [
        { type: 'function', name: 'get', description: 'Get.', strict: true, defer_loading: true, parameters: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {} } },
        { type: 'custom', name: 'apply_patch', description: 'Patch.', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } },
        { type: 'custom', name: 'note' },
        { type: 'namespace', name: 'ns', description: 'N.', tools: [{ type: 'function', name: 'inner', parameters: { type: 'object' } }] },
        { type: 'web_search', external_web_access: false }, { type: 'tool_search', execution: 'client' }, { type: 'file_search', vector_store_ids: ['v'] },
        { type: 'computer_use_preview' }, { type: 'mcp', server_label: 's' }, { type: 'shell', environment: { type: 'container_auto' } },
      ],
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Dev.' }] },
        { role: 'user', content: [{ type: 'input_text', text: 'Look:' }, { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'low' }] },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Think.' }], encrypted_content: SIG },
        { type: 'message', role: 'assistant', id: 'msg_1', content: [{ type: 'output_text', text: 'Calling.', annotations: [] }] },
        { type: 'function_call', id: 'fc_1', call_id: 'c1', name: 'get', arguments: '{"a":1}' },
        { type: 'custom_tool_call', id: 'ct_1', call_id: 'c2', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'function_call', call_id: 'c3', name: 'inner', namespace: 'ns', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'one' }, { type: 'input_image', image_url: 'https://x/i.png' }] },
        { type: 'custom_tool_call_output', call_id: 'c2', output: 'patched' },
        { type: 'function_call_output', call_id: 'c3', output: 'three' },
        { type: 'web_search_call', id: 'ws_1', status: 'completed' },
        { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'gAAAAopenai' },
        { type: 'message', role: 'assistant', content: 'Done.' },
        { role: 'user', content: 'Thanks' },
      ],
    }
    expect(responsesToChat(body)).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Dev.' },
        { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'low' } }] },
        {
          role: 'assistant', content: 'Calling.', reasoning_content: 'Think.', reasoning_details: [{ type: 'thinking', thinking: 'Think.', signature: 'sig==' }],
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } },
            { id: 'c2', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } },
            { id: 'c3', type: 'function', function: { name: 'ns__inner', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'one' },
        { role: 'tool', tool_call_id: 'c2', content: 'patched' },
        { role: 'tool', tool_call_id: 'c3', content: 'three' },
        { role: 'user', content: [{ type: 'text', text: 'Attachments returned by tool call c1:' }, { type: 'image_url', image_url: { url: 'https://x/i.png' } }] },
        { role: 'assistant', content: 'Done.' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [
        { type: 'function', function: { name: 'get', description: 'Get.', parameters: { type: 'object', properties: {} }, strict: true } },
        { type: 'function', function: { name: 'apply_patch', description: 'Patch.\n\nCall it with {"input": "<text>"}; the text must follow this lark grammar exactly:\nstart: "x"', parameters: { type: 'object', properties: { input: { type: 'string', description: 'The complete input for the tool, as plain text.' } }, required: ['input'], additionalProperties: false } } },
        { type: 'function', function: { name: 'note', description: 'Call it with {"input": "<text>"}; the text is passed to the tool verbatim.', parameters: { type: 'object', properties: { input: { type: 'string', description: 'The complete input for the tool, as plain text.' } }, required: ['input'], additionalProperties: false } } },
        { type: 'function', function: { name: 'ns__inner', parameters: { type: 'object' } } },
      ],
      tool_choice: { type: 'function', function: { name: 'get' } },
      parallel_tool_calls: false,
      max_completion_tokens: 50, temperature: 0.5, top_p: 0.9,
      reasoning_effort: 'high',
      response_format: { type: 'json_schema', json_schema: { name: 'out', description: 'd', schema: { type: 'object' }, strict: true } },
      user: 'u1',
      prompt_cache_key: 'k',
      stream: true, stream_options: { include_usage: true },
    })
  })

  it('string input, effort none, json_object, safety_identifier, tool_choice of a dropped tool', () => {
    expect(responsesToChat({ model: 'm', input: 'hi', reasoning: { effort: 'none' }, text: { format: { type: 'json_object' } }, safety_identifier: 's', tools: [{ type: 'web_search' }], tool_choice: { type: 'web_search' } }))
      .toEqual({ model: 'm', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' }, user: 's' })
    expect(responsesToChat({ model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'allowed_tools', mode: 'required', tools: [] } }).tool_choice).toBe('required')
  })

  it.each([
    [{ model: 'm', input: [{ type: 'item_reference', id: 'x' }] }, 'input[0]'],
    [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 'input[0].content[0].image_url'],
    [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://x' }] }] }, 'input[0].content[0].file_data'],
    [{ model: 'm', input: [{ type: 'mystery' }] }, 'input[0].type'],
    [{ model: 'm', input: [{ role: 'tool', content: 'x' }] }, 'input[0].role'],
    [{ model: 'm', input: 'x', previous_response_id: 'resp_abc' }, 'previous_response_id'],
    [{ model: 'm', input: 'x', conversation: 'conv_1' }, 'conversation'],
    [{ model: 'm', input: 'x', prompt: { id: 'p' } }, 'prompt'],
    [{ model: 'm', input: 'x', background: true }, 'background'],
    [{ model: 'm', input: 'x', reasoning: { effort: 'extreme' } }, 'reasoning.effort'],
    [{ model: 'm', input: 'x', text: { format: { type: 'xml' } } }, 'text.format.type'],
    [{ model: 'm', input: 'x', tool_choice: 'sometimes' }, 'tool_choice'],
    [{ model: 'm' }, 'input'],
  ] as Array<[JsonObject, string]>)('%j is rejected naming %s', (body, param) => {
    let err: unknown
    try { responsesToChat(body) } catch (e) { err = e }
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).status).toBe(400)
    expect((err as GatewayError).param).toBe(param)
  })

  it('reasoning state round-trips through encrypted_content; foreign content is not ours', () => {
    const details = [{ type: 'thinking' as const, thinking: 'a', signature: 's' }, { type: 'redacted_thinking' as const, data: 'r' }, { type: 'thought_signature' as const, signature: 'g', tool_call_id: 'c' }]
    expect(decodeReasoning(encodeReasoning(details)!)).toEqual(details)
    expect(decodeReasoning('gAAAAB-openai')).toBeUndefined()
    expect(decodeReasoning('sbr1.not-base64-json')).toBeUndefined()
    expect(encodeReasoning([])).toBeUndefined()
  })
})
