import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../../src/core/json.ts'
import { mayHoldGatewayItems, withoutGatewayItems } from '../../../src/ingress/responses/native-input.ts'

const RESP = 'sb0123456789abcdef0123456789abcdef'

describe('Responses input for a native target', () => {
  it('is left alone (not even parsed) when no gateway item can be in it', () => {
    expect(mayHoldGatewayItems(Buffer.from(JSON.stringify({ model: 'm', input: [{ id: 'rs_68af', type: 'reasoning', encrypted_content: 'gAAAAB' }] })))).toBe(false)
    expect(mayHoldGatewayItems(Buffer.from('{"input":[{"encrypted_content":"sbr1.W3"}]}'))).toBe(true)
    expect(mayHoldGatewayItems(Buffer.from(`{"input":[{"id":"fc_${RESP}_1"}]}`))).toBe(true)
  })

  it("drops the gateway's reasoning items and removes its ids; everything else stays as it was", () => {
    const body: JsonObject = {
      model: 'gpt', store: false, input: [
        { role: 'user', content: 'my_sbin is here' },
        { id: `rs_${RESP}_0`, type: 'reasoning', summary: [{ type: 'summary_text', text: 'plan' }], encrypted_content: 'sbr1.W3t9XQ' },
        { type: 'reasoning', summary: [], encrypted_content: 'sbr1.W3t9XQ' },
        { id: `rs_${RESP}_0`, type: 'reasoning', summary: [{ type: 'summary_text', text: 'no signature' }] },
        { id: 'rs_openai', type: 'reasoning', summary: [], encrypted_content: 'gAAAAB' },
        { id: `msg_${RESP}_1`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi', annotations: [] }] },
        { id: `fc_${RESP}_2`, type: 'function_call', call_id: 'toolu_1', name: 'f', arguments: '{}' },
        { id: 'fc_not_ours_sb', type: 'function_call', call_id: 'call_2', name: 'f', arguments: '{}' },
      ],
    }
    expect(withoutGatewayItems(body)).toEqual({
      model: 'gpt', store: false, input: [
        { role: 'user', content: 'my_sbin is here' },
        { id: 'rs_openai', type: 'reasoning', summary: [], encrypted_content: 'gAAAAB' },
        { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi', annotations: [] }] },
        { type: 'function_call', call_id: 'toolu_1', name: 'f', arguments: '{}' },
        { id: 'fc_not_ours_sb', type: 'function_call', call_id: 'call_2', name: 'f', arguments: '{}' },
      ],
    })
    expect(body.input).toHaveLength(8) // never mutated
  })

  it('undefined when there was nothing to change (the client bytes go as they are)', () => {
    expect(withoutGatewayItems({ model: 'gpt', input: [{ role: 'user', content: 'a _sb b' }] })).toBeUndefined()
    expect(withoutGatewayItems({ model: 'gpt', input: 'text with sbr1. in it' })).toBeUndefined()
  })
})
