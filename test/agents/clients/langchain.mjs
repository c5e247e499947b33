// LangChain (@langchain/openai): a chat model with one bound tool and a hand-written tool loop.
// Env: SB_BASE_URL, SB_KEY, SB_MODEL, SB_PROMPT, SB_API (chat | responses), SB_STREAM=1 (model.stream).
// Streaming goes through .stream(): .invoke() with streaming: true estimates token usage with
// tiktoken, whose ranks LangChain downloads from tiktoken.pages.dev (see docs/agents.md).
import { ChatOpenAI } from '@langchain/openai'
import { HumanMessage, ToolMessage } from '@langchain/core/messages'
import { tool } from '@langchain/core/tools'
import { z } from 'zod'

const getSecret = tool(async () => 'SB_TOOL_RESULT_42', { name: 'get_secret', description: 'Returns the secret word.', schema: z.object({}) })
const model = new ChatOpenAI({
  model: process.env.SB_MODEL,
  apiKey: process.env.SB_KEY,
  configuration: { baseURL: process.env.SB_BASE_URL },
  maxRetries: 0,
  useResponsesApi: process.env.SB_API === 'responses',
}).bindTools([getSecret])
const messages = [new HumanMessage(process.env.SB_PROMPT ?? 'hi')]
for (let turn = 0; turn < 4; turn++) {
  let reply
  if (process.env.SB_STREAM === '1') {
    for await (const chunk of await model.stream(messages)) reply = reply ? reply.concat(chunk) : chunk
  } else {
    reply = await model.invoke(messages)
  }
  messages.push(reply)
  if (!reply.tool_calls?.length) {
    console.log(`ANSWER: ${typeof reply.content === 'string' ? reply.content : reply.content.map((c) => c.text ?? '').join('')}`)
    process.exit(0)
  }
  for (const call of reply.tool_calls) messages.push(new ToolMessage({ content: await getSecret.invoke(call.args), tool_call_id: call.id, name: call.name }))
}
console.log('ANSWER: (no final answer after 4 turns)')
