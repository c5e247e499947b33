/**
 * A cheap prompt-size estimate for reservations: about four characters per token over the text
 * the client sent. Reservations are settled to the vendor's real counts, so this only needs to be
 * fast and roughly right; it never tokenizes or parses on the request path.
 *
 * Base64 images are the exception to "characters are text": a 440 KB screenshot is about 1,600
 * tokens at the vendor but 100,000 by its length, so four of them were refused forever against a
 * 400,000 tpm limit. In a large body they are found with native byte searches (indexOf over the
 * client's bytes, no parse) and counted at IMAGE_TOKENS each instead of their length.
 */

/** Smaller bodies are estimated from their length alone: no image in them can move a limit much (at most ~7,400 tokens). */
export const MEDIA_SCAN_BYTES = 32 * 1024
/**
 * Tokens reserved per base64 image instead of its bytes: the most the vendors document for one
 * image at their largest size. Anthropic scales an image to at most ~1.15 megapixels, about 1,600
 * tokens (width x height / 750); OpenAI's gpt-4o and gpt-4.1 bill at most 1,445 (tiles) or 1,536
 * (patches); Gemini 258 per 768-pixel tile. Models that bill images at a multiple of that (gpt-4o-mini,
 * gpt-4.1-mini and -nano) are reserved short and settled to what the vendor reports.
 */
export const IMAGE_TOKENS = 1600
/** A `"data"` value shorter than this is not taken for media (a small image barely moves the estimate either way). */
const MIN_PAYLOAD = 1024
/** How far around a payload its media type is looked for. */
const NEAR = 256
/**
 * Candidates looked at per kind, at most: each costs a few native searches, and a body made of
 * nothing but `"data":"x",` must not cost more than its JSON parse. Vendors take at most a few
 * hundred images per request; past this the rest counts by its length, as before.
 */
const MAX_CANDIDATES = 1000

const DATA_URL = Buffer.from(';base64,')
const DATA_URL_START = Buffer.from('"data:')
const DATA_KEY = Buffer.from('"data":')
const IMAGE_TYPE = Buffer.from('"image/')
const IMAGE = Buffer.from('image/')
const QUOTE = 0x22
const BACKSLASH = 0x5c

export function estimatePromptTokens(raw: Buffer | undefined): number {
  if (!raw) return 0
  if (raw.length < MEDIA_SCAN_BYTES) return textTokens(raw.length)
  const media = base64Images(raw)
  return textTokens(raw.length - media.bytes) + media.images * IMAGE_TOKENS
}

// The JSON envelope (keys, quotes, roles) inflates the byte count by roughly a tenth.
const textTokens = (bytes: number): number => Math.ceil((bytes * 0.9) / 4)

/**
 * The base64 images in a client's JSON body, by the bytes of their payloads: data URLs whose type
 * is image/* (OpenAI image_url, Responses input_image), and `"data": "<base64>"` members of an
 * object that names an image/* type (Anthropic source.data, Gemini inline_data / inlineData).
 * Other media (PDFs, audio) stay counted by their length: their tokens do not follow from a count.
 * Base64 holds no quote, so each payload ends at the next one; a string inside a string (JSON text
 * a client sent as content, where the vendor bills every character) has escaped quotes and is left alone.
 */
export function base64Images(raw: Buffer): { bytes: number; images: number } {
  let bytes = 0
  let images = 0
  let seen = 0
  for (let at = raw.indexOf(DATA_URL); at !== -1 && seen++ < MAX_CANDIDATES; at = raw.indexOf(DATA_URL, at + 1)) {
    const start = at + DATA_URL.length
    const end = raw.indexOf(QUOTE, start)
    if (end === -1) break
    if (isImageDataUrl(raw, at)) {
      bytes += end - start
      images++
    }
    at = end
  }
  seen = 0
  for (let at = raw.indexOf(DATA_KEY); at !== -1 && seen++ < MAX_CANDIDATES; at = raw.indexOf(DATA_KEY, at + 1)) {
    let start = at + DATA_KEY.length
    // JSON may put whitespace after the colon (Python's json.dumps does).
    for (let n = 0; n < 8 && (raw[start] === 0x20 || raw[start] === 0x0a || raw[start] === 0x0d || raw[start] === 0x09); n++) start++
    if (raw[start] !== QUOTE) continue
    start++
    const end = raw.indexOf(QUOTE, start)
    if (end === -1) break
    if (end - start >= MIN_PAYLOAD && isBase64Start(raw, start) && namesImageType(raw, at, end)) {
      bytes += end - start
      images++
    }
    at = end
  }
  return { bytes, images }
}

/** Whether the `;base64,` at `at` ends the head of a JSON string that is a `data:image/...` URL. */
function isImageDataUrl(raw: Buffer, at: number): boolean {
  const from = Math.max(0, at - 128)
  const head = raw.subarray(from, at)
  const q = head.lastIndexOf(DATA_URL_START)
  if (q === -1 || head.indexOf(QUOTE, q + 1) !== -1) return false
  if (from + q > 0 && raw[from + q - 1] === BACKSLASH) return false
  return head.indexOf(IMAGE, q + DATA_URL_START.length) === q + DATA_URL_START.length
}

/** Whether the value starts like base64 (its first 64 bytes; the rest is not read). */
function isBase64Start(raw: Buffer, start: number): boolean {
  const end = Math.min(raw.length, start + 64)
  for (let i = start; i < end; i++) {
    const c = raw[i]!
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d || c === 0x2d || c === 0x5f
    if (!ok) return false
  }
  return true
}

/**
 * Whether the object holding the `"data"` member at `keyAt` (ending at `end`) names an image/* type
 * (`media_type`, `mime_type`, `mimeType`): looked for between the object's `{` and `}`, near the payload.
 */
function namesImageType(raw: Buffer, keyAt: number, end: number): boolean {
  const before = raw.subarray(Math.max(0, keyAt - NEAR), keyAt)
  const open = before.lastIndexOf(0x7b)
  if (open !== -1 && before.indexOf(IMAGE_TYPE, open) !== -1) return true
  const after = raw.subarray(end, Math.min(raw.length, end + NEAR))
  const close = after.indexOf(0x7d)
  return close !== -1 && after.subarray(0, close).indexOf(IMAGE_TYPE) !== -1
}
