/**
 * An HTTP(S) proxy on 127.0.0.1 that records and refuses every request. The native agent binaries
 * (Claude Code, Codex) get it as HTTPS_PROXY/HTTP_PROXY/ALL_PROXY with NO_PROXY=127.0.0.1,localhost:
 * any attempt to reach a host other than the gateway shows up here, and the suite asserts none did.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RefusingProxy {
  url: string
  /** `CONNECT host:port` or `GET http://...` lines, in arrival order. */
  seen: string[]
  close(): Promise<void>
}

export async function startRefusingProxy(): Promise<RefusingProxy> {
  const seen: string[] = []
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(403, { 'content-type': 'text/plain' }).end('switchboard agent suite: no egress')
  })
  server.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
