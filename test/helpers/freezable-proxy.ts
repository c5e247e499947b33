/**
 * A TCP proxy on loopback that can be frozen: while frozen it keeps every connection open and
 * accepts new ones but forwards nothing, as a stalled server or a half-open network path would.
 * For tests of what the gateway does when a store stops answering without closing anything.
 * It can also be cut: every connection is closed and new ones are reset at once, as a server that
 * is down (restarting, failing over) refuses them.
 */
import { createServer, connect, type Socket } from 'node:net'

export interface FreezableProxy {
  port: number
  freeze(): void
  thaw(): void
  /** Closes every connection; new ones are reset until `restore`. */
  cut(): void
  restore(): void
  close(): Promise<void>
}

export async function startFreezableProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FreezableProxy> {
  let frozen = false
  let cut = false
  const sockets = new Set<Socket>()
  const pairs: Array<[Socket, Socket]> = []
  const server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy()
      return
    }
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
  return {
    port: (server.address() as { port: number }).port,
    freeze() {
      frozen = true
      for (const s of sockets) s.pause()
    },
    thaw() {
      frozen = false
      for (const s of sockets) s.resume()
    },
    cut() {
      cut = true
      for (const s of sockets) s.destroy()
    },
    restore() {
      cut = false
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
