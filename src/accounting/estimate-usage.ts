/**
 * Usage the gateway counts itself when the vendor reported none: a stream cut before its usage
 * event, or a client that left mid-call (the gateway then aborts upstream, so no usage arrives).
 *
 * What is counted: the prompt, with tiktoken (o200k_base) over the text the client sent (message
 * contents, system, prompt/input, tool definitions) plus OpenAI's per-message framing; and the
 * output already streamed, from the number of vendor events relayed (see streamedOutput), since the
 * gateway relays frames without keeping their text. Such records carry `estimated: true`. See docs/costs.md.
 *
 * The encoder is loaded lazily on first use (about half a second once, then cached) and only from
 * settle/ledger code, never while a request waits.
 */
import type { CallInfo, CallOutcome } from '../core/call.ts'
import type { Usage } from '../core/usage.ts'

interface Encoder { encode_ordinary(text: string): { length: number } }
let encoder: Promise<Encoder> | undefined

function loadEncoder(): Promise<Encoder> {
  encoder ??= import('tiktoken').then((m) => m.get_encoding('o200k_base'))
  return encoder
}

/**
 * Loads the encoder now. The CLI calls this right after start-up so the one-time load (hundreds
 * of milliseconds of CPU) never lands on the event loop while traffic is flowing.
 */
export function preloadEncoder(): Promise<void> {
  return loadEncoder().then(() => undefined)
}

/** Whether the call reached a vendor that would bill it, yet no usage came back. */
export function needsEstimate(outcome: CallOutcome): boolean {
  if (outcome.usage || outcome.cache === 'hit') return false
  const last = outcome.attempts.at(-1)
  if (!last) return false
  return last.status === undefined ? last.error === 'aborted' : last.status < 300
}

/**
 * Output of a cut stream, counted without keeping its text: one token per relayed vendor event
 * beyond the opening and closing ones. OpenAI-type vendors send about one token per chunk, so this
 * is close there; Anthropic and Gemini deltas can carry several, so it is a lower bound. Either
 * way an aborted stream is no longer free (it was billed as prompt only).
 */
function streamedOutput(outcome: CallOutcome): number {
  return outcome.streamedEvents === undefined ? 0 : Math.max(0, outcome.streamedEvents - 2)
}

const memo = new WeakMap<CallOutcome, Promise<Usage>>()

/** The estimate for one ended call; computed once and shared by the budget settle and the ledger. */
export function estimateUsage(call: CallInfo, outcome: CallOutcome): Promise<Usage> {
  let p = memo.get(outcome)
  if (!p) {
    const texts = promptTexts(call)
    p = loadEncoder().then((enc) => {
      let tokens = 3
      // encode_ordinary: a client's text that spells a special token (<|endoftext|>) is counted as the
      // ordinary text it is; encode() throws on it, and the whole estimate failed.
      for (const t of texts) tokens += t.framing + enc.encode_ordinary(t.text).length
      return { inputTokens: tokens, outputTokens: streamedOutput(outcome), cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }
    }, () => ({ inputTokens: call.estimatedInputTokens, outputTokens: streamedOutput(outcome), cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }))
    memo.set(outcome, p)
  }
  return p
}

/** The prompt's text pieces; the body is the client's parsed JSON, so every field is untrusted. */
function promptTexts(call: CallInfo): Array<{ text: string; framing: number }> {
  const out: Array<{ text: string; framing: number }> = []
  const body = call.body
  const push = (v: unknown, framing: number) => {
    const text = textOf(v)
    if (text) out.push({ text, framing })
  }
  if (Array.isArray(body.messages)) for (const m of body.messages) push(m, 3)
  push(body.system, 3)
  push(body.instructions, 3)
  push(body.prompt, 0)
  push(body.input, 0)
  if (body.tools !== undefined) out.push({ text: JSON.stringify(body.tools), framing: 0 })
  return out
}

function textOf(v: unknown, depth = 0): string {
  if (typeof v === 'string') return v
  if (depth > 6 || v === null || typeof v !== 'object') return ''
  if (Array.isArray(v)) return v.map((x) => textOf(x, depth + 1)).join('\n')
  const o = v as Record<string, unknown>
  const parts: string[] = []
  for (const k of ['content', 'text', 'input', 'arguments', 'thinking', 'output']) if (k in o) parts.push(textOf(o[k], depth + 1))
  if (Array.isArray(o.tool_calls)) parts.push(textOf(o.tool_calls.map((c: unknown) => (c && typeof c === 'object' ? (c as Record<string, unknown>).function : undefined)), depth + 1))
  if (o.function && typeof o.function === 'object') parts.push(textOf(o.function, depth + 1))
  return parts.filter(Boolean).join('\n')
}
