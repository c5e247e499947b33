/** Everything the pipeline needs, assembled in main.ts. */
import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Authenticator, Guard, Ledger, Observability, Pricing, ResponseCache } from '../core/ports.ts'
import type { Operation } from '../core/call.ts'
import type { IngressCodec } from '../ingress/types.ts'
import type { ConversationStore } from '../responses-store/types.ts'
import type { Deployments } from '../routing/deployments.ts'
import type { InFlightCalls } from './shutdown.ts'

export type { TargetHealth } from '../routing/health.ts'
import type { TargetHealth } from '../routing/health.ts'
export interface PipelineDeps {
  config: Config
  deployments: Deployments
  auth: Authenticator
  /** Limits, then budgets: reserved in order, settled in reverse. */
  guards: readonly Guard[]
  cache: ResponseCache | undefined
  pricing: Pricing
  ledger: Ledger
  observability: Observability
  health: TargetHealth
  /** Codecs for ingress APIs served by translation through OpenAI Chat. */
  codecs: Partial<Record<Operation, IngressCodec>>
  /** Responses the gateway keeps for previous_response_id on translated targets (absent = off). */
  conversations?: ConversationStore
  /** The calls in progress, across config runtimes, so shutdown can end them (shutdown.ts). */
  inflight?: InFlightCalls
  log: Logger
}
