/** What the pipeline needs from the store of Responses the gateway produced on translated targets. */
import type { CallInfo } from '../core/call.ts'
import type { JsonObject } from '../core/json.ts'

export interface ExpandedBody {
  /** The request with the stored conversation prepended to `input` and previous_response_id removed. */
  body: JsonObject
  /** Its JSON, for token estimates. */
  raw: Buffer
}

export interface ConversationStore {
  /**
   * undefined (no I/O) unless previous_response_id names a response this gateway issued; then the
   * expanded body, or a 404 GatewayError when the team has no such response (or it expired).
   */
  expand(team: string, body: JsonObject): Promise<ExpandedBody> | undefined
  /**
   * Keeps a translated Response unless the request said store: false (then undefined: nothing to
   * wait for). The promise settles once the row is written, or the write failed (logged); it never
   * rejects. The pipeline waits for it before the client can learn the response is done, so an
   * immediate previous_response_id finds the row on any replica.
   */
  save(call: CallInfo, response: JsonObject): Promise<void> | undefined
}
