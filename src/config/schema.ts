/**
 * The config file's one schema. Every object is strict (unknown keys are errors) so a typo fails at
 * start-up instead of being silently ignored. Interpolated values arrive as strings, so numeric and
 * boolean fields accept their string forms.
 */
import { z } from 'zod'
import { nameMap } from '../core/name-map.ts'

const numeric = (v: unknown): unknown => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v)
const boolish = (v: unknown): unknown => (v === 'true' ? true : v === 'false' ? false : v)

const int = (min = 0) => z.preprocess(numeric, z.number().int().min(min))
const num = (min = 0) => z.preprocess(numeric, z.number().min(min))
const bool = () => z.preprocess(boolish, z.boolean())
/** A map of names the config declares, looked up by names clients and admins send: no prototype (core/name-map.ts). */
const byName = <T extends z.ZodType>(value: T) => z.record(z.string(), value).transform((m) => nameMap(m))
const dateTime = () => z.preprocess((v) => (v instanceof Date ? v.toISOString() : v), z.iso.datetime({ offset: true }))

/** A TCP port; 0 means any free port. Node throws ERR_SOCKET_BAD_PORT at listen for anything else. */
const port = () => z.preprocess(numeric, z.number().int().min(0).max(65535, 'a port from 0 to 65535'))

/** A URL whose scheme is one of `schemes` (`http:`...): what the exporter or client will accept. */
function urlWith(value: string, schemes: readonly string[]): boolean {
  try {
    return schemes.includes(new URL(value.trim()).protocol)
  } catch {
    return false
  }
}

/** The schemes stores/sql.ts opens (openSqlDb); anything else failed only at start, with a stack trace. */
const STORE_URL = /^(sqlite:|postgres:\/\/|postgresql:\/\/)/

/** A regular expression that compiles as the redactor compiles it (telemetry/redact.ts). */
const regex = () => z.string().superRefine((pattern, ctx) => {
  try {
    new RegExp(pattern, 'g')
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` })
  }
})

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export const limitsSchema = z.strictObject({
  rps: int(1).optional(),
  rpm: int(1).optional(),
  rpd: int(1).optional(),
  tpm: int(1).optional(),
  tpd: int(1).optional(),
  concurrency: int(1).optional(),
})

export const budgetSchema = z.strictObject({
  usd: num(0),
  period: z.enum(['daily', 'weekly', 'monthly', 'total']).default('monthly'),
  alert_at: z.preprocess(numeric, z.number().min(0).max(1)).optional(),
  /** Cap per agent run (x-switchboard-run-id) under this key or team. */
  per_run_usd: num(0).optional(),
  /** IANA time zone the calendar periods follow (default UTC). */
  timezone: z.string().refine(validTimeZone, 'an IANA time zone such as UTC or Europe/Paris').optional(),
  /** POSTed a JSON alert once per period when spend crosses alert_at. */
  alert_webhook: z.url().optional(),
})

const timeoutsSchema = z.strictObject({
  connect_ms: int(1).optional(),
  first_byte_ms: int(1).optional(),
  idle_ms: int(1).optional(),
  total_ms: int(1).optional(),
})

/** One forwarded-path rule: the client's path (a glob, `*` any run of characters, `/` included) and its methods. */
const passthroughRuleSchema = z.strictObject({
  path: z.string().regex(/^\/v1\/[^\s?#]*$/, 'a path glob starting with /v1/ (e.g. /v1/audio/*), without a query'),
  methods: z.array(z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']))).min(1),
})

const providerSchema = z.strictObject({
  type: z.enum(['openai', 'openai-compatible', 'azure', 'anthropic', 'gemini', 'bedrock', 'mock']),
  base_url: z.string().optional(),
  api_version: z.string().optional(),
  keys: z.array(z.string()).optional(),
  region: z.string().optional(),
  access_key_id: z.string().optional(),
  secret_access_key: z.string().optional(),
  session_token: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeouts: timeoutsSchema.optional(),
  /** OpenAI-type providers: `translate` serves /v1/responses through Chat Completions (servers without the Responses API). */
  responses: z.enum(['native', 'translate']).optional(),
  /**
   * OpenAI-type providers: the forwarded /v1/* requests (paths outside the gateway's own routes)
   * this provider accepts; absent: all of them. Forwarding uses the provider's vendor key, so a
   * provider shared by several teams should list only stateless endpoints (docs/keys.md).
   */
  passthrough: z.array(passthroughRuleSchema).optional(),
})

const pricingSchema = z.strictObject({
  input: num(0),
  output: num(0),
  cached_input: num(0).optional(),
  cache_write: num(0).optional(),
  reasoning: num(0).optional(),
})

const targetSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  weight: num(0).default(1),
  /** The vendor's own limits for this deployment, so the gateway spreads load instead of tripping 429s. */
  rpm: int(1).optional(),
  tpm: int(1).optional(),
  timeouts: timeoutsSchema.optional(),
  /** Whether this model takes reasoning_effort derived from a translated request (default: yes, except openai-compatible). */
  reasoning: bool().optional(),
})

const modelSchema = z.strictObject({
  targets: z.array(targetSchema).min(1),
  fallbacks: z.array(z.string()).default([]),
  context_window_fallbacks: z.array(z.string()).default([]),
  content_policy_fallbacks: z.array(z.string()).default([]),
  pricing: pricingSchema.optional(),
  timeouts: timeoutsSchema.optional(),
  limits: limitsSchema.optional(),
  cache: z.strictObject({ enabled: bool().optional(), ttl_ms: int(0).optional() }).optional(),
  /** Output-token cap assumed for reservations when the request sets no max_tokens. */
  default_max_output_tokens: int(1).optional(),
})

const keySchema = z.strictObject({
  key: z.string().optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'a 64-character hex sha256 digest').optional(),
  models: z.array(z.string()).optional(),
  limits: limitsSchema.optional(),
  budget: budgetSchema.optional(),
  expires_at: dateTime().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  tags: z.array(z.string()).optional(),
  cache: bool().optional(),
})

const teamSchema = z.strictObject({
  models: z.array(z.string()).optional(),
  limits: limitsSchema.optional(),
  model_limits: byName(limitsSchema).optional(),
  budget: budgetSchema.optional(),
  keys: byName(keySchema).prefault({}),
  cache: bool().optional(),
})

export const configSchema = z.strictObject({
  server: z.strictObject({
    port: port().default(8080),
    host: z.string().default('127.0.0.1'),
    max_body_bytes: int(1).default(10 * 1024 * 1024),
    admin_keys: z.array(z.string()).default([]),
    shutdown_grace_ms: int(0).default(30_000),
    /** `keys` (default) requires a virtual key; `none` admits anonymous calls as team `default` (local use only). */
    auth: z.enum(['keys', 'none']).default('keys'),
  }).default({ port: 8080, host: '127.0.0.1', max_body_bytes: 10 * 1024 * 1024, admin_keys: [], shutdown_grace_ms: 30_000, auth: 'keys' }),
  store: z.strictObject({
    url: z.string().regex(STORE_URL, 'expected sqlite://./rel.db, sqlite:///abs.db, "sqlite::memory:" or postgres://user:pass@host:5432/db').default('sqlite://./data/switchboard.db'),
    ledger_retention_days: int(0).optional(),
    /** PostgreSQL: where ledger rows the store did not take by the end of shutdown are spilled (docs/costs.md); default ./data. */
    ledger_spill_dir: z.string().min(1).optional(),
    /** Days the gateway keeps Responses it produced on translated targets (previous_response_id); default 30. */
    responses_retention_days: int(1).optional(),
  }).default({ url: 'sqlite://./data/switchboard.db' }),
  redis: z.strictObject({
    // Empty: no Redis. ioredis throws at start on a string that is not a URL, and reads another
    // scheme's URL as a host name.
    url: z.string().refine((u) => u.trim() === '' || urlWith(u, ['redis:', 'rediss:']), 'expected redis://host:6379/0 or rediss://..., or empty for no Redis').default(''),
    key_prefix: z.string().default('sb:'),
    on_failure: z.enum(['fail-open', 'fail-closed']).default('fail-open'),
    // Rate-limit leases (docs/limits.md "Leases"): blocks of a large limit admitted locally.
    leases: z.strictObject({
      enabled: bool().default(true),
      divisor: int(2).default(16),
      max_block: int(2).default(256),
      ttl_ms: int(100).default(15_000),
    }).default({ enabled: true, divisor: 16, max_block: 256, ttl_ms: 15_000 }),
  }).default({ url: '', key_prefix: 'sb:', on_failure: 'fail-open', leases: { enabled: true, divisor: 16, max_block: 256, ttl_ms: 15_000 } }),
  providers: byName(providerSchema).prefault({}),
  models: byName(modelSchema).prefault({}),
  routing: z.strictObject({
    strategy: z.enum(['weighted', 'round-robin', 'least-busy', 'latency', 'cost']).default('weighted'),
    retries: z.strictObject({
      max_attempts: int(1).default(4),
      backoff_ms: int(0).default(250),
      max_backoff_ms: int(0).default(8000),
    }).default({ max_attempts: 4, backoff_ms: 250, max_backoff_ms: 8000 }),
    timeouts: z.strictObject({
      connect_ms: int(1).default(5000),
      // Unset: 60 s for streams; a non-streamed call waits up to total_ms (see routing.md).
      first_byte_ms: int(1).optional(),
      // A reasoning model may send nothing for minutes mid-stream (OpenAI sends no keepalives);
      // agent clients wait five minutes themselves.
      idle_ms: int(1).default(300_000),
      total_ms: int(1).default(600_000),
    }).default({ connect_ms: 5000, idle_ms: 300_000, total_ms: 600_000 }),
    circuit_breaker: z.strictObject({
      failures: int(1).default(5),
      window_ms: int(1).default(60_000),
      cooldown_ms: int(1).default(30_000),
    }).default({ failures: 5, window_ms: 60_000, cooldown_ms: 30_000 }),
    default_max_output_tokens: int(1).default(4096),
  }).default({
    strategy: 'weighted',
    retries: { max_attempts: 4, backoff_ms: 250, max_backoff_ms: 8000 },
    timeouts: { connect_ms: 5000, idle_ms: 300_000, total_ms: 600_000 },
    circuit_breaker: { failures: 5, window_ms: 60_000, cooldown_ms: 30_000 },
    default_max_output_tokens: 4096,
  }),
  teams: byName(teamSchema).prefault({}),
  cache: z.strictObject({
    enabled: bool().default(false),
    mode: z.enum(['deterministic', 'all', 'opt-in']).default('deterministic'),
    ttl_ms: int(0).default(3_600_000),
    scope: z.enum(['team', 'key', 'global']).default('team'),
    max_bytes: int(0).default(256 * 1024 * 1024),
  }).default({ enabled: false, mode: 'deterministic', ttl_ms: 3_600_000, scope: 'team', max_bytes: 256 * 1024 * 1024 }),
  telemetry: z.strictObject({
    service_name: z.string().default('switchboard'),
    // Empty: tracing off (or the OTEL_* variables). The OTel exporters throw at start on anything but an http(s) URL.
    otlp_endpoint: z.string().refine((u) => u.trim() === '' || urlWith(u, ['http:', 'https:']), 'expected an http(s) URL such as http://collector:4318, or empty').default(''),
    otlp_protocol: z.enum(['http/protobuf', 'http/json', 'grpc']).default('http/protobuf'),
    capture_content: bool().default(false),
    /** Extra regular expressions redacted from captured content (emails, keys and card numbers always are). */
    redact_patterns: z.array(regex()).default([]),
    /** Cap on captured text per attribute, in bytes. */
    content_max_bytes: int(0).default(16384),
    metrics: bool().default(true),
    /** GenAI metrics over OTLP to the trace endpoint (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT etc. work too). */
    otlp_metrics: bool().default(false),
    metrics_port: port().optional(),
  }).default({ service_name: 'switchboard', otlp_endpoint: '', otlp_protocol: 'http/protobuf', capture_content: false, redact_patterns: [], content_max_bytes: 16384, metrics: true, otlp_metrics: false }),
  logging: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    access_log: bool().default(true),
  }).default({ level: 'info', access_log: true }),
})

export type Config = z.infer<typeof configSchema>
export type ProviderEntry = z.infer<typeof providerSchema>
export type ModelEntry = z.infer<typeof modelSchema>
export type TargetEntry = z.infer<typeof targetSchema>
export type TeamEntry = z.infer<typeof teamSchema>
export type KeyEntry = z.infer<typeof keySchema>
export type Limits = z.infer<typeof limitsSchema>
export type Budget = z.infer<typeof budgetSchema>
export type Pricing = z.infer<typeof pricingSchema>
