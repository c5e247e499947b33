/**
 * A last check before a stream is kept: it must have ended with a finish reason. The pipeline only
 * hands over streams that ended without an error, but a vendor connection that closes cleanly
 * half-way reads the same; replaying such a stream forever would be worse than one more vendor call.
 */
import type { CallInfo } from '../core/call.ts'
import type { CachedResponse } from '../core/ports.ts'

// Non-null only: a string value. Some OpenAI-compatible servers put spaces around the colon.
const OPENAI_FINISH = /"finish_reason"\s*:\s*"/
const ANTHROPIC_STOP = /"stop_reason"\s*:\s*"/

export function looksComplete(call: CallInfo, r: CachedResponse): boolean {
  if (r.kind === 'body') return r.status >= 200 && r.status < 300
  const marker = call.operation === 'messages' ? ANTHROPIC_STOP : OPENAI_FINISH
  // The finish reason sits near the end: search backwards.
  for (let i = r.frames.length - 1; i >= 0; i--) if (marker.test(r.frames[i]!.toString('latin1'))) return true
  return false
}
