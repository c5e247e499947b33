/**
 * The benchmark's trace collector: accepts OTLP/HTTP exports and discards them, answering with an
 * empty ExportTraceServiceResponse (zero bytes of protobuf). A real collector runs on other
 * machines; this one only has to cost the load generator's core as little as possible, so what the
 * tracing variants measure is the gateway's own cost of tracing.
 */
import { createServer } from 'node:http'

const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 })
    res.end()
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const addr = server.address()
  process.send?.({ port: typeof addr === 'object' && addr ? addr.port : 0 })
})
