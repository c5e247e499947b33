/**
 * One model call, from the client's bytes to the settled ledger record.
 *
 * Once per request: auth -> body -> validate -> authorize model -> limits and budgets (reserve) ->
 * cache lookup. Per attempt: translate -> send -> parse. On the way back, in reverse: cache store ->
 * settle reservations -> ledger -> telemetry. Streams settle when the stream ends or the client
 * leaves, never when a handler returns.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatewayError, toGatewayError } from '../core/errors.ts'
import { anyGlobMatches } from '../core/glob.ts'
import type { AttemptRecord, CacheResult, CallInfo, CallOutcome, IngressFormat, Operation, Principal } from '../core/call.ts'
import type { CachedResponse, Reservation, RequestObserver } from '../core/ports.ts'
import { readBody } from '../server/read-body.ts'
import { createPlan, type AttemptFailure } from '../routing/plan.ts'
import { requestTotalMs } from '../routing/deployments.ts'
import { noHealthyUpstream } from '../routing/no-upstream.ts'
import { TransportError } from '../upstream/types.ts'
import type { PipelineDeps } from './deps.ts'
import { requestFallbacksFrom, requestIdFrom, runIdFrom, tagsFrom } from './headers.ts'
import { parseCall, parseJsonBody, parsePassthroughBody } from './parse-request.ts'
import { estimatePromptTokens } from './estimate.ts'
import { sendBody, sendError } from './client-response.ts'
import { finalError, supersedes } from './upstream-error.ts'
import { runAttempt, type AttemptContext, type AttemptResult, type AttemptSuccess, type ResponseState } from './run-attempt.ts'
import { SHUTDOWN, shuttingDown } from './shutdown.ts'

export interface Route {
  operation: Operation
  ingress: IngressFormat
  /** For 'passthrough': the path after /v1, the query and the method. */
  path?: string
  query?: string
  method?: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH'
  /** A forwarded path the gateway will not forward (server/routes.ts forwardRefusal), answered after authentication. */
  refused?: GatewayError
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

export async function handleModelCall(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
  const t0 = performance.now()
  const startedAt = Date.now()
  const requestId = requestIdFrom(req.headers)
  const state: ResponseState = { headers: { 'x-request-id': requestId }, committed: false, ttftMs: undefined }
  const reservations: Reservation[] = []
  const attempts: AttemptRecord[] = []
  let call: CallInfo | undefined
  let observer: RequestObserver | undefined
  let cache: CacheResult = 'bypass'
  let success: AttemptSuccess | undefined
  let failure: GatewayError | undefined
  let clientAborted = false
  let stored = false
  // Known once authenticated: a request refused after that (400, 403, 404, 413) is still a ledger row.
  let principal: Principal | undefined
  let requestedModel = ''
  // A configured model the request named (a label for refusals after that point).
  let knownModel: string | undefined

  const abort = new AbortController()
  const onClose = () => {
    if (!res.writableFinished) {
      clientAborted = true
      abort.abort(new TransportError('aborted', 'the client disconnected'))
    }
  }
  res.on('close', onClose)
  deps.inflight?.add(abort)

  try {
    // Awaited only when a promise (a store lookup): each needless await is a microtask-queue trip.
    const authenticated = deps.auth.authenticate(req.headers, req.socket.remoteAddress)
    principal = authenticated instanceof Promise ? await authenticated : authenticated
    if (route.refused) throw route.refused
    const raw = await readBody(req, deps.config.server.max_body_bytes)
    const forwarded = route.operation === 'passthrough' ? parsePassthroughBody(raw, req.headers['content-type']) : undefined
    const body = forwarded ? forwarded.body : parseJsonBody(raw)
    if (typeof body.model === 'string') requestedModel = body.model.slice(0, 200)
    const parsed = parseCall(route.operation, body)
    const publicModel = route.operation === 'passthrough' ? passthroughModel(parsed.model, req.headers) : parsed.model
    const model = deps.config.models[publicModel]
    if (!model) {
      throw new GatewayError({ status: 404, code: 'model_not_found', param: 'model', message: `The model '${publicModel}' does not exist on this gateway. GET /v1/models lists the models your key may use.` })
    }
    knownModel = publicModel
    if (!anyGlobMatches(principal.keyModels, publicModel) || !anyGlobMatches(principal.teamModels, publicModel)) {
      throw new GatewayError({ status: 403, code: 'model_not_allowed', param: 'model', message: `Your key may not use the model '${publicModel}'. GET /v1/models lists the models it may use.` })
    }
    // previous_response_id naming a response the gateway kept: that conversation becomes the input.
    const expanding = route.operation === 'responses' ? deps.conversations?.expand(principal.team, body) : undefined
    const history = expanding ? await expanding : undefined
    const runId = runIdFrom(req.headers)
    if (runId) state.headers['x-switchboard-run-id'] = runId
    // A request's own fallbacks must be models the key may use (the configured ones are the operator's choice).
    const asked = requestFallbacksFrom(req.headers)
    const requestFallbacks = asked.length === 0 ? asked : asked.filter((m) => anyGlobMatches(principal!.keyModels, m) && anyGlobMatches(principal!.teamModels, m))
    call = {
      requestId,
      operation: route.operation,
      ingress: route.ingress,
      publicModel,
      principal,
      runId,
      tags: tagsFrom(req.headers),
      stream: parsed.stream,
      body: history?.body ?? body,
      rawBody: history?.raw ?? raw,
      headers: req.headers,
      // A forwarded body that is not JSON (audio, files) holds no prompt to estimate.
      estimatedInputTokens: forwarded && !forwarded.json ? 0 : estimatePromptTokens(history?.raw ?? raw),
      maxOutputTokens: parsed.maxOutputTokens ?? model.default_max_output_tokens ?? deps.config.routing.default_max_output_tokens,
      requestFallbacks,
      startedAt,
    }
    observer = deps.observability.startRequest(call)

    // Limits and budgets reserve at once: in Redis mode their commands leave together (batched per
    // turn, then pipelined by ioredis) and share a round trip. A refusal by one releases the others'
    // reservations in `finally`, as any refused call does; the first refusal in guard order is the
    // answer. A guard that decides at once answers without a promise (memory, or nothing applies):
    // then nothing is awaited.
    const reserving = deps.guards.length > 0 ? reserveAll(deps.guards, call, reservations, state.headers) : undefined
    if (reserving) await reserving

    if (deps.cache) {
      const looked = deps.cache.lookup(call)
      const lookup = looked instanceof Promise ? await looked : looked
      cache = lookup.result
      if (lookup.result === 'hit') {
        if (lookup.headers) Object.assign(state.headers, lookup.headers)
        success = replayCached(res, state, lookup.response)
        return
      }
    }
    state.headers['x-switchboard-cache'] = cache

    const totalMs = requestTotalMs(deps.config, publicModel)
    const plan = createPlan(publicModel, {
      deadline: Date.now() + totalMs,
      config: deps.config,
      targets: deps.deployments.targets,
      order: deps.health.order,
      requestFallbacks,
    })
    const totalTimer = setTimeout(() => abort.abort(new TransportError('total_timeout', 'the request exceeded its total timeout')), totalMs)
    let last: AttemptFailure | undefined
    let reported: AttemptFailure | undefined
    let lastProvider: string | undefined
    // Fallback models the plan reached, and what their own limits answered (a refusal, or nothing).
    let fallbacks: Map<string, GatewayError | undefined> | undefined
    let fallbackRefusal: GatewayError | undefined
    try {
      for (let step = plan.next(); step; step = plan.next(last)) {
        if (step.delayMs > 0) await sleep(step.delayMs, abort.signal)
        if (abort.signal.aborted) break
        // A fallback model's own limits are reserved before its first attempt; a model they refuse
        // is skipped. Calls that stay on their model (nearly all) never get here.
        const stepModel = step.target.publicModel
        if (stepModel !== publicModel) {
          fallbacks ??= new Map()
          if (!fallbacks.has(stepModel)) fallbacks.set(stepModel, await reserveFallback(deps.guards, call, stepModel, reservations))
          const refusal = fallbacks.get(stepModel)
          if (refusal) {
            fallbackRefusal = refusal
            last = { kind: 'unavailable', reason: refusal.message }
            continue
          }
        }
        const attempt: AttemptContext = { call, route, step, res, state, signal: abort.signal, observer, attempts, collect: cache === 'miss', inFlight: false }
        let result: AttemptResult
        try {
          result = await runAttempt(deps, attempt)
        } finally {
          // An attempt that threw after the target counted it (a bug: it answers 500) still frees its slot.
          if (attempt.inFlight) deps.health.finished(step.target, { ok: false, failure: 'internal_error' })
        }
        if (result.ok) {
          success = result
          break
        }
        last = result.failure
        // The client hears the last vendor failure, not a later "circuit open" skip or "cannot translate".
        if (supersedes(last, reported)) {
          reported = last
          lastProvider = step.target.provider.name
        }
        if (result.committed) break
      }
    } finally {
      clearTimeout(totalTimer)
    }
    if (!success && !state.committed && !clientAborted) {
      const reason = abort.signal.reason
      if (reason === SHUTDOWN) throw shuttingDown()
      if (reason instanceof TransportError && reason.failure === 'total_timeout') reported = { kind: 'transport', failure: 'total_timeout' }
      // A fallback that would have served but for its limits: the client hears that limit's 429
      // (with its retry-after), which says when the call can pass.
      if (fallbackRefusal) throw fallbackRefusal
      throw finalError(reported ?? noHealthyUpstream(publicModel, deps.config, deps.deployments.targets, deps.health), lastProvider)
    }
    if (success && cache === 'miss' && deps.cache && success.cacheable) {
      deps.cache.store(call, success.cacheable)
      stored = true
    }
  } catch (err) {
    failure = toGatewayError(err)
    if (failure.status >= 500 && failure.code === 'internal_error') deps.log.error({ err, requestId }, 'internal error')
    const lastAttempt = attempts.at(-1)
    const tried = lastAttempt ? { 'x-switchboard-provider': lastAttempt.provider, 'x-switchboard-model': lastAttempt.upstreamModel } : undefined
    if (!clientAborted) sendError(res, failure, route.ingress, { ...state.headers, ...tried, 'x-switchboard-attempts': String(attempts.length) })
  } finally {
    res.off('close', onClose)
    deps.inflight?.delete(abort)
    const durationMs = performance.now() - t0
    const outcome: CallOutcome = {
      status: failure ? failure.status : clientAborted && !success ? 499 : 200,
      errorCode: failure?.code ?? success?.streamError ?? (clientAborted && !success ? 'client_closed_request' : undefined),
      usage: success?.usage,
      provider: success?.provider,
      upstreamModel: success?.upstreamModel,
      responseModel: success?.responseModel,
      responseId: success?.responseId,
      finishReasons: success?.finishReasons,
      attempts,
      cache,
      costUsd: cache === 'hit' ? 0 : success?.costUsd ?? (failure ? 0 : null),
      savedUsd: cache === 'hit' ? success?.costUsd ?? null : undefined,
      ttftMs: state.ttftMs,
      durationMs,
      clientAborted,
      streamedEvents: success?.streamedEvents,
    }
    if (call) {
      // A miss that stored nothing releases duplicates waiting on its Idempotency-Key.
      if (cache === 'miss' && !stored) deps.cache?.abandon?.(call)
      for (let i = reservations.length - 1; i >= 0; i--) {
        try { reservations[i]!.settle(outcome) } catch (err) { deps.log.error({ err, requestId }, 'settling a reservation failed') }
      }
      deps.ledger.record(call, outcome)
      observer?.end(outcome)
    } else if (failure) {
      deps.observability.refused({ requestId, method: req.method ?? 'POST', path: req.url ?? '', status: failure.status, code: failure.code, durationMs, team: principal?.team, model: knownModel })
      if (principal) deps.ledger.record(refusedCall(requestId, route, principal, requestedModel, req.headers, startedAt), outcome)
    }
  }
}

type GuardAnswer = Reservation | undefined | Promise<Reservation | undefined>

/** Reserves with every guard (see the call site); throws the first refusal in guard order. */
function reserveAll(guards: PipelineDeps['guards'], call: CallInfo, into: Reservation[], headers: Record<string, string>): Promise<void> | undefined {
  const answers: GuardAnswer[] = new Array<GuardAnswer>(guards.length)
  let pending = false
  for (let i = 0; i < guards.length; i++) {
    try {
      answers[i] = guards[i]!.reserve(call)
    } catch (err) {
      answers[i] = Promise.reject(err)
    }
    if (answers[i] instanceof Promise) pending = true
  }
  if (!pending) {
    for (const a of answers) keep(a as Reservation | undefined, into, headers)
    return undefined
  }
  return Promise.allSettled(answers).then((settled) => {
    let refusal: { reason: unknown } | undefined
    for (const r of settled) {
      if (r.status === 'rejected') refusal ??= { reason: r.reason }
      else keep(r.value, into, headers)
    }
    if (refusal) throw refusal.reason
  })
}

/**
 * Reserves a fallback model's own limits with every guard that has some; a refusal is returned,
 * not thrown, so the plan moves past that model. Reservations join the call's, settled with it.
 */
async function reserveFallback(guards: PipelineDeps['guards'], call: CallInfo, model: string, into: Reservation[]): Promise<GatewayError | undefined> {
  for (const g of guards) {
    if (!g.reserveFallback) continue
    try {
      const r = await g.reserveFallback(call, model)
      if (r) into.push(r)
    } catch (err) {
      return toGatewayError(err)
    }
  }
  return undefined
}

function keep(r: Reservation | undefined, into: Reservation[], headers: Record<string, string>): void {
  if (!r) return
  into.push(r)
  if (r.headers) Object.assign(headers, r.headers)
}

/**
 * The ledger's view of a request refused before it became a call (bad body, unknown or forbidden
 * model, too large): who asked for what, at zero cost, with the refusal code.
 */
function refusedCall(requestId: string, route: Route, principal: Principal, requestedModel: string, headers: IncomingMessage['headers'], startedAt: number): CallInfo {
  return {
    requestId, operation: route.operation, ingress: route.ingress, publicModel: requestedModel, principal,
    runId: runIdFrom(headers), tags: tagsFrom(headers), stream: false, body: {}, rawBody: undefined, headers,
    estimatedInputTokens: 0, maxOutputTokens: 0, startedAt,
  }
}

/**
 * The model of a forwarded call: the body's own `model` (JSON member or form field, which the
 * vendor reads too) wins; the x-switchboard-model header names it for a body that has none (a GET,
 * a DELETE, a file upload or batch creation, whose vendor APIs take no model field).
 */
function passthroughModel(fromBody: string, headers: IncomingMessage['headers']): string {
  if (fromBody) return fromBody
  const model = typeof headers['x-switchboard-model'] === 'string' ? headers['x-switchboard-model'] : ''
  if (!model) throw new GatewayError({ status: 400, code: 'invalid_request', param: 'model', message: "This path is forwarded to the provider of a model: name it in the body's 'model' field or, for a body without one (a GET, a file upload), in the x-switchboard-model header." })
  return model
}

function replayCached(res: ServerResponse, state: ResponseState, cached: CachedResponse): AttemptSuccess {
  const headers = {
    ...state.headers,
    'x-switchboard-cache': 'hit',
    'x-switchboard-provider': cached.provider,
    'x-switchboard-model': cached.upstreamModel,
    'x-switchboard-attempts': '0',
    'x-switchboard-cost-usd': '0',
  }
  if (cached.kind === 'body') {
    sendBody(res, cached.status, cached.contentType, cached.body, headers)
  } else {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
    for (const f of cached.frames) res.write(f)
    res.end()
  }
  state.committed = true
  state.ttftMs = 0
  return { ok: true, usage: cached.usage, provider: cached.provider, upstreamModel: cached.upstreamModel, costUsd: cached.costUsd, finishReasons: [], cacheable: undefined }
}
