/**
 * String.prototype must be in V8's fast property layout once the gateway has started, or every
 * string method call in optimized code becomes a hash-table lookup (see src/core/fast-prototypes.ts).
 * V8's own view (%HasFastProperties) needs --allow-natives-syntax, so this runs in a child process.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../..', import.meta.url))

const script = `
import { startTestGateway } from './test/helpers/gateway.ts'
const afterImports = %HasFastProperties(String.prototype)
const gw = await startTestGateway(\`
providers:
  mock: { type: mock }
models:
  demo:
    targets: [{ provider: mock, model: mock-1 }]
\`)
const afterStart = %HasFastProperties(String.prototype)
await gw.stop()
process.stdout.write(JSON.stringify({ afterImports, afterStart }))
`

describe('String.prototype after start-up', () => {
  it('is fast again although ioredis subclassed String while loading', () => {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
    const seen = JSON.parse(out) as { afterImports: boolean; afterStart: boolean }
    // The cause: loading the modules (ioredis's `class VerbatimString extends String`) leaves it in
    // dictionary mode. Should this turn true, the dependency changed and the workaround may go.
    expect(seen.afterImports).toBe(false)
    expect(seen.afterStart).toBe(true)
  })
})
