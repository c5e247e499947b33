/**
 * The benchmark's vendor: answers chat completions instantly with fixed bytes (non-streamed, or a
 * 12-event stream), so what is measured is the path in front of it. Run as its own process.
 */
import { createServer } from 'node:http'

const body = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 },
}))
const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench-model' }
const words = 'The quick brown fox jumps over the lazy dog again and again.'.split(' ')
const events = [
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
  ...words.map((w) => ({ ...base, choices: [{ index: 0, delta: { content: `${w} ` }, finish_reason: null }] })),
  { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
]
const usageEvent = `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: 12, total_tokens: 32 } })}\n\n`
const streamHead = events.map((e) => `data: ${JSON.stringify(e)}\n\n`)

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString()
    if (text.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // First event immediately (time to first byte), the rest on the next tick, like a vendor.
      res.write(streamHead[0])
      setImmediate(() => {
        for (let i = 1; i < streamHead.length; i++) res.write(streamHead[i])
        if (text.includes('"include_usage":true')) res.write(usageEvent)
        res.end('data: [DONE]\n\n')
      })
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
    res.end(body)
  })
})
server.keepAliveTimeout = 60_000
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address()
  process.send?.({ port: typeof addr === 'object' && addr ? addr.port : 0 })
})
