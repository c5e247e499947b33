/**
 * Which forwarded /v1/* requests a provider accepts (`providers.<name>.passthrough`). Forwarding
 * uses the provider's vendor key, whose vendor-side objects (stored completions, files, batches,
 * responses) belong to every team sharing that key: a shared provider lists only what is safe to
 * share. Absent, every forwarded request is accepted (the spec's default).
 */
import { GatewayError } from '../core/errors.ts'
import { globMatch } from '../core/glob.ts'
import type { ProviderEntry } from '../config/schema.ts'

/** A 403 when the provider's rules do not accept `method` on `path` (the client's path, /v1 included, no query); else undefined. */
export function forwardingRefusal(provider: string, rules: ProviderEntry['passthrough'], method: string, path: string): GatewayError | undefined {
  if (rules === undefined) return undefined
  for (const rule of rules) if (rule.methods.includes(method as (typeof rule.methods)[number]) && globMatch(rule.path, path)) return undefined
  return new GatewayError({
    status: 403,
    code: 'permission_denied',
    message: `This gateway does not forward ${method} ${path.slice(0, 200)} to provider "${provider}": providers.${provider}.passthrough does not list it. Ask the gateway operator to allow it there if your team should reach it (docs/keys.md, "Forwarded /v1/* paths").`,
  })
}
