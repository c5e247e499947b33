/**
 * Responses input bound for a target that serves the Responses API itself (OpenAI, Azure, an
 * OpenAI-compatible server). A conversation may have been answered by a translated vendor in an
 * earlier turn (a fallback, a mixed group: the gateway picks the target, not the client), and the
 * client sends those turns back, or the gateway's store expands them into `input`:
 *
 * - reasoning items the gateway made carry another vendor's signatures in `encrypted_content`
 *   (`sbr1.`), which OpenAI rejects (400 invalid_encrypted_content): dropped, as OpenAI's own
 *   encrypted reasoning is dropped on the way to another vendor (reasoning.ts);
 * - items carry ids the gateway made up (`msg_sb…_0`, `fc_sb…_1`), which OpenAI never issued and
 *   may try to resolve: the id is removed (OpenAI takes these items without one, as Codex sends them).
 *
 * Anything else passes through untouched, and a request holding none of these is never parsed
 * again: `mayHoldGatewayItems` is two native byte searches in the client's bytes.
 */
import { isObject, type Json, type JsonObject } from '../../core/json.ts'
import { RESPONSES_ENVELOPE } from '../../core/reasoning-envelope.ts'
import { GATEWAY_ITEM_ID } from './response-object.ts'

const ENVELOPE = Buffer.from(RESPONSES_ENVELOPE)
/** Every gateway item id has it (`<prefix>_sb<32 hex>_<n>`). */
const ID_MARK = Buffer.from('_sb')

/** False when the body certainly holds no gateway item (the common case); true means "look". */
export function mayHoldGatewayItems(raw: Buffer): boolean {
  return raw.includes(ENVELOPE) || raw.includes(ID_MARK)
}

/** The body without the gateway's reasoning items and item ids, or undefined when it has none. */
export function withoutGatewayItems(body: JsonObject): JsonObject | undefined {
  const input = body.input
  if (!Array.isArray(input)) return undefined
  let changed = false
  const kept: Json[] = []
  for (const item of input) {
    if (!isObject(item)) {
      kept.push(item)
      continue
    }
    const gatewayId = typeof item.id === 'string' && GATEWAY_ITEM_ID.test(item.id)
    if (item.type === 'reasoning' && (gatewayId || (typeof item.encrypted_content === 'string' && item.encrypted_content.startsWith(RESPONSES_ENVELOPE)))) {
      changed = true
      continue
    }
    if (gatewayId) {
      const { id: _id, ...rest } = item
      kept.push(rest)
      changed = true
      continue
    }
    kept.push(item)
  }
  return changed ? { ...body, input: kept } : undefined
}
