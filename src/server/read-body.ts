/**
 * Reads a request body up to a byte limit. Over the limit it stops reading at once and throws 413,
 * so an oversized upload is never held in memory.
 */
import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../core/errors.ts'

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        cleanup()
        req.pause()
        reject(tooLarge(maxBytes))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    }
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError({
    status: 413,
    code: 'request_too_large',
    message: `The request body is larger than the gateway's limit of ${maxBytes} bytes (server.max_body_bytes). Send a smaller request.`,
  })
}
