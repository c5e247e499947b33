/** The Anthropic Messages ingress: Anthropic clients reaching non-Anthropic targets through OpenAI Chat. */
import type { IngressCodec } from '../types.ts'
import { messagesToChat } from './messages-to-chat.ts'
import { chatToMessages } from './chat-to-messages.ts'
import { createAnthropicStreamEncoder } from './stream-encoder.ts'

export { countTokensRequestToChat } from './messages-to-chat.ts'

export const anthropicIngress: IngressCodec = {
  toChat: messagesToChat,
  fromChat: chatToMessages,
  streamEncoder: createAnthropicStreamEncoder,
}
