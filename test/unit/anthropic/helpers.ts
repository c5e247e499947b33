import { readFileSync } from 'node:fs'
import type { ChatCompletionChunk, ReasoningDetail } from '../../../src/core/openai-chat.ts'
import type { OpenAIUsage } from '../../../src/core/usage.ts'
import type { AttemptInput, StreamFrame, StreamTranslator } from '../../../src/providers/types.ts'
import type { StreamEvent } from '../../../src/upstream/types.ts'
import type { JsonObject } from '../../../src/core/json.ts'

export const fixtureUrl = (name: string): URL => new URL(`../../fixtures/anthropic/${name}`, import.meta.url)

/** One recorded SSE payload line -> the StreamEvent the shared SSE parser would produce. */
export function eventFromLine(line: string): StreamEvent {
  const type = (JSON.parse(line) as { type: string }).type
  return { event: type, data: line, raw: Buffer.from(`event: ${type}\ndata: ${line}\n\n`) }
}

export function eventsFromText(text: string): StreamEvent[] {
  return text.split('\n').filter(l => l.trim() !== '').map(eventFromLine)
}

export const loadEvents = (name: string): StreamEvent[] => eventsFromText(readFileSync(fixtureUrl(name), 'utf8'))

export function run(translator: StreamTranslator, events: StreamEvent[]): StreamFrame[] {
  const frames: StreamFrame[] = []
  for (const e of events) frames.push(...translator.push(e))
  frames.push(...translator.end())
  return frames
}

export function chunksOf(frames: StreamFrame[]): ChatCompletionChunk[] {
  return frames.map(f => {
    if (f.kind !== 'chunk') throw new Error('expected only chunk frames')
    return f.chunk
  })
}

export interface Reassembled {
  roles: string[]
  content: string
  reasoning: string
  signatures: string[]
  details: ReasoningDetail[]
  toolCalls: Array<{ id: string; name: string; arguments: string }>
  finish: Array<string | null>
  usage: OpenAIUsage | null | undefined
  refusal: string | undefined
}

/** What an OpenAI client would rebuild from the chunks. */
export function reassemble(chunks: ChatCompletionChunk[]): Reassembled {
  const out: Reassembled = { roles: [], content: '', reasoning: '', signatures: [], details: [], toolCalls: [], finish: [], usage: undefined, refusal: undefined }
  for (const c of chunks) {
    if (c.usage) out.usage = c.usage
    for (const choice of c.choices) {
      const d = choice.delta
      if (d.role) out.roles.push(d.role)
      if (d.content) out.content += d.content
      if (d.reasoning_content) out.reasoning += d.reasoning_content
      if (typeof d.refusal === 'string') out.refusal = d.refusal
      for (const r of d.reasoning_details ?? []) {
        out.details.push(r)
        if (r.type === 'thinking' && r.signature) out.signatures.push(r.signature)
      }
      for (const t of d.tool_calls ?? []) {
        const call = out.toolCalls[t.index] ?? (out.toolCalls[t.index] = { id: '', name: '', arguments: '' })
        if (t.id) call.id = t.id
        if (t.function?.name) call.name = t.function.name
        if (t.function?.arguments) call.arguments += t.function.arguments
      }
      if (choice.finish_reason) out.finish.push(choice.finish_reason)
    }
  }
  return out
}

export function attempt(over: Partial<AttemptInput> & { body: JsonObject }): AttemptInput {
  return {
    operation: 'chat',
    rawBody: undefined,
    stream: false,
    maxOutputTokens: 4096,
    upstreamModel: 'claude-sonnet-4-5',
    provider: { name: 'anthropic', type: 'anthropic', baseUrl: 'https://api.anthropic.com', headers: {} },
    apiKey: 'sk-ant-test',
    clientHeaders: {},
    ...over,
  }
}
