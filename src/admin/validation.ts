/** Admin request bodies: JSON parsing and zod validation, turned into OpenAI-shaped 400s that name the field. */
import type { Context } from 'hono'
import type { z } from 'zod'
import { GatewayError } from '../core/errors.ts'

export const badRequest = (message: string, param: string | null = null): GatewayError =>
  new GatewayError({ status: 400, code: 'invalid_request', message, param })

export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') throw badRequest('The request body must be a JSON object.')
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw badRequest('The request body is not valid JSON.')
  }
}

export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  if (!issue) throw badRequest('The request body is not valid.')
  let path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys' && issue.keys[0]) path = path ? `${path}.${issue.keys[0]}` : issue.keys[0]
  const message = issue.code === 'unrecognized_keys' ? `unknown field (allowed fields are listed in docs/keys.md)` : issue.message
  throw badRequest(`${path || 'body'}: ${message}`, path || null)
}
