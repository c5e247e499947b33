/**
 * SDKs are loaded only when used: the OpenTelemetry trace SDK and exporters only with tracing on,
 * the AWS signing libraries only on a first Bedrock signature. A child process records the
 * packages it resolves; the run with an OTLP endpoint is the control that proves the probe sees an
 * import.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const GATEWAY = new URL('../../src/gateway.ts', import.meta.url).href
const LOAD = new URL('../../src/config/load.ts', import.meta.url).href
const LOGGER = new URL('../../src/telemetry/logger.ts', import.meta.url).href
const dir = mkdtempSync(join(tmpdir(), 'sb-lazy-sdk-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Starts and stops the gateway with `telemetry`, and returns the OTel and AWS packages it resolved. */
async function packagesLoaded(telemetry: string): Promise<string[]> {
  const script = join(dir, `probe-${Math.random().toString(36).slice(2)}.mjs`)
  writeFileSync(script, `
import { registerHooks } from 'node:module'
const seen = new Set()
registerHooks({ resolve(specifier, context, next) {
  const m = /^@(opentelemetry|smithy|aws-crypto)\\/[^/]+/.exec(specifier)
  if (m) seen.add(m[0])
  return next(specifier, context)
} })
const { parseConfig } = await import(${JSON.stringify(LOAD)})
const { startGateway } = await import(${JSON.stringify(GATEWAY)})
const { createLogger } = await import(${JSON.stringify(LOGGER)})
const yaml = 'store: { url: "sqlite::memory:" }\\nlogging: { level: silent }\\nmodels: { demo: { targets: [{ provider: mock, model: demo }] } }\\nproviders: { mock: { type: mock } }\\ntelemetry: ${telemetry}\\n'
const loaded = parseConfig(yaml, 'probe.yaml', {})
const gw = await startGateway({ loaded, log: createLogger('silent'), env: {}, port: 0, host: '127.0.0.1' })
await gw.shutdown(1000)
process.stdout.write(JSON.stringify([...seen].sort()))
`)
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 30_000 })
  return JSON.parse(stdout) as string[]
}

describe('SDKs are loaded only when used', () => {
  it('without an OTLP endpoint or a Bedrock call the gateway imports neither the trace SDK nor the AWS libraries', async () => {
    const loaded = await packagesLoaded('{ metrics: true }')
    expect(loaded).not.toContain('@opentelemetry/sdk-trace')
    expect(loaded).not.toContain('@opentelemetry/otlp-exporter-base')
    expect(loaded).not.toContain('@opentelemetry/resources')
    expect(loaded.filter((p) => p.startsWith('@smithy/') || p.startsWith('@aws-crypto/'))).toEqual([])
  })

  it('with an endpoint it does (the control: the probe sees the import)', async () => {
    const loaded = await packagesLoaded('{ metrics: true, otlp_endpoint: "http://127.0.0.1:9" }')
    expect(loaded).toContain('@opentelemetry/sdk-trace')
    expect(loaded).toContain('@opentelemetry/otlp-exporter-base')
  })
})
