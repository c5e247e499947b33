/**
 * The access log: one line per request with what an on-call engineer needs. Logged when the
 * request is settled (for streams, when the stream ends), never with headers or bodies.
 */
import type { Logger } from 'pino'
import type { Observability, RequestObserver } from '../core/ports.ts'

const NOOP_ATTEMPT = { headers: {}, end() {} }

export function accessLogObservability(log: Logger, enabled: boolean): Observability {
  return {
    startRequest(call): RequestObserver {
      return {
        attemptStarted: () => NOOP_ATTEMPT,
        firstToken() {},
        end(outcome) {
          if (!enabled) return
          const u = outcome.usage
          log.info({
            requestId: call.requestId,
            op: call.operation,
            model: call.publicModel,
            provider: outcome.provider,
            upstreamModel: outcome.upstreamModel,
            team: call.principal.team,
            keyId: call.principal.keyId,
            runId: call.runId,
            stream: call.stream,
            status: outcome.status,
            code: outcome.errorCode,
            attempts: outcome.attempts.length,
            cache: outcome.cache,
            inputTokens: u?.inputTokens,
            outputTokens: u?.outputTokens,
            cachedTokens: u?.cachedInputTokens,
            costUsd: outcome.costUsd,
            ttftMs: outcome.ttftMs === undefined ? undefined : Math.round(outcome.ttftMs * 10) / 10,
            durationMs: Math.round(outcome.durationMs * 10) / 10,
            aborted: outcome.clientAborted || undefined,
          }, 'request')
        },
      }
    },
    refused(info) {
      if (enabled) log.info({ requestId: info.requestId, method: info.method, path: info.path.split('?')[0], status: info.status, code: info.code, durationMs: Math.round(info.durationMs * 10) / 10 }, 'request refused')
    },
  }
}
