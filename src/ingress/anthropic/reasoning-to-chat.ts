/**
 * Anthropic's thinking and effort settings -> OpenAI's reasoning_effort, and structured output
 * (output_config.format, or the older top-level output_format) -> response_format.
 */
import type { ChatRequest, ResponseFormat } from '../../core/openai-chat.ts'
import type { Json, JsonObject } from '../../core/json.ts'
import { fail, requireObject, requirePositiveInteger, requireString } from './fields.ts'
import { stripSchemaUri } from './tools-to-chat.ts'
import { nameMap } from '../../core/name-map.ts'

type Effort = NonNullable<ChatRequest['reasoning_effort']>

const EFFORTS: Record<string, Effort> = nameMap({ low: 'low', medium: 'medium', high: 'high', xhigh: 'high', max: 'high' })

function effortFromConfig(outputConfig: JsonObject | undefined): Effort | undefined {
  const raw = outputConfig?.effort
  if (raw === undefined || raw === null) return undefined
  const name = requireString(raw, 'output_config.effort')
  const effort = EFFORTS[name]
  if (effort === undefined) fail('output_config.effort', `must be one of ${Object.keys(EFFORTS).join(', ')} (got '${name}')`)
  return effort
}

function effortFromBudget(budget: number): Effort {
  if (budget <= 2048) return 'low'
  if (budget <= 8192) return 'medium'
  return 'high'
}

/**
 * Undefined means "send no reasoning_effort". Disabled thinking maps to that rather than to 'none',
 * which o-series and gpt-5 models reject; the vendor's default applies.
 */
export function reasoningEffort(body: JsonObject): Effort | undefined {
  const outputConfig = body.output_config === undefined || body.output_config === null
    ? undefined
    : requireObject(body.output_config, 'output_config')
  const explicit = effortFromConfig(outputConfig)
  if (body.thinking === undefined || body.thinking === null) return explicit
  const thinking = requireObject(body.thinking, 'thinking')
  const type = requireString(thinking.type, 'thinking.type')
  if (type === 'disabled') return undefined
  if (explicit !== undefined) return explicit
  if (type === 'enabled') return effortFromBudget(requirePositiveInteger(thinking.budget_tokens, 'thinking.budget_tokens'))
  // 'adaptive' and newer modes let the model decide how much to think: the middle setting.
  return 'medium'
}

export function responseFormat(body: JsonObject): ResponseFormat | undefined {
  const fromConfig = isPresent(body.output_config) ? requireObject(body.output_config, 'output_config').format : undefined
  if (isPresent(fromConfig)) return jsonSchemaFormat(fromConfig, 'output_config.format')
  if (isPresent(body.output_format)) return jsonSchemaFormat(body.output_format, 'output_format')
  return undefined
}

function isPresent(value: Json | undefined): value is Json {
  return value !== undefined && value !== null
}

function jsonSchemaFormat(value: Json, path: string): ResponseFormat {
  const format = requireObject(value, path)
  const type = requireString(format.type, `${path}.type`)
  if (type !== 'json_schema') fail(`${path}.type`, `must be 'json_schema' (got '${type}')`)
  const schema = stripSchemaUri(requireObject(format.schema, `${path}.schema`))
  return { type: 'json_schema', json_schema: { name: 'output', schema, strict: true } }
}
