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
 * settle/ledger code, never while a request waits. It runs on the event loop, so its work per
 * estimate is bounded whatever the client sent (see countTokens): tiktoken's BPE is quadratic in
 * the length of one pre-tokenizer piece, and a 150 KB run of one letter held the loop for 20 s.
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
      for (const t of texts) tokens += t.framing
      tokens += countTokens(enc, texts.map((t) => t.text))
      return { inputTokens: tokens, outputTokens: streamedOutput(outcome), cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }
    }, () => ({ inputTokens: call.estimatedInputTokens, outputTokens: streamedOutput(outcome), cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }))
    memo.set(outcome, p)
  }
  return p
}

/**
 * No encoder call sees more than this many characters, so no pre-tokenizer piece is longer: BPE
 * costs grow with the square of a piece's length (a run of one letter, of spaces, of '=', or CJK
 * text without spaces is one piece). A cut is placed at whitespace where there is some, where the
 * pre-tokenizer would split anyway, so ordinary text counts the same (measured within 0.5% on code).
 */
export const SEGMENT_CHARS = 64
/**
 * At most this many UTF-8 bytes of the prompt are tokenized per estimate (a few milliseconds,
 * measured: about 3 ms of code, 5 ms of base64, the slowest); a longer prompt is sampled in
 * SAMPLE_WINDOWS evenly spaced windows and its tokens per character applied to the whole.
 */
export const SAMPLE_BYTES = 16_384
const SAMPLE_WINDOWS = 32

/** Prompt tokens of these texts: exact when they fit in SAMPLE_BYTES, else extrapolated from a sample. */
export function countTokens(enc: Encoder, texts: readonly string[]): number {
  let chars = 0
  for (const t of texts) chars += t.length
  // A string has at least as many UTF-8 bytes as characters: only a short one needs its bytes counted.
  let bytes = chars
  if (chars <= SAMPLE_BYTES) for (const t of texts) bytes += Buffer.byteLength(t) - t.length
  if (bytes <= SAMPLE_BYTES) {
    let n = 0
    for (const t of texts) n += countRange(enc, t, 0, t.length, Number.POSITIVE_INFINITY).tokens
    return n
  }
  // Windows over the texts laid end to end; each takes whole segments until its share of bytes.
  const stride = chars / SAMPLE_WINDOWS
  const budget = SAMPLE_BYTES / SAMPLE_WINDOWS
  let tokens = 0
  let sampled = 0
  let i = 0
  let base = 0
  for (let w = 0; w < SAMPLE_WINDOWS; w++) {
    let from = Math.floor(w * stride)
    const to = Math.floor((w + 1) * stride)
    let left = budget
    while (from < to && left > 0) {
      while (base + texts[i]!.length <= from) base += texts[i++]!.length
      const t = texts[i]!
      const r = countRange(enc, t, from - base, Math.min(t.length, to - base), left)
      tokens += r.tokens
      sampled += r.chars
      left -= r.bytes
      from += r.chars
      if (r.chars === 0) break
    }
  }
  return sampled === 0 ? 0 : Math.round((tokens * chars) / sampled)
}

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 13

/**
 * Tokens of t[from, to), encoded SEGMENT_CHARS at most at a time, stopping before the encoded
 * UTF-8 bytes would pass `budget`; says how many characters and bytes it took.
 */
function countRange(enc: Encoder, t: string, from: number, to: number, budget: number): { tokens: number; chars: number; bytes: number } {
  let tokens = 0
  let bytes = 0
  let s = from
  while (s < to) {
    let e = Math.min(to, s + SEGMENT_CHARS)
    if (e < to) {
      let j = e
      while (j > s + SEGMENT_CHARS / 2 && !isSpace(t.charCodeAt(j))) j--
      if (j > s + SEGMENT_CHARS / 2) e = j
      // Never between the halves of a surrogate pair (each half alone would count as U+FFFD).
      else if ((t.charCodeAt(e - 1) & 0xfc00) === 0xd800) e--
    }
    const piece = t.slice(s, e)
    const size = Buffer.byteLength(piece)
    if (bytes + size > budget) break
    bytes += size
    // encode_ordinary: a client's text that spells a special token (<|endoftext|>) is counted as the
    // ordinary text it is; encode() throws on it, and the whole estimate failed.
    tokens += enc.encode_ordinary(piece).length
    s = e
  }
  return { tokens, chars: s - from, bytes }
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
