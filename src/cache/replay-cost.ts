/**
 * The cost a replayed stream tells its client. On the OpenAI ingress, a client that asked for usage
 * gets `"switchboard":{"cost_usd":...}` in the usage chunk (accounting/stream-cost.ts): the call's
 * cost, which docs/costs.md tells streaming clients to sum. A cache hit or an Idempotency-Key replay
 * costs nothing (its header says `x-switchboard-cost-usd: 0`, its ledger record 0), so the stored
 * frames carry a cost of 0 instead of the first call's: a client summing the field would otherwise
 * count the first call once per replay.
 *
 * Done once when the entry is stored, after the first client has its answer: no work on the
 * response path of the first call, and none on a hit (the replay writes the stored frames as is).
 */
import type { CallInfo } from '../core/call.ts'
import type { CachedResponse } from '../core/ports.ts'

/** The annotation as stream-cost.ts writes it: a top-level member after `usage`, 8 decimals. */
const COST_MEMBER = Buffer.from('"switchboard":{"cost_usd":')
const ZERO = Buffer.from((0).toFixed(8))

/** `r` with the cost in its stream set to 0; `r` itself when there is none to change. */
export function withZeroStreamCost(call: CallInfo, r: CachedResponse): CachedResponse {
  // Only these streams are annotated: the OpenAI ingress, usage asked for, a known price.
  if (r.kind !== 'stream' || r.costUsd === null || call.ingress !== 'openai' || !askedForUsage(call)) return r
  const frames = r.frames
  // The usage chunk is the last one but [DONE]: search backwards.
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!
    // Ours is the last member of its chunk, after anything a vendor sent (another gateway's included).
    const at = f.lastIndexOf(COST_MEMBER)
    if (at < 0) continue
    const start = at + COST_MEMBER.length
    let end = start
    while (end < f.length && isNumberByte(f[end]!)) end++
    const copy = frames.slice()
    // A fresh buffer: the stored frames may be views of the first response's buffers.
    copy[i] = Buffer.concat([f.subarray(0, start), ZERO, f.subarray(end)])
    return { ...r, frames: copy }
  }
  return r
}

function askedForUsage(call: CallInfo): boolean {
  const so = call.body.stream_options
  return typeof so === 'object' && so !== null && !Array.isArray(so) && so.include_usage === true
}

/** Digits, sign, decimal point and exponent: what a JSON number is written with. */
const isNumberByte = (b: number): boolean => (b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x2d || b === 0x2b || b === 0x65 || b === 0x45
