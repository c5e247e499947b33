/**
 * Edits to a JSON object made in its bytes, so a client body that only needs its model swapped
 * (and, for streams, `stream_options` added) goes upstream as the client's own bytes: nothing
 * re-serialized, reordered or reformatted. Re-serializing costs as much as parsing (~50 µs for a
 * 110 KB agent body, measured); finding the member costs two native byte searches.
 *
 * Each function expects bytes that JSON.parse already accepted as an object, and returns
 * undefined whenever it cannot be certain, so the caller falls back to serializing the parsed body.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const COLON = 0x3a

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/** True when the quote at `at` is escaped: an odd run of backslashes right before it. */
function escaped(b: Uint8Array, at: number): boolean {
  let k = at - 1
  while (k >= 0 && b[k] === BACKSLASH) k--
  return ((at - 1 - k) & 1) === 1
}

/** Index just past the string whose opening quote is at `at`, or -1 when it does not close. */
function stringEnd(b: Buffer, at: number): number {
  let from = at + 1
  for (;;) {
    const q = b.indexOf(QUOTE, from)
    if (q === -1) return -1
    if (!escaped(b, q)) return q + 1
    from = q + 1
  }
}

/**
 * A key spelled with escapes (`"mod\u0065l"`) would hide from a byte search. JSON spells an ASCII
 * character as `\u00XY`, so a body holding `\u00X` for the X of any of the key's characters takes
 * the slow path (for `model`, `\u006`: a serializer escaping plain letters is rare; HTML-safe
 * escapes such as Go's `\u003c` and non-ASCII ones such as `\u00e9` do not match).
 */
interface KeyNeedles {
  /** `"key"` as bytes: searching with a Buffer skips converting a string needle on every call. */
  name: Buffer
  /** The `\u00X` escape prefixes that could spell one of the key's characters. */
  escapes: Buffer[]
}

// Keys are the callers' constants (`model`): a handful of entries at most.
const needles = new Map<string, KeyNeedles>()
function needlesFor(key: string): KeyNeedles {
  let n = needles.get(key)
  if (!n) {
    const escapes = new Set<string>()
    for (let i = 0; i < key.length; i++) escapes.add(`\\u00${(key.charCodeAt(i) >> 4).toString(16)}`)
    n = { name: Buffer.from(`"${key}"`), escapes: [...escapes].map((e) => Buffer.from(e)) }
    needles.set(key, n)
  }
  return n
}

/**
 * The byte range of the value of the top-level member `key`, when the body has exactly one member
 * of that name at any depth (the top-level one, which it must have). Undefined otherwise: the key
 * also names a nested member (a tool schema's `model` property), may be spelled with escapes, or
 * the bytes are not as expected.
 */
export function soleMemberValue(b: Buffer, key: string): { start: number; end: number } | undefined {
  const { name, escapes } = needlesFor(key)
  for (const e of escapes) if (b.indexOf(e) !== -1) return undefined
  let found: { start: number; end: number } | undefined
  for (let at = b.indexOf(name); at !== -1; at = b.indexOf(name, at + name.length)) {
    // `"model"` inside a string has its first quote escaped (`\"model"` ends a string like `x\"model`).
    if (escaped(b, at)) continue
    let i = at + name.length
    while (isSpace(b[i])) i++
    // A string that is not followed by a colon is a value, not a member name.
    if (b[i] !== COLON) continue
    if (found) return undefined
    i++
    while (isSpace(b[i])) i++
    const start = i
    const end = b[i] === QUOTE ? stringEnd(b, i) : -1
    if (end === -1) return undefined
    found = { start, end }
  }
  return found
}

/**
 * `b` with the top-level string member `key` set to `value` and, when given, `prepend` (one or more
 * `"name":value,` members, trailing comma included) added as the object's first members.
 * Undefined when the member cannot be located with certainty (see soleMemberValue).
 */
export function spliceTopLevel(b: Buffer, key: string, value: string, prepend?: Buffer): Buffer | undefined {
  const range = soleMemberValue(b, key)
  if (!range) return undefined
  let open = 0
  while (isSpace(b[open])) open++
  if (b[open] !== OPEN_BRACE) return undefined
  const json = JSON.stringify(value)
  const extra = prepend ? prepend.length : 0
  // One allocation (small ones come from Node's pool) and plain copies: no views, no concat.
  const out = Buffer.allocUnsafe(b.length - (range.end - range.start) + Buffer.byteLength(json) + extra)
  let at = 0
  if (prepend) {
    at += b.copy(out, at, 0, open + 1)
    at += prepend.copy(out, at)
    at += b.copy(out, at, open + 1, range.start)
  } else {
    at += b.copy(out, at, 0, range.start)
  }
  at += out.write(json, at)
  b.copy(out, at, range.end)
  return out
}

/** The body with its top-level `model` set to `model`: `b` itself when nothing changes, else spliced. */
export function withModel(b: Buffer, current: unknown, model: string, prepend?: Buffer): Buffer | undefined {
  if (prepend === undefined && current === model) return b
  return spliceTopLevel(b, 'model', model, prepend)
}
