/**
 * Prometheus metrics (spec section 6). Per request: a few Map lookups to reach pre-bound cells and
 * number additions; no label objects, no strings. Labels come only from config names (model,
 * provider, team) and from closed sets (status code, cache result, attempt outcome), so a client
 * cannot grow the series count.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { CallInfo, CallOutcome } from '../core/call.ts'
import { Cache2, CounterFamily, HistogramFamily, type CounterCell, type HistogramCell } from './prom-cells.ts'

/** LLM calls take from tens of milliseconds (cache hits, embeddings) to minutes (long reasoning). */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300] as const
export const TTFT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60] as const

export interface BudgetRemaining { scope: string; id: string; usd: number }
export interface CircuitState { provider: string; model: string; open: boolean }

export interface GatewayMetrics {
  /** Prometheus text for GET /metrics. */
  scrape(): Promise<{ contentType: string; body: string }>
  /** ttftMs: arrival to first streamed byte (streams only). */
  request(call: CallInfo, outcome: CallOutcome, ttftMs: number | undefined): void
  /**
   * A request refused before its call began (401, 400, 403, 404, 413): labelled with its team once
   * the key is known and its model when that is a configured one, else "none".
   */
  refused(status: number, team?: string, model?: string): void
  /** Sources read at scrape time: refusals by rate-limit scope (cumulative), budgets, circuits. */
  rateLimitedFrom(source: () => Readonly<Record<string, number>>): void
  budgetRemainingFrom(source: () => Iterable<BudgetRemaining>): void
  circuitOpenFrom(source: () => Iterable<CircuitState>): void
  /** The ledger writer's counts: rows written, dropped (queue full, or refused by the store), queued. */
  ledgerFrom(source: () => { written: number; dropped: number; queued: number }): void
  /** A config reload was applied, or rejected (invalid file). */
  configReload(result: 'applied' | 'rejected'): void
  /** The public model names that may become labels (after a reload adds or removes models). */
  setModels(names: Iterable<string>): void
}

interface ModelTeamCells {
  input: CounterCell
  output: CounterCell
  cached: CounterCell
  reasoning: CounterCell
  cost: CounterCell
  /** provider -> status -> requests cell */
  requests: Map<string, Map<number, CounterCell>>
}

interface ModelCells { duration: HistogramCell; ttft: HistogramCell }

// Node's process metrics are per process, not per gateway: collected once into their own registry.
let processRegistry: Registry | undefined
function defaultMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

const NONE = 'none'

export function createMetrics(modelNames: Iterable<string>): GatewayMetrics {
  const registry = new Registry()
  const known = new Set(modelNames)
  const requests = new CounterFamily(registry, 'switchboard_requests_total', 'Requests by public model, provider that answered, team and HTTP status.', ['model', 'provider', 'team', 'status'])
  const duration = new HistogramFamily(registry, 'switchboard_request_duration_seconds', 'Request duration from arrival to the last byte, by public model.', ['model'], DURATION_BUCKETS)
  const ttft = new HistogramFamily(registry, 'switchboard_time_to_first_token_seconds', 'Time from arrival to the first streamed byte, streamed requests only.', ['model'], TTFT_BUCKETS)
  const tokens = new CounterFamily(registry, 'switchboard_tokens_total', 'Tokens by public model, team and kind (input includes cached; output includes reasoning).', ['model', 'team', 'kind'])
  const cost = new CounterFamily(registry, 'switchboard_cost_usd_total', 'Cost in USD by public model and team (priced requests only).', ['model', 'team'])
  const cacheReqs = new CounterFamily(registry, 'switchboard_cache_requests_total', 'Response cache results.', ['result'])
  const attemptsF = new CounterFamily(registry, 'switchboard_upstream_attempts_total', 'Upstream attempts by provider and outcome (success or the failure class).', ['provider', 'outcome'])

  const cacheCells = { hit: cacheReqs.cell(['hit']), miss: cacheReqs.cell(['miss']), bypass: cacheReqs.cell(['bypass']) }
  const modelTeam = new Cache2<ModelTeamCells>((model, team) => ({
    input: tokens.cell([model, team, 'input']),
    output: tokens.cell([model, team, 'output']),
    cached: tokens.cell([model, team, 'cached']),
    reasoning: tokens.cell([model, team, 'reasoning']),
    cost: cost.cell([model, team]),
    requests: new Map(),
  }))
  const perModel = new Map<string, ModelCells>()
  const attemptCells = new Cache2<CounterCell>((provider, outcome) => attemptsF.cell([provider, outcome]))
  const refusedCells = new Map<string, CounterCell>()

  let rateSource: (() => Readonly<Record<string, number>>) | undefined
  new Counter({
    name: 'switchboard_rate_limited_total', help: 'Requests refused by a rate limit, by the scope whose limit was hit (key, team, key_model, team_model).', labelNames: ['scope'], registers: [registry],
    collect() {
      this.reset()
      if (rateSource) for (const [scope, n] of Object.entries(rateSource())) this.inc({ scope }, n)
    },
  })
  let ledgerSource: (() => { written: number; dropped: number; queued: number }) | undefined
  new Counter({
    name: 'switchboard_ledger_records_total', help: 'Ledger records by result: written to the store, or dropped (the queue was full while the store failed, or the store refused the record).', labelNames: ['result'], registers: [registry],
    collect() {
      this.reset()
      if (!ledgerSource) return
      const s = ledgerSource()
      this.inc({ result: 'written' }, s.written)
      this.inc({ result: 'dropped' }, s.dropped)
    },
  })
  new Gauge({
    name: 'switchboard_ledger_queued_records', help: 'Ledger records waiting to be written (grows while the store is unavailable).', registers: [registry],
    collect() {
      this.set(ledgerSource ? ledgerSource().queued : 0)
    },
  })
  let budgetSource: (() => Iterable<BudgetRemaining>) | undefined
  let circuitSource: (() => Iterable<CircuitState>) | undefined
  new Gauge({
    name: 'switchboard_budget_remaining_usd', help: 'USD left in the current budget period, by scope (key, team) and id.', labelNames: ['scope', 'id'], registers: [registry],
    collect() {
      this.reset()
      if (!budgetSource) return
      // Per-run caps stay out: a run id is the client's string (every Claude Code or Codex session
      // is one), so a series per run would grow without bound. GET /admin/v1/spend shows runs.
      for (const b of budgetSource()) if (b.scope !== 'run') this.set({ scope: b.scope, id: b.id }, b.usd)
    },
  })
  new Gauge({
    name: 'switchboard_circuit_open', help: '1 while the circuit of a provider target is open, else 0.', labelNames: ['provider', 'model'], registers: [registry],
    collect() {
      this.reset()
      if (!circuitSource) return
      // Two public models may share a deployment: any open circuit on it shows.
      const seen = new Map<string, number>()
      for (const c of circuitSource()) {
        const k = `${c.provider}\u0000${c.model}`
        const v = Math.max(seen.get(k) ?? 0, c.open ? 1 : 0)
        seen.set(k, v)
        this.set({ provider: c.provider, model: c.model }, v)
      }
    },
  })

  const requestCell = (mt: ModelTeamCells, model: string, provider: string, team: string, status: number): CounterCell => {
    let byStatus = mt.requests.get(provider)
    if (!byStatus) mt.requests.set(provider, (byStatus = new Map()))
    let c = byStatus.get(status)
    if (!c) byStatus.set(status, (c = requests.cell([model, provider, team, String(status)])))
    return c
  }

  const reloads = new Counter({ name: 'switchboard_config_reloads_total', help: 'Config file reloads, by result (applied, or rejected because the new file was invalid).', labelNames: ['result'], registers: [registry] })

  return {
    configReload(result) {
      reloads.inc({ result })
    },
    setModels(names) {
      known.clear()
      for (const n of names) known.add(n)
    },
    async scrape() {
      const body = (await defaultMetrics().metrics()) + '\n' + (await registry.metrics())
      return { contentType: registry.contentType, body }
    },
    request(call, outcome, ttftMs) {
      const model = known.has(call.publicModel) ? call.publicModel : 'unknown'
      const team = call.principal.team
      const attempts = outcome.attempts
      const provider = outcome.provider ?? attempts[attempts.length - 1]?.provider ?? NONE
      const mt = modelTeam.get(model, team)
      requestCell(mt, model, provider, team, outcome.status).value += 1
      const u = outcome.usage
      if (u) {
        mt.input.value += u.inputTokens
        mt.output.value += u.outputTokens
        mt.cached.value += u.cachedInputTokens
        mt.reasoning.value += u.reasoningTokens
      }
      if (outcome.costUsd) mt.cost.value += outcome.costUsd
      let mc = perModel.get(model)
      if (!mc) perModel.set(model, (mc = { duration: duration.cell([model]), ttft: ttft.cell([model]) }))
      duration.observe(mc.duration, outcome.durationMs / 1000)
      if (ttftMs !== undefined) ttft.observe(mc.ttft, ttftMs / 1000)
      cacheCells[outcome.cache].value += 1
      for (let i = 0; i < attempts.length; i++) {
        const a = attempts[i]!
        attemptCells.get(a.provider, a.error ?? 'success').value += 1
      }
    },
    refused(status, team, model) {
      const id = `${status}\u0000${team ?? ''}\u0000${model ?? ''}`
      let c = refusedCells.get(id)
      if (!c) refusedCells.set(id, (c = requests.cell([model ?? NONE, NONE, team ?? NONE, String(status)])))
      c.value += 1
    },
    rateLimitedFrom(source) {
      rateSource = source
    },
    budgetRemainingFrom(source) {
      budgetSource = source
    },
    circuitOpenFrom(source) {
      circuitSource = source
    },
    ledgerFrom(source) {
      ledgerSource = source
    },
  }
}

/** Circuit state per target for switchboard_circuit_open, from the routing health's open circuits (by target id). */
export function circuitStates(
  targets: ReadonlyMap<string, ReadonlyArray<{ id: string; provider: { name: string }; upstreamModel: string }>>,
  openCircuits: () => Readonly<Record<string, string>>,
): () => CircuitState[] {
  return () => {
    const open = openCircuits()
    const out: CircuitState[] = []
    for (const list of targets.values()) for (const t of list) out.push({ provider: t.provider.name, model: t.upstreamModel, open: open[t.id] !== undefined })
    return out
  }
}
