/**
 * Virtual keys, assembled: the store (source of truth), the in-memory index the authenticator
 * reads, and change propagation across replicas (Redis pub/sub when Redis is configured, plus a
 * store poll every second in every mode).
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Authenticator } from '../core/ports.ts'
import type { SqlDb } from '../stores/sql.ts'
import { createAuthenticator } from '../auth/authenticator.ts'
import { configKeyRecords } from '../auth/config-keys.ts'
import { createFailedAuthThrottle } from '../auth/failed-auth-throttle.ts'
import { createKeyCache, type KeyCache, type KeyCacheStatus } from './key-cache.ts'
import type { KeyRecord } from './key-record.ts'
import { createKeyStore, type KeyStore } from './key-store.ts'
import { createKeyChangeBus, type KeyChangeBus } from './propagation.ts'

export interface KeyService {
  auth: Authenticator
  store: KeyStore
  cache: KeyCache
  /** Keys declared in the config file (read-only through the API). */
  configKeys: readonly KeyRecord[]
  /** After a write on this replica: apply it here at once and tell the other replicas. */
  changed(r: KeyRecord): void
  status(): KeyCacheStatus & { propagation: 'redis+poll' | 'poll' }
  close(): Promise<void>
}

export interface KeyServiceDeps {
  config: Config
  db: SqlDb
  redis: Redis | undefined
  log: Logger
}

export async function createKeyService({ config, db, redis, log }: KeyServiceDeps): Promise<KeyService> {
  const store = createKeyStore(db)
  await store.migrate()
  const cache = createKeyCache(config, store, log)
  const configKeys = configKeyRecords(config, (msg, fields) => log.warn(fields, msg))
  await cache.load(configKeys)
  cache.start()
  const bus: KeyChangeBus | undefined = redis
    ? createKeyChangeBus(redis, config.redis.key_prefix, (c) => (c.type === 'revoked' ? cache.revoked(c.id) : void cache.refresh()), () => void cache.refresh(), log)
    : undefined
  return {
    auth: createAuthenticator(config, cache, createFailedAuthThrottle()),
    store,
    cache,
    configKeys,
    changed(r) {
      cache.apply(r)
      bus?.publish({ type: r.revokedAt !== undefined ? 'revoked' : 'changed', id: r.id })
    },
    status: () => ({ ...cache.status(), propagation: bus ? 'redis+poll' : 'poll' }),
    async close() {
      cache.stop()
      await bus?.close()
    },
  }
}
