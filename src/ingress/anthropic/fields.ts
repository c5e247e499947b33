/**
 * Small readers for an untrusted Anthropic request body. Each one names the field it rejects
 * (`messages[2].content[0].type`) so the client can find its mistake without reading our code.
 */
import { invalidRequest } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { Json, JsonObject } from '../../core/json.ts'

export function fail(path: string, problem: string): never {
  throw invalidRequest(`${path}: ${problem}`, path)
}

export function requireObject(value: Json | undefined, path: string): JsonObject {
  if (!isObject(value)) fail(path, 'must be an object')
  return value
}

export function requireArray(value: Json | undefined, path: string): Json[] {
  if (!Array.isArray(value)) fail(path, 'must be an array')
  return value
}

export function requireString(value: Json | undefined, path: string): string {
  if (typeof value !== 'string') fail(path, 'must be a string')
  return value
}

export function optionalString(value: Json | undefined, path: string): string | undefined {
  if (value === undefined || value === null) return undefined
  return requireString(value, path)
}

export function optionalNumber(value: Json | undefined, path: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'must be a number')
  return value
}

export function requirePositiveInteger(value: Json | undefined, path: string): number {
  if (value === undefined || value === null) fail(path, 'is required')
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(path, 'must be a positive integer')
  return value
}

/** A content block: an object whose `type` is a string. */
export function requireBlock(value: Json | undefined, path: string): JsonObject & { type: string } {
  const block = requireObject(value, path)
  const type = block.type
  if (typeof type !== 'string') fail(`${path}.type`, 'must be a string')
  return { ...block, type }
}
