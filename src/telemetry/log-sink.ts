/**
 * Where log lines go: stdout (or any fd), in large batches. Lines are kept as strings and joined
 * into one buffer per write, at 64 KiB or when flushed (main.ts flushes every 250 ms), so a busy
 * gateway makes a few writes a second instead of one per line. pino's own destination
 * (sonic-boom) measures the byte length of its whole pending string on every line, which cost
 * several microseconds per request at the access log's rate (docs/performance.md).
 *
 * Writes are asynchronous (libuv's pool), so a slow reader of stdout never blocks the event loop;
 * while one write is out, new lines queue behind it, in order. Past `maxPendingBytes` (a reader
 * that stopped reading) lines are dropped and counted rather than growing memory without bound.
 * On exit whatever is still queued is written synchronously.
 */
import { write as fsWrite, writeSync } from 'node:fs'

export interface LogSink {
  write(line: string): boolean
  /** Starts writing what is queued; `cb` runs once it has been handed to the OS. */
  flush(cb?: (err?: Error) => void): void
  /** Writes what is queued (not the write in flight) before returning: for exit paths. */
  flushSync(): void
  /** Lines dropped because the reader fell behind by more than maxPendingBytes. */
  dropped(): number
}

export function createLogSink(fd = 1, opts: { batchBytes?: number; maxPendingBytes?: number } = {}): LogSink {
  const batchBytes = opts.batchBytes ?? 64 * 1024
  const maxPending = opts.maxPendingBytes ?? 16 * 1024 * 1024
  let pending: string[] = []
  let pendingLen = 0
  let writing = false
  let dropped = 0
  // Callbacks of the write in flight, and of the next one (flushes asked for while one is out).
  let inflight: Array<(err?: Error) => void> = []
  let next: Array<(err?: Error) => void> = []
  let flushAsked = false

  const take = (): Buffer => {
    const buf = Buffer.from(pending.length === 1 ? pending[0]! : pending.join(''))
    pending = []
    pendingLen = 0
    return buf
  }

  /**
   * A write is done: its flush callbacks run, and the next write starts if a batch is full or a
   * flush was asked for meanwhile. A flush covers the lines queued when it was asked, so a steady
   * stream of new lines never keeps it waiting.
   */
  const finished = (err?: Error) => {
    writing = false
    const cbs = inflight
    inflight = []
    for (const cb of cbs) cb(err)
    if (pendingLen >= batchBytes || (flushAsked && pendingLen > 0)) {
      start()
      return
    }
    flushAsked = false
    const waiting = next
    next = []
    for (const cb of waiting) cb(err)
  }

  const writeOut = (buf: Buffer, off: number): void => {
    fsWrite(fd, buf, off, buf.length - off, null, (err, n) => {
      if (err) {
        // A non-blocking pipe that is full: try again shortly rather than lose the batch.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          setTimeout(() => writeOut(buf, off), 10).unref()
          return
        }
        finished(err)
        return
      }
      if (off + n < buf.length) writeOut(buf, off + n)
      else finished()
    })
  }

  function start(): void {
    writing = true
    flushAsked = false
    inflight = next
    next = []
    writeOut(take(), 0)
  }

  const flushSync = (): void => {
    if (pendingLen === 0) return
    const buf = take()
    let off = 0
    while (off < buf.length) {
      try {
        off += writeSync(fd, buf, off, buf.length - off)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return
      }
    }
  }
  process.once('exit', flushSync)

  return {
    write(line) {
      if (pendingLen > maxPending) {
        dropped++
        return false
      }
      pending.push(line)
      pendingLen += line.length
      if (!writing && pendingLen >= batchBytes) start()
      return true
    },
    flush(cb) {
      if (cb) next.push(cb)
      if (writing) {
        flushAsked = true
        return
      }
      if (pendingLen > 0) start()
      else finished()
    },
    flushSync,
    dropped: () => dropped,
  }
}
