/** Reading the few client headers the pipeline cares about. */
import { randomUUID } from 'node:crypto'

type Headers = Readonly<Record<string, string | string[] | undefined>>

export const header = (h: Headers, name: string): string | undefined => {
  const v = h[name]
  return Array.isArray(v) ? v[0] : v
}

const SAFE_ID = /^[A-Za-z0-9._:@\-]{1,128}$/

/** The client's x-request-id when it is a sane token, else a new one. */
export function requestIdFrom(h: Headers): string {
  const given = header(h, 'x-request-id')
  return given && SAFE_ID.test(given) ? given : randomUUID()
}

/** The agent run: x-switchboard-run-id, else a client's own session id (Claude Code, Codex). */
export function runIdFrom(h: Headers): string | undefined {
  const v = header(h, 'x-switchboard-run-id') ?? header(h, 'x-claude-code-session-id') ?? header(h, 'session-id')
  return v && SAFE_ID.test(v) ? v : undefined
}

/** Shared by every request without the header (most of them): nothing is allocated for it. */
const NONE: readonly string[] = Object.freeze([])

export function tagsFrom(h: Headers): readonly string[] {
  const v = header(h, 'x-switchboard-tags')
  if (!v) return NONE
  return v.split(',').map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= 64).slice(0, 16)
}

/** Extra fallbacks requested per call (x-switchboard-fallbacks: a,b). */
export function requestFallbacksFrom(h: Headers): readonly string[] {
  const v = header(h, 'x-switchboard-fallbacks')
  return v ? v.split(',').map((t) => t.trim()).filter(Boolean).slice(0, 8) : NONE
}
