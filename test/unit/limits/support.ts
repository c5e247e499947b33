/**
 * Shared by the limits tests: whether the real Redis at 127.0.0.1:6379 answers (probed once at
 * module load with a short timeout), and a wait that keeps a test away from window boundaries.
 */
import { Redis } from 'ioredis'

export const REDIS_URL = 'redis://127.0.0.1:6379'

async function probe(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
  try {
    await r.connect()
    return (await r.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    r.disconnect()
  }
}

/** With CI=true the Redis suites must run (and fail without Redis); elsewhere they skip visibly. */
export const redisAvailable: boolean = (await probe()) || process.env.CI === 'true'
if (!redisAvailable) console.warn('limits tests: no Redis at 127.0.0.1:6379; the Redis-backed suites are skipped')

/** Waits until at least `marginMs` remain in the current aligned window, so a test's counts stay in one window. */
export async function awayFromBoundary(windowMs: number, marginMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs)
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 20))
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
