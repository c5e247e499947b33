/**
 * The comparison baseline: the least a proxy can do. node:http in, JSON parsed (to swap the model,
 * as any gateway must), forwarded with undici's Pool.stream writing straight into the response.
 */
import { createServer } from 'node:http'
import { Pool } from 'undici'
import { Writable } from 'node:stream'

const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:1'
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 })

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const parsed = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>
    const body = JSON.stringify({ ...parsed, model: 'bench-model' })
    pool.stream(
      { path: req.url ?? '/', method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer vendor' }, body },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, { 'content-type': String(headers['content-type'] ?? 'application/json') })
        return new Writable({
          write(chunk: Buffer, _enc, cb) {
            if (res.write(chunk)) cb()
            else res.once('drain', cb)
          },
          final(cb) {
            res.end()
            cb()
          },
        })
      },
      (err) => {
        if (err && !res.headersSent) {
          res.writeHead(502)
          res.end()
        }
      },
    )
  })
})
server.keepAliveTimeout = 60_000
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address()
  process.send?.({ port: typeof addr === 'object' && addr ? addr.port : 0 })
})
