import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../../src/telemetry/redact.ts'
import { createContentCapture } from '../../../src/telemetry/content.ts'
import { OPERATION_NAME, providerNameByConfigName, requestAttributes, serverAddress } from '../../../src/telemetry/genai.ts'
import { traceExportSettings } from '../../../src/telemetry/otlp-settings.ts'
import { configSchema } from '../../../src/config/schema.ts'
import type { Attributes } from '@opentelemetry/api'

describe('redaction', () => {
  const redact = createRedactor(['internal-[a-z]+'])
  it('redacts emails, keys, Luhn-valid card numbers and custom patterns; keeps other numbers', () => {
    expect(redact('mail a.b+c@mail.example.co.uk now')).toBe('mail [REDACTED:email] now')
    expect(redact('sk-ant-api03-abcdefghijklmnop1234 and sk-proj-ABCDEFGHIJKLMNOPQRST')).toBe('[REDACTED:key] and [REDACTED:key]')
    expect(redact('AKIAIOSFODNN7EXAMPLE')).toBe('[REDACTED:key]')
    expect(redact('Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345')).toBe('Authorization: [REDACTED:key]')
    expect(redact('card 4111-1111-1111-1111 or 5500 0000 0000 0004')).toBe('card [REDACTED:card] or [REDACTED:card]')
    expect(redact('also 4111.1111.1111.1111 and 4111\t1111\t1111\t1111')).toBe('also [REDACTED:card] and [REDACTED:card]')
    expect(redact('order 1234567890123 total')).toBe('order 1234567890123 total')
    expect(redact('see internal-wiki page')).toBe('see [REDACTED:custom] page')
  })
})

describe('content capture shapes', () => {
  const cap = createContentCapture(createRedactor([]), 1000)
  it('maps Anthropic messages with tool use and results to GenAI parts', () => {
    const a: Attributes = {}
    cap.input('messages', {
      model: 'claude', system: 'Be terse.',
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'tu1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: 'sunny' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
      ],
    }, a)
    expect(JSON.parse(a['gen_ai.system_instructions'] as string)).toEqual([{ type: 'text', content: 'Be terse.' }])
    expect(JSON.parse(a['gen_ai.input.messages'] as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'weather?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'tu1', name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'user', parts: [{ type: 'tool_call_response', id: 'tu1', response: 'sunny' }, { type: 'blob', modality: 'image', mime_type: 'image/png' }] },
    ])
    expect(a['gen_ai.input.messages']).not.toContain('AAAA')
  })
  it('maps an OpenAI tool-call answer to output messages, its arguments parsed (a broken one stays a string)', () => {
    const a: Attributes = {}
    cap.output('chat', Buffer.from(JSON.stringify({ choices: [{ message: { role: 'assistant', content: null, tool_calls: [
      { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"to":"bob@example.org","n":[1,2]}' } },
      { id: 'c2', type: 'function', function: { name: 'g', arguments: '{"cut off' } },
    ] }, finish_reason: 'tool_calls' }] })), a)
    expect(JSON.parse(a['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', parts: [
      // Strings inside the arguments are redacted like any captured text.
      { type: 'tool_call', id: 'c1', name: 'f', arguments: { to: '[REDACTED:email]', n: [1, 2] } },
      { type: 'tool_call', id: 'c2', name: 'g', arguments: '{"cut off' },
    ], finish_reason: 'tool_calls' }])
  })
  it('Anthropic thinking blocks are reasoning parts with their text', () => {
    const a: Attributes = {}
    cap.output('messages', Buffer.from(JSON.stringify({ type: 'message', role: 'assistant', stop_reason: 'end_turn', content: [
      { type: 'thinking', thinking: 'Let me think.', signature: 'sig' }, { type: 'redacted_thinking', data: 'enc' }, { type: 'text', text: 'Done.' },
    ] })), a)
    expect(JSON.parse(a['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', parts: [
      { type: 'reasoning', content: 'Let me think.' }, { type: 'redacted_thinking' }, { type: 'text', content: 'Done.' },
    ], finish_reason: 'end_turn' }])
  })
  it('media keep their modality: URLs as uri parts, file ids as file parts, inline data as blob parts without the bytes', () => {
    const a: Attributes = {}
    cap.input('chat', { messages: [{ role: 'user', content: [
      { type: 'image_url', image_url: { url: 'https://example.org/cat.png' } },
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AAAA' } },
      { type: 'input_audio', input_audio: { data: 'UklGRg', format: 'wav' } },
      { type: 'file', file: { file_id: 'file-1' } },
      { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0', filename: 'a.pdf' } },
    ] }] }, a)
    expect(JSON.parse(a['gen_ai.input.messages'] as string)[0].parts).toEqual([
      { type: 'uri', modality: 'image', uri: 'https://example.org/cat.png' },
      { type: 'blob', modality: 'image', mime_type: 'image/jpeg' },
      { type: 'blob', modality: 'audio', mime_type: 'audio/wav' },
      { type: 'file', modality: 'document', file_id: 'file-1' },
      { type: 'blob', modality: 'document', mime_type: 'application/pdf' },
    ])
    const r: Attributes = {}
    cap.input('responses', { input: [{ role: 'user', content: [
      { type: 'input_text', text: 'look' }, { type: 'input_image', file_id: 'file-2' }, { type: 'input_file', file_url: 'https://example.org/a.pdf' },
    ] }] }, r)
    expect(JSON.parse(r['gen_ai.input.messages'] as string)[0].parts).toEqual([
      { type: 'text', content: 'look' }, { type: 'file', modality: 'image', file_id: 'file-2' }, { type: 'uri', modality: 'document', uri: 'https://example.org/a.pdf' },
    ])
    const m: Attributes = {}
    cap.input('messages', { messages: [{ role: 'user', content: [
      { type: 'image', source: { type: 'url', url: 'https://example.org/b.png' } },
      { type: 'document', source: { type: 'file', file_id: 'file_3' } },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
    ] }] }, m)
    expect(JSON.parse(m['gen_ai.input.messages'] as string)[0].parts).toEqual([
      { type: 'uri', modality: 'image', uri: 'https://example.org/b.png' },
      { type: 'file', modality: 'document', file_id: 'file_3' },
      { type: 'blob', modality: 'document', mime_type: 'text/plain' },
    ])
  })
  it('a Responses answer is one output message with every item\'s parts and a finish reason', () => {
    const out = (body: Record<string, unknown>) => {
      const a: Attributes = {}
      cap.output('responses', Buffer.from(JSON.stringify({ object: 'response', ...body })), a)
      return JSON.parse(a['gen_ai.output.messages'] as string) as unknown[]
    }
    const reasoning = { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thought about it.' }] }
    const message = { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi.', annotations: [] }] }
    expect(out({ status: 'completed', output: [reasoning, message] })).toEqual([
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'Thought about it.' }, { type: 'text', content: 'Hi.' }], finish_reason: 'stop' },
    ])
    expect(out({ status: 'completed', output: [{ type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}' }] })).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'f', arguments: { a: 1 } }], finish_reason: 'tool_call' },
    ])
    expect(out({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [message] })[0]).toMatchObject({ finish_reason: 'length' })
    expect(out({ status: 'incomplete', incomplete_details: { reason: 'content_filter' }, output: [] })[0]).toMatchObject({ finish_reason: 'content_filter' })
  })
})

describe('GenAI names', () => {
  it('maps operations and provider types to the conventions', () => {
    expect([OPERATION_NAME.chat, OPERATION_NAME.responses, OPERATION_NAME.messages, OPERATION_NAME.completions, OPERATION_NAME.embeddings]).toEqual(['chat', 'chat', 'chat', 'text_completion', 'embeddings'])
    const m = providerNameByConfigName({ a: { type: 'openai' }, b: { type: 'azure' }, c: { type: 'anthropic' }, d: { type: 'gemini' }, e: { type: 'bedrock' }, f: { type: 'openai-compatible' } })
    expect([...m.values()]).toEqual(['openai', 'azure.ai.openai', 'anthropic', 'gcp.gemini', 'aws.bedrock', 'openai'])
  })
  it('reads request parameters and server addresses', () => {
    const a: Attributes = {}
    requestAttributes({ max_completion_tokens: 100, temperature: 0, top_p: 1, stop: 'END', seed: 7 }, a)
    expect(a).toEqual({ 'gen_ai.request.max_tokens': 100, 'gen_ai.request.temperature': 0, 'gen_ai.request.top_p': 1, 'gen_ai.request.stop_sequences': ['END'], 'gen_ai.request.seed': 7 })
    const out = (body: Record<string, unknown>) => { const x: Attributes = {}; requestAttributes(body as never, x); return x['gen_ai.output.type'] }
    expect(out({ response_format: { type: 'json_object' } })).toBe('json')
    expect(out({ text: { format: { type: 'json_schema', name: 'x', schema: {} } } })).toBe('json')
    expect(out({ output_config: { format: { type: 'json_schema', schema: {} } } })).toBe('json')
    expect(out({ output_format: { type: 'json_schema', schema: {} } })).toBe('json')
    expect(out({ text: { format: { type: 'text' } } })).toBe('text')
    expect(out({ modalities: ['text', 'audio'] })).toBe('speech')
    expect(out({ text: { verbosity: 'low' } })).toBeUndefined()
    expect(out({})).toBeUndefined()
    const s: Attributes = {}
    serverAddress('https://api.openai.com', s)
    expect(s).toEqual({ 'server.address': 'api.openai.com', 'server.port': 443 })
    const v6: Attributes = {}
    serverAddress('http://[::1]:8080/v1', v6)
    expect(v6).toEqual({ 'server.address': '::1', 'server.port': 8080 })
  })
})

describe('trace export settings', () => {
  const telemetry = configSchema.parse({}).telemetry
  it('is off without an endpoint, and follows config then the OTEL_* variables', () => {
    expect(traceExportSettings(telemetry, {})).toBeUndefined()
    expect(traceExportSettings({ ...telemetry, otlp_endpoint: 'http://c:4318/' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:1' })?.url).toBe('http://c:4318/v1/traces')
    expect(traceExportSettings(telemetry, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' })?.url).toBe('http://x:4318/v1/traces')
    expect(traceExportSettings(telemetry, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://y/traces' })?.url).toBe('http://y/traces')
    expect(traceExportSettings(telemetry, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined()
    const s = traceExportSettings(telemetry, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_SERVICE_NAME: 'gw-eu', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%3Db,x=y' })
    expect(s).toMatchObject({ url: 'http://x:4317', protocol: 'grpc', serviceName: 'gw-eu', headers: { 'api-key': 'a=b', x: 'y' } })
  })
})
