/**
 * Preloaded into the Node-based agent clients (NODE_OPTIONS=--import): every outgoing TCP or TLS
 * connection must go to loopback. Anything else is recorded in $SB_EGRESS_LOG and refused, so the
 * suite fails if a client tries to reach a vendor host (telemetry, tracing, update checks...).
 */
import net from 'node:net'
import tls from 'node:tls'
import fs from 'node:fs'

const LOG = process.env.SB_EGRESS_LOG
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i

function target(args) {
  const a = args[0]
  if (Array.isArray(a)) return target(a)
  if (a && typeof a === 'object') return { host: a.host ?? a.hostname ?? (a.path ? 'unix' : 'localhost'), port: a.port, path: a.path }
  if (typeof a === 'number' || (typeof a === 'string' && /^\d+$/.test(a))) return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: a }
  if (typeof a === 'string') return { host: 'unix', path: a }
  return { host: 'localhost' }
}

function check(args) {
  const t = target(args)
  if (t.path || t.host === 'unix' || LOOPBACK.test(String(t.host))) return
  const line = `${new Date().toISOString()} pid=${process.pid} blocked connection to ${t.host}:${t.port}\n`
  if (LOG) fs.appendFileSync(LOG, line)
  const err = new Error(`switchboard agent suite: connection to ${t.host}:${t.port} refused (not loopback)`)
  err.code = 'ECONNREFUSED'
  throw err
}

const origConnect = net.Socket.prototype.connect
net.Socket.prototype.connect = function connect(...args) {
  check(args)
  return origConnect.apply(this, args)
}
const origTls = tls.connect
tls.connect = function connect(...args) {
  check(args)
  return origTls.apply(this, args)
}
