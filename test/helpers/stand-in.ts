/**
 * A vendor stand-in: a real HTTP server on 127.0.0.1:0 that records every request it receives and
 * answers with scripted handlers. Tests assert both what the client got and what the vendor saw.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
  /** The body's exact bytes. */
  raw: Buffer
  /** Parsed JSON body, or undefined. */
  json: Record<string, unknown> | undefined
  /** Resolves when the stand-in saw the client side of this request close before it finished. */
  aborted: Promise<void>
  wasAborted(): boolean
}

export type Handler = (req: Received, res: ServerResponse) => void | Promise<void>

export interface StandIn {
  url: string
  port: number
  received: Received[]
  /** Handlers used in order, one per request; when they run out, `fallback` answers. */
  queue: Handler[]
  fallback: Handler
  close(): Promise<void>
}

export async function startStandIn(fallback: Handler = openAIChat()): Promise<StandIn> {
  const received: Received[] = []
  const state: StandIn = { url: '', port: 0, received, queue: [], fallback, close: async () => {} }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    let aborted = false
    let resolveAbort: () => void = () => {}
    const abortedP = new Promise<void>((r) => (resolveAbort = r))
    res.on('close', () => {
      if (!res.writableFinished) {
        aborted = true
        resolveAbort()
      }
    })
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = raw.toString('utf8')
      let json: Record<string, unknown> | undefined
      try { json = JSON.parse(body) as Record<string, unknown> } catch { json = undefined }
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, raw, json, aborted: abortedP, wasAborted: () => aborted }
      received.push(r)
      const handler = state.queue.shift() ?? state.fallback
      void Promise.resolve(handler(r, res)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500)
        res.end(String(err))
      })
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  state.port = port
  state.url = `http://127.0.0.1:${port}`
  state.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  return state
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** SSE from a list of data payloads (objects are JSON-encoded), with an optional delay between events. */
export const sse = (events: Array<unknown>, opts: { delayMs?: number; done?: boolean; eventNames?: boolean } = {}): Handler => async (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const e of events) {
    if (res.destroyed) return
    const data = typeof e === 'string' ? e : JSON.stringify(e)
    const name = opts.eventNames && typeof e === 'object' && e !== null && 'type' in e ? `event: ${String((e as { type: unknown }).type)}\n` : ''
    res.write(`${name}data: ${data}\n\n`)
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs))
  }
  if (opts.done !== false) res.write('data: [DONE]\n\n')
  res.end()
}

export function chatCompletion(content: string, model = 'gpt-4o-mini', usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }) {
  return {
    id: 'chatcmpl-standin', object: 'chat.completion', created: 1_700_000_000, model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage,
  }
}

export function chatChunks(pieces: string[], model = 'gpt-4o-mini', usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }): unknown[] {
  const base = { id: 'chatcmpl-standin', object: 'chat.completion.chunk', created: 1_700_000_000, model }
  return [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...pieces.map((p) => ({ ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    { ...base, choices: [], usage },
  ]
}

/** An OpenAI-compatible vendor answering chat (stream or not) with fixed text. */
export function openAIChat(text = 'Hello from the stand-in'): Handler {
  return (req, res) => {
    if (req.json?.stream) return sse(chatChunks(text.split(/(?<= )/), String(req.json.model)))(req, res)
    return json(200, chatCompletion(text, String(req.json?.model ?? 'x')))(req, res)
  }
}
