// OpenAI Agents SDK (JS): one agent with one function tool, through the gateway.
// Env: SB_BASE_URL, SB_KEY, SB_MODEL, SB_PROMPT, SB_API (responses | chat_completions).
import OpenAI from 'openai'
import { Agent, run, tool, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled } from '@openai/agents'
import { z } from 'zod'

setTracingDisabled(true)
setDefaultOpenAIClient(new OpenAI({ baseURL: process.env.SB_BASE_URL, apiKey: process.env.SB_KEY, maxRetries: 0 }))
setOpenAIAPI(process.env.SB_API === 'chat_completions' ? 'chat_completions' : 'responses')
const getSecret = tool({
  name: 'get_secret',
  description: 'Returns the secret word.',
  parameters: z.object({}),
  execute: async () => 'SB_TOOL_RESULT_42',
})
const agent = new Agent({ name: 'probe', instructions: 'Answer briefly.', model: process.env.SB_MODEL, tools: [getSecret] })
const result = await run(agent, process.env.SB_PROMPT ?? 'hi')
console.log(`ANSWER: ${result.finalOutput}`)
