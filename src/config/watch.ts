/**
 * Watches the config file and hands every changed, valid version to `onChange`; an invalid one to
 * `onInvalid` (the running config stays). Polls with stat rather than inotify: a Kubernetes
 * ConfigMap update swaps a symlink, which inotify on the file itself misses, while a stat of the
 * path follows it. The content is compared, so a touch without a change does nothing.
 */
import { unwatchFile, watchFile } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { parseConfig, type LoadedConfig } from './load.ts'

export interface ConfigWatcher {
  /** Checks the file now (SIGHUP, tests). */
  check(): Promise<void>
  stop(): void
}

export interface WatchOptions {
  file: string
  env: Record<string, string | undefined>
  intervalMs?: number
  onChange(loaded: LoadedConfig): Promise<unknown> | void
  onInvalid(err: unknown): void
}

export function watchConfigFile(opts: WatchOptions, initialText?: string): ConfigWatcher {
  const digest = (t: string) => createHash('sha256').update(t).digest('hex')
  let last = initialText === undefined ? undefined : digest(initialText)
  let running: Promise<void> | undefined
  const check = async (): Promise<void> => {
    let text: string
    try {
      text = await readFile(opts.file, 'utf8')
    } catch (err) {
      opts.onInvalid(err)
      return
    }
    const d = digest(text)
    if (d === last) return
    last = d
    let loaded: LoadedConfig
    try {
      loaded = parseConfig(text, opts.file, opts.env)
    } catch (err) {
      opts.onInvalid(err)
      return
    }
    await opts.onChange(loaded)
  }
  const serialized = (): Promise<void> => {
    running = (running ?? Promise.resolve()).then(check, check)
    return running
  }
  watchFile(opts.file, { interval: opts.intervalMs ?? 1000, persistent: false }, () => { void serialized() })
  return { check: serialized, stop: () => unwatchFile(opts.file) }
}
