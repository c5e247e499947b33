/**
 * Native pass-through of OpenAI-type streams: every event goes to the client as the vendor's exact
 * bytes. Only events carrying usage are parsed; the usage chunk we asked for is dropped when the
 * client did not ask for it, and `[DONE]` is left to the pipeline (it always sends one at the end).
 */
import type { AttemptInput, StreamFrame, StreamOptions, StreamTranslator } from '../types.ts'
import type { Usage } from '../../core/usage.ts'
import { isObject } from '../../core/json.ts'
import { finishReasonsIn, usageFromBody } from './usage-sniff.ts'

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
  return {
    push(event): StreamFrame[] {
      // Tests run on the bytes: most events are forwarded without being decoded at all.
      const raw = event.raw
      if (raw.length < 32 && event.data === '[DONE]') return []
      if (!isResponses && raw.includes(FINISH_REASON)) finishReasonsIn(event.data, finish)
      if (raw.includes(USAGE) || (isResponses && raw.includes(RESPONSE_COMPLETED))) {
        const data = event.data
        let parsed: unknown
        try { parsed = JSON.parse(data) } catch { return [{ kind: 'raw', bytes: event.raw }] }
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
      return [{ kind: 'raw', bytes: event.raw }]
    },
    end: () => [],
    usage: () => usage,
    error: () => undefined,
    responseModel: () => model,
    responseId: () => id,
    finishReasons: () => (isResponses && finish.length === 0 && usage ? ['stop'] : finish),
  }
}
