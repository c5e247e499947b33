/**
 * Watches the config file and hands every changed, valid version to `onChange`; an invalid one to
 * `onInvalid` (the running config stays). Polls with stat rather than inotify: a Kubernetes
 * ConfigMap update swaps a symlink, which inotify on the file itself misses, while a stat of the
 * path follows it. The content is compared, so a touch without a change does nothing.
 *
 * A version is handled once it is applied, or found invalid. One that could not be applied (the
 * reload failed: the key store unreachable, say) is tried again with backoff until it is: marked
 * handled before the reload ran, it was never applied, not even on SIGHUP, until the file changed
 * again. An invalid version is not retried: the same text would fail the same way.
 *
 * A change the poll sees is handled only once two reads `settleMs` apart (by default one poll
 * interval) find the same content: a file caught half-written (an editor or `cat >` truncates,
 * then writes) must not be applied, and a prefix of a valid file is often valid. `check()`
 * (SIGHUP) handles what it reads at once: the operator says the file is ready.
 */
import { unwatchFile, watchFile } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { parseConfig, type LoadedConfig } from './load.ts'

export interface ConfigWatcher {
  /** Checks the file now, without waiting for it to settle (SIGHUP, tests). */
  check(): Promise<void>
  stop(): void
}

export interface WatchOptions {
  file: string
  env: Record<string, string | undefined>
  intervalMs?: number
  /** How long a changed file must keep the same content before it is handled (default: intervalMs). */
  settleMs?: number
  /**
   * Applies a valid version. Resolving `{ applied: false }`, or throwing, means it could not be
   * applied yet: it is tried again after `retryMs`, doubling up to `retryMaxMs`.
   */
  onChange(loaded: LoadedConfig): Promise<unknown> | void
  onInvalid(err: unknown): void
  retryMs?: number
  retryMaxMs?: number
}

const RETRY_MS = 1000
const RETRY_MAX_MS = 30_000

/** Whether onChange's answer says the version was not applied. */
const notApplied = (r: unknown): boolean => typeof r === 'object' && r !== null && (r as { applied?: unknown }).applied === false

export function watchConfigFile(opts: WatchOptions, initialText?: string): ConfigWatcher {
  const digest = (t: string) => createHash('sha256').update(t).digest('hex')
  const firstRetryMs = opts.retryMs ?? RETRY_MS
  const intervalMs = opts.intervalMs ?? 1000
  const settleMs = opts.settleMs ?? intervalMs
  /** The version handled last: applied, or rejected as invalid. */
  let last = initialText === undefined ? undefined : digest(initialText)
  /** A version that could not be applied, and the wait before its next try. */
  let failing: { digest: string; delayMs: number } | undefined
  /** A changed version the poll saw, not handled yet, and when it was first read. */
  let seen: { digest: string; at: number } | undefined
  /** The next look: a retry of a failing version, or the second read of a settling one. */
  let retry: NodeJS.Timeout | undefined
  let stopped = false
  let running: Promise<void> | undefined

  const lookAgain = (ms: number): void => {
    if (stopped) return
    retry = setTimeout(() => { void serialized(false) }, ms)
    retry.unref()
  }

  const check = async (now: boolean): Promise<void> => {
    clearTimeout(retry)
    retry = undefined
    let text: string
    try {
      text = await readFile(opts.file, 'utf8')
    } catch (err) {
      opts.onInvalid(err)
      return
    }
    const d = digest(text)
    if (d === last) {
      failing = undefined
      seen = undefined
      return
    }
    // A version that failed to apply was complete when read; one new to the poll must settle first.
    if (!now && failing?.digest !== d) {
      if (seen?.digest !== d) seen = { digest: d, at: Date.now() }
      const wait = seen.at + settleMs - Date.now()
      if (wait > 0) {
        lookAgain(wait)
        return
      }
    }
    seen = undefined
    let loaded: LoadedConfig
    try {
      loaded = parseConfig(text, opts.file, opts.env)
    } catch (err) {
      last = d
      failing = undefined
      opts.onInvalid(err)
      return
    }
    let applied: boolean
    try {
      applied = !notApplied(await opts.onChange(loaded))
    } catch {
      applied = false
    }
    if (applied) {
      last = d
      failing = undefined
      return
    }
    // Not applied: try this version again later, unless the file changes first (then the new one).
    const delayMs = failing?.digest === d ? failing.delayMs : firstRetryMs
    failing = { digest: d, delayMs: Math.min(delayMs * 2, opts.retryMaxMs ?? RETRY_MAX_MS) }
    lookAgain(delayMs)
  }
  const serialized = (now: boolean): Promise<void> => {
    const run = () => check(now)
    running = (running ?? Promise.resolve()).then(run, run)
    return running
  }
  watchFile(opts.file, { interval: intervalMs, persistent: false }, () => { void serialized(false) })
  return {
    check: () => serialized(true),
    stop: () => {
      stopped = true
      clearTimeout(retry)
      unwatchFile(opts.file)
    },
  }
}
