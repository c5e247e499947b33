/**
 * Cost in a stream: when an OpenAI-format client asked for usage (`stream_options.include_usage`),
 * the chunk that carries usage also carries `"switchboard":{"cost_usd":...}`, a top-level field
 * next to `usage` (OpenAI's usage object is typed by SDKs; an extra top-level field is ignored by
 * them and readable by anyone who looks). The chunk is not re-parsed: the field is spliced in
 * before the object's closing brace, on the serialized chunk or on the vendor's raw bytes.
 */
import type { StreamFrame } from '../providers/types.ts'

const USAGE_OBJECT = '"usage":{'
const CLOSE = 0x7d // '}'

/** The frame's bytes with the cost added, or undefined when the frame carries no usage. */
export function withStreamCost(f: StreamFrame, cost: () => number | null): Buffer | string | undefined {
  if (f.kind === 'chunk') {
    if (!f.chunk.usage) return undefined
    const c = cost()
    const json = JSON.stringify(f.chunk)
    return c === null ? `data: ${json}\n\n` : `data: ${json.slice(0, -1)},${costField(c)}}\n\n`
  }
  if (!f.bytes.includes(USAGE_OBJECT)) return undefined
  const c = cost()
  if (c === null) return undefined
  const at = f.bytes.lastIndexOf(CLOSE)
  if (at < 0) return undefined
  return Buffer.concat([f.bytes.subarray(0, at), Buffer.from(`,${costField(c)}`), f.bytes.subarray(at)])
}

const costField = (usd: number): string => `"switchboard":{"cost_usd":${usd.toFixed(8)}}`
