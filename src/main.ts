/**
 * The CLI: `switchboard [--config file] [--port n] [--check-config]`. The only module that reads
 * process.env and process.argv.
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfigFile } from './config/load.ts'
import { configWarnings } from './config/cross-check.ts'
import { createLogger } from './telemetry/logger.ts'
import { readFile } from 'node:fs/promises'
import { startGateway } from './gateway.ts'
import { ADMIN_DISABLED_WARNING, adminDisabled } from './admin/auth.ts'
import { watchConfigFile } from './config/watch.ts'
import { preloadEncoder } from './accounting/estimate-usage.ts'

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'check-config': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write('usage: switchboard [--config path.yaml] [--port n] [--host addr] [--check-config]\n')
    return 0
  }
  const env = process.env
  const file = values.config ?? env.SWITCHBOARD_CONFIG ?? 'config/switchboard.yaml'
  let loaded
  try {
    loaded = await loadConfigFile(file, env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard: ${err.message}\n`)
      return 2
    }
    throw err
  }
  if (values['check-config']) {
    process.stdout.write(`switchboard: ${file} is valid (${Object.keys(loaded.config.models).length} models, ${Object.keys(loaded.config.providers).length} providers)\n`)
    for (const v of loaded.missingVars) process.stdout.write(`  note: \${${v}} is unset\n`)
    for (const w of configWarnings(loaded.config)) process.stdout.write(`  warning: ${w}\n`)
    if (adminDisabled(loaded.config.server.admin_keys)) process.stdout.write(`  note: ${ADMIN_DISABLED_WARNING}\n`)
    return 0
  }
  const log = createLogger(loaded.config.logging.level)
  // The logger batches lines into 64 KiB writes; flush what waits at least every 250 ms so a quiet
  // gateway's lines still appear promptly.
  setInterval(() => log.flush(), 250).unref()
  const portArg = values.port ?? env.PORT
  const port = portArg !== undefined && portArg !== '' ? Number(portArg) : undefined
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`switchboard: --port/PORT must be an integer from 0 to 65535, got "${portArg}"\n`)
    return 2
  }
  const gateway = await startGateway({ loaded, log, env, port, host: values.host })

  // Signals are handled from the moment the gateway listens: a SIGTERM while the tokenizer still
  // loads (a second or more) would otherwise end the process without draining (exit by signal).
  const reload: { watcher?: ReturnType<typeof watchConfigFile> } = {}
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    reload.watcher?.stop()
    log.info({ signal, graceMs: gateway.config.server.shutdown_grace_ms }, 'shutting down: draining in-flight requests')
    gateway.shutdown().then(
      () => {
        log.info('shutdown complete')
        log.flush()
        process.exitCode = 0
        setTimeout(() => process.exit(0), 50).unref()
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed')
        log.flush()
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  await preloadEncoder().catch((err: unknown) => log.warn({ err }, 'tokenizer preload failed; usage estimates will load it on first use'))

  // Hot reload: a changed, valid file is applied without dropping requests; an invalid one is
  // logged and counted, and the running config stays (docs/config.md). SIGHUP checks at once.
  const source = await readFile(file, 'utf8')
  if (stopping) return -1
  const watcher = watchConfigFile({
    file,
    env,
    onChange: (next) => gateway.reload(next),
    onInvalid: (err) => gateway.rejectReload(file, err),
  }, source)
  reload.watcher = watcher
  process.on('SIGHUP', () => { void watcher.check() })
  return -1
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err: unknown) => {
    process.stderr.write(`switchboard: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exit(1)
  },
)
