// Claude Agent SDK: query() runs the bundled Claude Code binary against the gateway.
// Env: SB_BASE_URL, SB_KEY, SB_MODEL, SB_PROMPT, SB_CHILD_ENV (JSON env for the binary).
import { query } from '@anthropic-ai/claude-agent-sdk'

const childEnv = JSON.parse(process.env.SB_CHILD_ENV ?? '{}')
let answer = '(no result)'
for await (const message of query({
  prompt: process.env.SB_PROMPT ?? 'hi',
  options: {
    model: process.env.SB_MODEL,
    cwd: process.cwd(),
    allowedTools: ['Bash'],
    maxTurns: 4,
    env: childEnv,
  },
})) {
  if (message.type === 'result') answer = message.subtype === 'success' ? message.result : `(error: ${message.subtype})`
}
console.log(`ANSWER: ${answer}`)
