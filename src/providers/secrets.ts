/**
 * The secrets one attempt sent a vendor, which a vendor error may echo back: the vendor key, the
 * Bedrock credentials, and the provider's static headers (a proxy's own key often travels there).
 * Header values shorter than 8 characters are left out: scrubbing `true` or `1` would mangle
 * messages and hides no secret.
 */
import type { ProviderConfig } from './types.ts'

export function vendorSecrets(provider: ProviderConfig, apiKey: string | undefined): Array<string | undefined> {
  const out: Array<string | undefined> = [apiKey, provider.secretAccessKey, provider.sessionToken, provider.accessKeyId]
  for (const v of Object.values(provider.headers)) if (v.length >= 8) out.push(v)
  return out
}
