/**
 * Token counts from tiktoken (o200k_base), computed in a worker thread that starts on first need
 * and stops once idle. Building the encoder takes 200-500 ms of CPU and tens of MB of resident
 * memory (an idle gateway's peak RSS was 195 MB with it built at start-up, 140 MB without), and
 * the gateway needs it only to estimate a call its vendor reported no usage for (a cut stream, a
 * client that left). In the main thread it stalled the event loop once and then stayed resident
 * for the life of the process; in a worker the build never blocks a request and the memory goes
 * back when the worker exits.
 */
import { Worker } from 'node:worker_threads'

export interface TokenCounter {
  /** Tokens in each text, in order. Rejects when the tokenizer cannot load. */
  count(texts: readonly string[]): Promise<number[]>
  /** Whether the worker is alive (tests, diagnostics). */
  running(): boolean
  close(): Promise<void>
}

interface Pending { resolve(counts: number[]): void; reject(err: Error): void }

const WORKER_URL = new URL('./token-worker.ts', import.meta.url)

export function createTokenCounter(opts: { idleMs?: number } = {}): TokenCounter {
  const idleMs = opts.idleMs ?? 60_000
  let worker: Worker | undefined
  let idleTimer: NodeJS.Timeout | undefined
  let nextId = 0
  const pending = new Map<number, Pending>()

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }

  /** No request in flight: the worker no longer keeps the process alive, and leaves after idleMs. */
  const idle = (w: Worker) => {
    w.unref()
    clearTimeout(idleTimer)
    idleTimer = setTimeout(() => {
      if (worker === w && pending.size === 0) {
        worker = undefined
        void w.terminate()
      }
    }, idleMs)
    idleTimer.unref()
  }

  const start = (): Worker => {
    const w = new Worker(WORKER_URL)
    w.on('message', (m: { id: number; counts?: number[]; error?: string }) => {
      const p = pending.get(m.id)
      if (!p) return
      pending.delete(m.id)
      if (m.counts) p.resolve(m.counts)
      else p.reject(new Error(`token counting failed: ${m.error}`))
      if (pending.size === 0) idle(w)
    })
    w.on('error', (err) => {
      if (worker === w) worker = undefined
      failAll(err)
    })
    w.on('exit', (code) => {
      if (worker === w) worker = undefined
      if (pending.size > 0) failAll(new Error(`the tokenizer thread exited (code ${code})`))
    })
    return w
  }

  return {
    count(texts) {
      const w = (worker ??= start())
      clearTimeout(idleTimer)
      // A request in flight keeps the process up until it is answered (shutdown flushes the ledger).
      w.ref()
      const id = nextId++
      return new Promise<number[]>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        w.postMessage({ id, texts })
      })
    },
    running: () => worker !== undefined,
    async close() {
      clearTimeout(idleTimer)
      const w = worker
      worker = undefined
      if (w) await w.terminate()
      failAll(new Error('the token counter is closed'))
    },
  }
}
