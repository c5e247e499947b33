/**
 * Watches the config file and hands every changed, valid version to `onChange`; an invalid one to
 * `onInvalid` (the running config stays). Polls with stat rather than inotify: a Kubernetes
 * ConfigMap update swaps a symlink, which inotify on the file itself misses, while a stat of the
 * path follows it. The content is compared, so a touch without a change does nothing.
 *
 * A version is the config text and the content of every file it references with `${file:/path}`
 * (mounted secrets): those files are watched too, so a rotated secret is applied like an edit to
 * the config, and SIGHUP re-reads them. Only the digest of their content is kept.
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
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { ConfigError, parseConfig, referencedFiles, type LoadedConfig } from './load.ts'

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

const sha256 = (t: string): string => createHash('sha256').update(t).digest('hex')

/** A file's content, or what stands for it when it cannot be read (so that is a version too). */
type Content = { text: string } | { unreadable: string }
const unreadable = (err: unknown): Content => ({ unreadable: (err as NodeJS.ErrnoException).code ?? String(err) })
const contentSync = (path: string): Content => {
  try {
    return { text: readFileSync(path, 'utf8') }
  } catch (err) {
    return unreadable(err)
  }
}
const content = (path: string): Promise<Content> => readFile(path, 'utf8').then((text) => ({ text }), unreadable)

/** One digest for the config's content and its referenced files' (path and content each). */
function versionDigest(config: Content, refs: ReadonlyArray<readonly [string, Content]>): string {
  const part = (c: Content) => ('text' in c ? sha256(c.text) : `unreadable:${c.unreadable}`)
  return sha256(JSON.stringify([part(config), ...refs.map(([path, c]) => [path, part(c)])]))
}

interface Version {
  config: Content
  /** The `${file:}` paths the config references. */
  refs: string[]
  digest: string
}

async function readVersion(file: string): Promise<Version> {
  const config = await content(file)
  const refs = 'text' in config ? referencedFiles(config.text) : []
  const digest = versionDigest(config, await Promise.all(refs.map(async (p) => [p, await content(p)] as const)))
  return { config, refs, digest }
}

function readVersionSync(file: string, text: string): Version {
  const config = { text }
  const refs = referencedFiles(text)
  return { config, refs, digest: versionDigest(config, refs.map((p) => [p, contentSync(p)] as const)) }
}

export function watchConfigFile(opts: WatchOptions, initialText?: string): ConfigWatcher {
  const firstRetryMs = opts.retryMs ?? RETRY_MS
  const intervalMs = opts.intervalMs ?? 1000
  const settleMs = opts.settleMs ?? intervalMs
  const initial = initialText === undefined ? undefined : readVersionSync(opts.file, initialText)
  /** The version handled last: applied, or rejected as invalid. */
  let last = initial?.digest
  /** A version that could not be applied, and the wait before its next try. */
  let failing: { digest: string; delayMs: number } | undefined
  /** A changed version the poll saw, not handled yet, and when it was first read. */
  let seen: { digest: string; at: number } | undefined
  /** The next look: a retry of a failing version, or the second read of a settling one. */
  let retry: NodeJS.Timeout | undefined
  let stopped = false
  let running: Promise<void> | undefined

  // The config file and the files its latest version references, each polled with stat.
  const watched = new Set<string>()
  const onStat = (): void => { void serialized(false) }
  const follow = (refs: readonly string[]): void => {
    if (stopped) return
    const want = new Set([opts.file, ...refs])
    for (const p of watched) {
      if (!want.has(p)) {
        unwatchFile(p, onStat)
        watched.delete(p)
      }
    }
    for (const p of want) {
      if (!watched.has(p)) {
        watchFile(p, { interval: intervalMs, persistent: false }, onStat)
        watched.add(p)
      }
    }
  }

  const lookAgain = (ms: number): void => {
    if (stopped) return
    retry = setTimeout(() => { void serialized(false) }, ms)
    retry.unref()
  }

  const check = async (now: boolean): Promise<void> => {
    clearTimeout(retry)
    retry = undefined
    const v = await readVersion(opts.file)
    // An unreadable config file says nothing about which files it references: keep watching them.
    if ('text' in v.config) follow(v.refs)
    const d = v.digest
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
      if (!('text' in v.config)) throw new ConfigError(opts.file, [`cannot read the file: ${v.config.unreadable}`])
      loaded = parseConfig(v.config.text, opts.file, opts.env)
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
  follow(initial?.refs ?? [])
  return {
    check: () => serialized(true),
    stop: () => {
      stopped = true
      clearTimeout(retry)
      for (const p of watched) unwatchFile(p, onStat)
      watched.clear()
    },
  }
}
