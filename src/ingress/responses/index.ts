/** The Responses ingress: OpenAI Responses clients reaching vendors without that API, through OpenAI Chat. */
import type { IngressCodec } from '../types.ts'
import { responsesToChat } from './request-to-chat.ts'
import { chatToResponse } from './chat-to-response.ts'
import { createResponsesStreamEncoder } from './stream-encoder.ts'

export { EXPANDED, expansionOf, type Expansion } from './response-object.ts'
export { GATEWAY_RESPONSE_ID } from './request-to-chat.ts'
export { mayHoldGatewayItems, withoutGatewayItems } from './native-input.ts'

export const responsesIngress: IngressCodec = {
  toChat: responsesToChat,
  fromChat: chatToResponse,
  streamEncoder: createResponsesStreamEncoder,
}
