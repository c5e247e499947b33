/**
 * The tokenizer's thread (see token-counter.ts): builds tiktoken's o200k_base tables once, then
 * answers { id, texts } with { id, counts }. Special-token strings in a client's text count as
 * the ordinary text they are, so no text can make counting fail.
 */
import { parentPort } from 'node:worker_threads'
import { get_encoding } from 'tiktoken'

const port = parentPort
if (!port) throw new Error('token-worker.ts runs as a worker thread')
const encoder = get_encoding('o200k_base')

port.on('message', (m: { id: number; texts: string[] }) => {
  try {
    port.postMessage({ id: m.id, counts: m.texts.map((t) => encoder.encode_ordinary(t).length) })
  } catch (err) {
    port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) })
  }
})
