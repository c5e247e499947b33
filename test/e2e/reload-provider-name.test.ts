/**
 * A provider added by a config reload gets its `gen_ai.provider.name` from its type, as the
 * providers known at start do; it used to be reported under its configured name (the map was
 * built once, at start).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.ts'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startOtlpReceiver, SPAN_KIND, type OtlpReceiver } from '../unit/telemetry/otlp-receiver.ts'

const KEY = 'sk-sb-reload-provider-name-1'

let otlp: OtlpReceiver
let gw: TestGateway | undefined

const yaml = (extra: string) => `
store: { url: "sqlite::memory:" }
providers:
  first: { type: mock }
${extra}
models:
  m: { targets: [{ provider: first, model: mock-1 }] }
${extra ? '  added: { targets: [{ provider: later, model: mock-1 }] }' : ''}
telemetry: { otlp_endpoint: "${otlp.url}" }
teams: { t: { keys: { k: { key: "${KEY}" } } } }
`

beforeAll(async () => {
  otlp = await startOtlpReceiver()
  gw = await startTestGateway(yaml(''), { OTEL_BSP_SCHEDULE_DELAY: '20' })
})
afterAll(async () => {
  await gw?.stop()
  await otlp?.close()
})

async function providerNameOf(model: string, runId: string): Promise<unknown> {
  const res = await fetch(`${gw!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-switchboard-run-id': runId },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  })
  expect(res.status).toBe(200)
  await res.text()
  const spans = await otlp.waitFor((all) => all.some((s) => s.kind === SPAN_KIND.SERVER && s.attributes['switchboard.run_id'] === runId))
  return spans.find((s) => s.kind === SPAN_KIND.SERVER && s.attributes['switchboard.run_id'] === runId)!.attributes['gen_ai.provider.name']
}

describe('gen_ai.provider.name after a reload', () => {
  it('names a provider the reload added by its type, like one known at start', async () => {
    expect(await providerNameOf('m', 'before')).toBe('switchboard.mock')
    expect((await gw!.reload(parseConfig(yaml('  later: { type: mock }'), 'test.yaml', {}))).applied).toBe(true)
    expect(await providerNameOf('added', 'after')).toBe('switchboard.mock')
  })
})
