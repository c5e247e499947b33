/**
 * What a reload cannot apply. Most of the config is rebuilt into a new runtime on reload, and
 * logging and the shutdown grace are read live; these settings are read once at start (the
 * listener, the stores, the telemetry exporters) and take effect only after a restart, so a reload
 * that changes them names each changed key instead of saying only "config reloaded".
 */
import type { Config } from './schema.ts'

const RESTART_ONLY = ['server.port', 'server.host', 'store', 'redis', 'telemetry'] as const

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

function at(config: Config, path: string): unknown {
  let v: unknown = config
  for (const part of path.split('.')) v = isMapping(v) ? v[part] : undefined
  return v
}

/** Adds the key paths (leaves; a list as a whole) where `a` and `b` differ. */
function diff(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isMapping(a) && isMapping(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], `${path}.${k}`, out)
    return
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path)
}

/** The restart-only key paths whose value differs between the running config and `next`. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  const changed: string[] = []
  for (const path of RESTART_ONLY) diff(at(running, path), at(next, path), path, changed)
  return changed
}
