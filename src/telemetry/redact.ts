/**
 * Redaction for captured prompt and completion text: emails, API-key-like strings, payment card
 * numbers (Luhn-checked, so order numbers survive), plus the operator's own patterns.
 */
export type Redactor = (text: string) => string

const BUILT_IN: ReadonlyArray<{ re: RegExp; label: string; check?: (m: string) => boolean }> = [
  { re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, label: 'email' },
  // Vendor and gateway keys (sk-, sk-ant-, sk-proj-, sk-sb-...), AWS access key ids, Google API keys,
  // GitHub and Slack tokens, JWTs and bearer tokens.
  { re: /\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}/g, label: 'key' },
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, label: 'key' },
  { re: /\bAIza[0-9A-Za-z_-]{35}/g, label: 'key' },
  { re: /\bgh[pousr]_[A-Za-z0-9]{30,}/g, label: 'key' },
  { re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, label: 'key' },
  { re: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, label: 'key' },
  { re: /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/gi, label: 'key' },
  // Digits grouped by spaces, tabs, hyphens or dots, as people and forms write them.
  { re: /\b\d(?:[ \t.-]?\d){12,18}\b/g, label: 'card', check: luhn },
]

function luhn(candidate: string): boolean {
  const digits = candidate.replace(/[ \t.-]/g, '')
  if (digits.length < 13 || digits.length > 19) return false
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

/** Compiles the built-in rules and `telemetry.redact_patterns` (JavaScript regular expressions) once. */
export function createRedactor(extraPatterns: readonly string[]): Redactor {
  const rules = [...BUILT_IN, ...extraPatterns.map((p) => ({ re: new RegExp(p, 'g'), label: 'custom', check: undefined }))]
  return (text) => {
    let out = text
    for (const r of rules) {
      r.re.lastIndex = 0
      out = out.replace(r.re, (m) => (r.check && !r.check(m) ? m : `[REDACTED:${r.label}]`))
    }
    return out
  }
}
