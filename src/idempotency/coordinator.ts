/**
 * Idempotency-Key coordination, per team. The first request with a key runs; a duplicate that
 * arrives while it runs waits for it and gets its response; one that arrives after it completed
 * replays the stored response for the record's TTL; the same key with a different request is a 409.
 *
 * On one replica, duplicates wait on an in-memory promise (woken the moment the first finishes).
 * Across replicas sharing Redis, the first sets a lock (SET NX with a TTL past the longest a
 * request may run) and the others poll for the stored response. When the first fails (an error,
 * a broken stream, the client left), nothing is stored and the key is released: a waiting
 * duplicate then runs the call itself, as a client retry would.
 */
import type { Logger } from 'pino'
import type { CachedResponse } from '../core/ports.ts'
import { GatewayError } from '../core/errors.ts'
import type { CacheBackend } from '../cache/backend.ts'
import { decodeEntry, encodeEntry } from '../cache/entry-codec.ts'
import { hashOf } from '../cache/canonical-request.ts'

/** How often a duplicate on another replica checks whether the first has finished. */
const POLL_MS = 50

interface InFlight {
  fp: string
  /** Set once the first succeeded, until its record is written to the backend. */
  done: CachedResponse | undefined
  waiters: Array<(r: CachedResponse | undefined) => void>
}

export interface Ticket {
  key: string
  fp: string
  local: InFlight
}

export type Begin = { kind: 'replay'; response: CachedResponse } | { kind: 'owner'; ticket: Ticket }

export interface IdempotencyCoordinator {
  /**
   * fp: the request's fingerprint (its canonical hash). lockTtlMs: past the longest the request may
   * run, from the config it runs under (a reload may change it). Throws a 409 on a different request.
   */
  begin(team: string, idempotencyKey: string, fp: string, lockTtlMs: number): Promise<Begin>
  /** The owner's end: its complete response (kept for ttlMs), or undefined to release the key. */
  complete(ticket: Ticket, response: CachedResponse | undefined, ttlMs: number): void
}

const conflict = () => new GatewayError({
  status: 409,
  code: 'idempotency_conflict',
  param: 'Idempotency-Key',
  message: 'This Idempotency-Key was already used with a different request (model, messages or parameters differ). Reuse a key only to retry the identical request; use a new key for a new request.',
})

const stillRunning = () => new GatewayError({
  status: 409,
  code: 'idempotency_conflict',
  param: 'Idempotency-Key',
  message: 'A request with this Idempotency-Key is still in progress. Retry later to get its result.',
})

export function createIdempotency(opts: { backend: CacheBackend; prefix: string; log: Logger }): IdempotencyCoordinator {
  const { backend, log } = opts
  const inflight = new Map<string, InFlight>()

  const wake = (f: InFlight, r: CachedResponse | undefined) => {
    const ws = f.waiters
    f.waiters = []
    for (const w of ws) w(r)
  }

  const waitFor = (f: InFlight, ms: number): Promise<CachedResponse | undefined | 'timeout'> => {
    if (f.done) return Promise.resolve(f.done)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = f.waiters.indexOf(done)
        if (i >= 0) f.waiters.splice(i, 1)
        resolve('timeout')
      }, Math.max(0, ms))
      function done(r: CachedResponse | undefined) {
        clearTimeout(timer)
        resolve(r)
      }
      f.waiters.push(done)
    })
  }

  return {
    async begin(team, idempotencyKey, fp, lockTtlMs) {
      const key = `${opts.prefix}idem:${hashOf(team, idempotencyKey)}`
      // A duplicate waits at most as long as the first may hold the lock, then gives up.
      const deadline = Date.now() + lockTtlMs
      while (Date.now() <= deadline) {
        const local = inflight.get(key)
        if (local) {
          if (local.fp !== fp) throw conflict()
          const r = await waitFor(local, deadline - Date.now())
          if (r === 'timeout') break
          if (r) return { kind: 'replay', response: r }
          continue // the first failed and released the key: try to take it
        }
        const v = await backend.get(key)
        if (v?.kind === 'result') {
          if (v.entry.meta.fp !== fp) throw conflict()
          try {
            return { kind: 'replay', response: await decodeEntry(v.entry) }
          } catch (err) {
            log.warn({ err }, 'idempotency: unreadable stored response; running the request again')
          }
        }
        if (inflight.has(key)) continue // a duplicate on this replica claimed it while we read
        if (v?.kind === 'pending') {
          if (v.fp !== fp) throw conflict()
          await new Promise((r) => setTimeout(r, POLL_MS))
          continue
        }
        const mine: InFlight = { fp, done: undefined, waiters: [] }
        inflight.set(key, mine)
        if (await backend.claim(key, fp, lockTtlMs)) return { kind: 'owner', ticket: { key, fp, local: mine } }
        // Another replica took it between our read and our claim.
        inflight.delete(key)
        wake(mine, undefined)
      }
      throw stillRunning()
    },

    complete(ticket, response, ttlMs) {
      const { key, local } = ticket
      const forget = () => {
        if (inflight.get(key) === local) inflight.delete(key)
      }
      if (!response) {
        void backend.release(key).finally(() => {
          forget()
          wake(local, undefined)
        })
        return
      }
      local.done = response
      wake(local, response)
      if (ttlMs <= 0) {
        void backend.release(key).finally(forget)
        return
      }
      // Until the record is written, local duplicates are served from `done`; remote ones keep polling the lock.
      encodeEntry(response, ticket.fp)
        .then((entry) => backend.set(key, entry, ttlMs))
        .catch((err: unknown) => log.warn({ err }, 'idempotency: could not store the response'))
        .finally(forget)
    },
  }
}
