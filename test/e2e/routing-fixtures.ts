/** Shared bits of the routing end-to-end tests: raw chat calls and the access-log record of a request. */
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startStandIn, type Handler, type StandIn } from '../helpers/stand-in.ts'

export async function chat(gw: TestGateway, model: string, opts: { stream?: boolean; headers?: Record<string, string>; content?: string } = {}) {
  const t0 = performance.now()
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify({ model, stream: opts.stream ?? false, messages: [{ role: 'user', content: opts.content ?? 'hi' }] }),
  })
  const text = await res.text()
  let body: { error?: { code?: string; message?: string; type?: string }; choices?: Array<{ message: { content: string } }> } = {}
  try { body = JSON.parse(text) as typeof body } catch { /* a stream */ }
  return {
    status: res.status,
    body,
    text,
    ms: performance.now() - t0,
    h: (name: string) => res.headers.get(name),
  }
}

/** The access-log line of a request: attempts and the failed ones, as recorded in CallOutcome.attempts. */
export async function accessLine(gw: TestGateway, requestId: string): Promise<{ attempts: number; status: number; provider?: string; failedAttempts?: Array<{ provider: string; model: string; status?: number; error: string }> }> {
  for (let i = 0; i < 50; i++) {
    for (const l of gw.logs) {
      if (!l.includes(requestId)) continue
      const o = JSON.parse(l) as Record<string, unknown>
      if (o.requestId === requestId && typeof o.attempts === 'number') return o as never
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`no access-log line for ${requestId}`)
}

/** Two vendor stand-ins behind one gateway: providers `a` and `b`, OpenAI-compatible, no keys. */
export interface TwoVendors {
  A: StandIn
  B: StandIn
  gw: TestGateway
  /** Empties both stand-ins' handler queues and request logs (before each test). */
  reset(): void
  close(): Promise<void>
}

/** A keyless gateway config with providers `a` and `b` at the two stand-ins, then `rest` (models, routing). */
export const twoVendorConfig = (A: StandIn, B: StandIn, rest: string): string => `
server: { auth: none }
store: { url: "sqlite::memory:" }
providers:
  a: { type: openai-compatible, base_url: ${A.url}/v1 }
  b: { type: openai-compatible, base_url: ${B.url}/v1 }
${rest}`

/** Starts them; `config` is the rest of the gateway config (models, routing). */
export async function startTwoVendors(a: Handler | undefined, b: Handler | undefined, config: string): Promise<TwoVendors> {
  const A = await startStandIn(a)
  const B = await startStandIn(b)
  const gw = await startTestGateway(twoVendorConfig(A, B, config))
  return {
    A, B, gw,
    reset() {
      for (const s of [A, B]) {
        s.queue.length = 0
        s.received.length = 0
      }
    },
    async close() {
      await gw.stop()
      await Promise.all([A.close(), B.close()])
    },
  }
}
