/**
 * A response body fed by undici's dispatch handler: the few stream methods the pipeline uses
 * (on data/end/error/close, pause, resume, destroy), without a Readable per response. Measured
 * here, undici's `request()` (a Readable body plus its promise plumbing) costs about a third of a
 * minimal proxy's whole per-request CPU; dispatching straight into this costs next to nothing.
 *
 * One listener per event (the pipeline registers one). Chunks that arrive before the 'data'
 * listener (undici can deliver headers and body in one tick) are held and delivered in order on
 * the next microtask, after the caller has attached all its listeners.
 */
import type { Dispatcher } from 'undici'
import type { UpstreamBody } from './types.ts'

export class DispatchBody implements UpstreamBody {
  #controller: Dispatcher.DispatchController | undefined
  #data: ((chunk: Buffer) => void) | undefined
  #end: (() => void) | undefined
  #error: ((err: Error) => void) | undefined
  #close: (() => void) | undefined
  #held: Buffer[] | undefined
  #outcome: { kind: 'end' } | { kind: 'error'; error: Error } | undefined
  #flushScheduled = false
  #closed = false

  attach(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
  }

  on(event: 'data', listener: (chunk: Buffer) => void): this
  on(event: 'error', listener: (error: Error) => void): this
  on(event: 'end' | 'close', listener: () => void): this
  on(event: 'data' | 'end' | 'error' | 'close', listener: ((chunk: Buffer) => void) | ((error: Error) => void) | (() => void)): this {
    switch (event) {
      case 'data': this.#data = listener as (chunk: Buffer) => void; break
      case 'end': this.#end = listener as () => void; break
      case 'error': this.#error = listener as (err: Error) => void; break
      case 'close': this.#close = listener as () => void; break
    }
    if ((this.#held || this.#outcome) && !this.#flushScheduled) {
      this.#flushScheduled = true
      queueMicrotask(() => this.#flush())
    }
    return this
  }

  pause(): void {
    this.#controller?.pause()
  }

  resume(): void {
    this.#controller?.resume()
  }

  destroy(error?: Error): void {
    if (this.#closed) return
    if (this.#controller && !this.#controller.aborted && !this.#outcome) this.#controller.abort(error ?? new Error('the response body was destroyed'))
    this.#finish(error ? { kind: 'error', error } : undefined)
  }

  // Fed by the dispatch handler.
  push(chunk: Buffer): void {
    if (this.#data && !this.#held) this.#data(chunk)
    else (this.#held ??= []).push(chunk)
  }

  end(): void {
    if (this.#held || !this.#data) this.#outcome = { kind: 'end' }
    else this.#finish({ kind: 'end' })
    if (this.#outcome && !this.#flushScheduled && this.#data) {
      this.#flushScheduled = true
      queueMicrotask(() => this.#flush())
    }
  }

  fail(error: Error): void {
    if (this.#held || !this.#error) this.#outcome = { kind: 'error', error }
    else this.#finish({ kind: 'error', error })
  }

  #flush(): void {
    this.#flushScheduled = false
    const held = this.#held
    this.#held = undefined
    if (held && this.#data) for (const chunk of held) this.#data(chunk)
    else if (held) this.#held = held
    if (this.#outcome && !this.#held) {
      const o = this.#outcome
      this.#outcome = undefined
      this.#finish(o)
    }
  }

  #finish(outcome: { kind: 'end' } | { kind: 'error'; error: Error } | undefined): void {
    if (this.#closed) return
    this.#closed = true
    if (outcome?.kind === 'end') this.#end?.()
    else if (outcome?.kind === 'error') this.#error?.(outcome.error)
    this.#close?.()
  }
}
