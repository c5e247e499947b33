/**
 * A TCP proxy on loopback that can be frozen: while frozen it keeps every connection open and
 * accepts new ones but forwards nothing, as a stalled server or a half-open network path would.
 * For tests of what the gateway does when a store stops answering without closing anything.
 *
 * It can also be cut: every connection is closed and new ones are refused (a store that went
 * away), until it is restored on the same port. Unlike a thawed freeze, nothing sent meanwhile is
 * delivered later, so whether a command reached the store is never in doubt.
 */
import { createServer, connect, type Socket } from 'node:net'

export interface FreezableProxy {
  port: number
  freeze(): void
  thaw(): void
  /** Closes every connection and refuses new ones until restore(). */
  cut(): Promise<void>
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

export async function startFreezableProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FreezableProxy> {
  let frozen = false
  const sockets = new Set<Socket>()
  const pairs: Array<[Socket, Socket]> = []
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost)
    sockets.add(client)
    sockets.add(upstream)
    pairs.push([client, upstream])
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        to.write(chunk)
      })
      from.on('error', () => to.destroy())
      from.on('close', () => {
        sockets.delete(from)
        to.destroy()
      })
    }
    forward(client, upstream)
    forward(upstream, client)
    // Frozen: data waits in the kernel buffers; nothing is read or answered.
    if (frozen) {
      client.pause()
      upstream.pause()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    freeze() {
      frozen = true
      for (const s of sockets) s.pause()
    },
    thaw() {
      frozen = false
      for (const s of sockets) s.resume()
    },
    async cut() {
      const closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined
      for (const s of sockets) s.destroy()
      await closed
    },
    restore() {
      if (server.listening) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
    },
    async close() {
      for (const s of sockets) s.destroy()
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
