/**
 * Shared by the limits tests: the real Redis (see test/helpers/services.ts), and a wait that keeps a test away from window boundaries.
 */
export { REDIS_URL, redisAvailable } from '../../helpers/services.ts'

/** Waits until at least `marginMs` remain in the current aligned window, so a test's counts stay in one window. */
export async function awayFromBoundary(windowMs: number, marginMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs)
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 20))
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
