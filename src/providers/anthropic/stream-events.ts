import { isObject } from '../../core/json.ts'
import type { JsonObject } from '../../core/json.ts'
import type { StreamEvent } from '../../upstream/types.ts'

/**
 * Parses one Anthropic SSE event. The JSON's own `type` is authoritative (it is always present);
 * the `event:` line is the fallback. Undefined for data that is not a JSON object.
 */
export function readAnthropicEvent(event: StreamEvent): { type: string; data: JsonObject } | undefined {
  let data: unknown
  try {
    data = JSON.parse(event.data)
  } catch {
    return undefined
  }
  if (!isObject(data)) return undefined
  const type = typeof data['type'] === 'string' ? data['type'] : event.event
  return type === undefined ? undefined : { type, data }
}
