/**
 * A cheap prompt-size estimate for reservations: about four characters per token over the text
 * the client sent. Reservations are settled to the vendor's real counts, so this only needs to be
 * fast and roughly right; it never tokenizes on the request path.
 */
export function estimatePromptTokens(raw: Buffer | undefined): number {
  if (!raw) return 0
  // The JSON envelope (keys, quotes, roles) inflates the byte count by roughly a tenth.
  return Math.ceil((raw.length * 0.9) / 4)
}
