/**
 * Scrubbing vendor text before it reaches a client: a vendor error may echo the credential it was
 * sent ("Incorrect API key provided: sk-proj-..."). The exact secrets of the attempt are removed
 * first (a key of any shape), then anything that looks like a key. Only vendor errors go through
 * here, never a normal response or stream event.
 */
const KEYISH = /\b(sk-[A-Za-z0-9_\-]{6,}|sk-ant-[A-Za-z0-9_\-]{6,}|AKIA[0-9A-Z]{12,}|AIza[0-9A-Za-z_\-]{20,}|[A-Za-z0-9_\-]{32,})\b/g

export function scrubSecrets(message: string, secrets: readonly (string | undefined)[] = []): string {
  let out = message
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]')
  return out.replace(KEYISH, (m) => (m.length >= 20 || m.startsWith('sk-') || m.startsWith('AKIA') || m.startsWith('AIza') ? '[redacted]' : m))
}

/** Every string in a parsed JSON value (an error event's body), scrubbed; `changed` says whether any was. */
export function scrubJsonStrings(value: unknown, secrets: readonly (string | undefined)[]): { value: unknown; changed: boolean } {
  let changed = false
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const s = scrubSecrets(v, secrets)
      if (s !== v) changed = true
      return s
    }
    if (Array.isArray(v)) return v.map(walk)
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = walk(x)
      return out
    }
    return v
  }
  const out = walk(value)
  return { value: out, changed }
}
