/**
 * Native pass-through of OpenAI-type streams: every event goes to the client as the vendor's exact
 * bytes. Only events carrying usage are parsed; the usage chunk we asked for is dropped when the
 * client did not ask for it, and `[DONE]` is left to the pipeline (it always sends one at the end).
 * An error event is the one exception to the exact bytes: a vendor may echo the key it was sent in
 * it, so it is scrubbed (providers/secrets.ts, core/scrub.ts) before it is forwarded.
 */
import type { AttemptInput, ProviderError, StreamFrame, StreamOptions, StreamTranslator } from '../types.ts'
import type { StreamEvent } from '../../upstream/types.ts'
import type { Usage } from '../../core/usage.ts'
import { isObject } from '../../core/json.ts'
import { scrubJsonStrings, scrubSecrets } from '../../core/scrub.ts'
import { vendorSecrets } from '../secrets.ts'
import { finishReasonsIn, usageFromBody } from './usage-sniff.ts'
import { parseOpenAIError } from './errors.ts'

// Needles as bytes, made once: Buffer#includes with a string needle converts it on every call,
// which showed as a fifth of a streamed request's CPU. They start after the key's opening quote:
// a needle that starts with `"` (JSON's commonest byte) is searched about three times slower
// (~185 ns against ~60 ns per 180-byte event, measured). A rare false match (`xusage":{`) only
// costs a parse; the parse decides.
const FINISH_REASON = Buffer.from('finish_reason":"')
const USAGE = Buffer.from('usage":{')
const RESPONSE_COMPLETED = Buffer.from('"response.completed"')

export function openAIStreamTranslator(input: AttemptInput, opts: StreamOptions): StreamTranslator {
  let usage: Usage | undefined
  let model: string | undefined
  let id: string | undefined
  const finish: string[] = []
  const isResponses = input.operation === 'responses'
  // Whether an event went to the client yet, and the error of a stream that began with one.
  let forwarded = false
  let failed: ProviderError | undefined
  return {
    push(event): StreamFrame[] {
      // Tests run on the bytes: most events are forwarded without being decoded at all.
      const raw = event.raw
      if (raw.length < 32 && event.data === '[DONE]') return []
      const errorEvent = isErrorEvent(raw)
      // A stream that opens with an error (OpenRouter, vLLM and LiteLLM-style servers answer 200
      // and put the failure in the first event) has sent the client nothing: it is this attempt's
      // failure, retried or fallen back like a vendor error status, as an Anthropic `error` event is.
      if (errorEvent && !forwarded) {
        failed = streamOpeningError(event.data)
        return []
      }
      forwarded = true
      const bytes = errorEvent ? scrubbedEvent(event, vendorSecrets(input.provider, input.apiKey)) : raw
      if (!isResponses && raw.includes(FINISH_REASON)) finishReasonsIn(event.data, finish)
      if (raw.includes(USAGE) || (isResponses && raw.includes(RESPONSE_COMPLETED))) {
        const data = event.data
        let parsed: unknown
        try { parsed = JSON.parse(data) } catch { return [{ kind: 'raw', bytes }] }
        if (isObject(parsed)) {
          usage = usageFromBody(input.operation, parsed) ?? usage
          const holder = isResponses && isObject(parsed.response) ? parsed.response : parsed
          if (typeof holder.model === 'string') model = holder.model
          if (typeof holder.id === 'string') id = holder.id
          if (isResponses && isObject(parsed.response) && parsed.response.status === 'incomplete') finish.push('length')
          // The usage-only chunk has no choices; hide it unless the client asked for it.
          if (!opts.clientWantsUsage && !isResponses && Array.isArray(parsed.choices) && parsed.choices.length === 0) return []
        }
      }
      return [{ kind: 'raw', bytes }]
    },
    end: () => [],
    usage: () => usage,
    error: () => failed,
    responseModel: () => model,
    responseId: () => id,
    finishReasons: () => (isResponses && finish.length === 0 && usage ? ['stop'] : finish),
  }
}

// An error event, told by its first bytes: `event: error` or `event: response.failed` (Responses),
// or data whose object opens with `"error"` (OpenAI, vLLM) or with `"object": "error"` /
// `"type": "error"` (older vLLM). A normal chunk fails within its first dozen bytes (6-10 ns
// measured, against ~60 ns for one of the usage searches above); only an error event is decoded.
const EVENT_FIELD = Buffer.from('event:')
const ERROR_NAME = Buffer.from('error')
const FAILED_NAME = Buffer.from('response.failed')
const Q_ERROR = Buffer.from('"error"')
const Q_OBJECT = Buffer.from('"object"')
const Q_TYPE = Buffer.from('"type"')

function at(buf: Buffer, i: number, needle: Buffer): boolean {
  if (i + needle.length > buf.length) return false
  for (let k = 0; k < needle.length; k++) if (buf[i + k] !== needle[k]) return false
  return true
}

const blanks = (buf: Buffer, i: number): number => {
  while (buf[i] === 0x20 || buf[i] === 0x09) i++
  return i
}

export function isErrorEvent(raw: Buffer): boolean {
  const first = raw[0]
  if (first === 0x64) { // d: a data-first event (Chat Completions chunks); most fail at the key's first letter
    if (raw[1] !== 0x61 || raw[4] !== 0x3a || raw[2] !== 0x74 || raw[3] !== 0x61) return false
    let i = blanks(raw, 5)
    if (raw[i] !== 0x7b) return false
    i = blanks(raw, i + 1)
    const k = raw[i + 1]
    if (raw[i] !== 0x22 || (k !== 0x65 && k !== 0x6f && k !== 0x74)) return false // "e, "o, "t
    if (at(raw, i, Q_ERROR)) return true
    const key = at(raw, i, Q_OBJECT) ? Q_OBJECT : at(raw, i, Q_TYPE) ? Q_TYPE : undefined
    if (!key) return false
    i = blanks(raw, i + key.length)
    return raw[i] === 0x3a && at(raw, blanks(raw, i + 1), Q_ERROR)
  }
  if (first !== 0x65 || !at(raw, 0, EVENT_FIELD)) return false // e: a named event (Responses)
  const i = blanks(raw, EVENT_FIELD.length)
  const c = raw[i]
  if (c === 0x65) { // error
    const end = raw[i + ERROR_NAME.length]
    return at(raw, i, ERROR_NAME) && (end === 0x0a || end === 0x0d)
  }
  return c === 0x72 && raw[i + 9] === 0x66 && at(raw, i, FAILED_NAME) // response.failed
}

/** HTTP statuses for the error types and codes OpenAI-type servers put in an in-stream error. */
const STATUS_BY_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400, invalid_api_key: 401, authentication_error: 401, permission_error: 403,
  not_found_error: 404, rate_limit_exceeded: 429, rate_limit_error: 429, insufficient_quota: 429,
  overloaded_error: 529, server_error: 500, api_error: 500,
}

/**
 * The error of a stream's opening error event, classified as if the vendor had answered with its
 * status: a numeric `code` (OpenRouter's), else the status its type or code names, else 500 (the
 * vendor failed; nothing says the request was wrong). The pipeline scrubs it before any use.
 */
export function streamOpeningError(data: string): ProviderError {
  let status = 500
  try {
    const parsed: unknown = JSON.parse(data)
    const err = isObject(parsed) ? (isObject(parsed.error) ? parsed.error : parsed) : undefined
    if (err) {
      const named = [err.code, err.type].find((v): v is string => typeof v === 'string' && Object.hasOwn(STATUS_BY_TYPE, v))
      if (typeof err.code === 'number' && err.code >= 400 && err.code <= 599) status = err.code
      else if (named !== undefined) status = STATUS_BY_TYPE[named]!
    }
  } catch { /* not JSON: a server error whose text is the message */ }
  return parseOpenAIError(status, {}, Buffer.from(data))
}

/** The event with every string of its data scrubbed; its own bytes when there was nothing to scrub. */
function scrubbedEvent(event: StreamEvent, secrets: readonly (string | undefined)[]): Buffer {
  let parsed: unknown
  try {
    parsed = JSON.parse(event.data)
  } catch {
    const text = event.raw.toString('utf8')
    const scrubbed = scrubSecrets(text, secrets)
    return scrubbed === text ? event.raw : Buffer.from(scrubbed)
  }
  const { value, changed } = scrubJsonStrings(parsed, secrets)
  if (!changed) return event.raw
  // The event's other fields (event:, id:) as they were; the data as one line of re-encoded JSON.
  const fields = event.raw.toString('utf8').split(/\r?\n/).filter((l) => l !== '' && !l.startsWith('data'))
  return Buffer.from(`${fields.map((l) => `${l}\n`).join('')}data: ${JSON.stringify(value)}\n\n`)
}
