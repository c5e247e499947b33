/**
 * Responses the gateway produced on translated targets, kept in the SQL store so a client can
 * continue by previous_response_id on any vendor, and GET or DELETE them. Rows are scoped by team:
 * every read and delete names the caller's team, so another team's id is simply not found.
 *
 * Each row holds only its own turn (the new input items and the output); a continuation walks the
 * chain of previous ids in one recursive query, so long conversations cost linear, not quadratic,
 * storage. Rows older than the retention are ignored at once and purged hourly.
 */
import type { Logger } from 'pino'
import { migrate, type SqlDb } from '../stores/sql.ts'
import type { CallInfo } from '../core/call.ts'
import type { Json, JsonObject } from '../core/json.ts'
import { GatewayError } from '../core/errors.ts'
import { EXPANDED, GATEWAY_RESPONSE_ID, expansionOf, type Expansion } from '../ingress/responses/index.ts'
import type { ConversationStore, ExpandedBody } from './types.ts'

const DAY_MS = 86_400_000
/** A conversation longer than this many stored turns is cut at the oldest ones. */
const MAX_CHAIN = 1000
const PURGE_EVERY_MS = 3_600_000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS responses_store (
  team TEXT NOT NULL,
  id TEXT NOT NULL,
  previous_id TEXT,
  created_at BIGINT NOT NULL,
  input TEXT NOT NULL,
  output TEXT NOT NULL,
  response TEXT NOT NULL,
  PRIMARY KEY (team, id)
);
CREATE INDEX IF NOT EXISTS responses_store_created ON responses_store (created_at);
`

export interface ResponsesStore extends ConversationStore {
  /** The stored Response object, or undefined. */
  get(team: string, id: string): Promise<JsonObject | undefined>
  /** The input items of that turn as the client sent them (history excluded). */
  inputItems(team: string, id: string): Promise<JsonObject[] | undefined>
  delete(team: string, id: string): Promise<boolean>
  purge(): Promise<number>
  close(): Promise<void>
}

export async function createResponsesStore(opts: { db: SqlDb; log: Logger; retentionDays: number }): Promise<ResponsesStore> {
  const { db, log } = opts
  await migrate(db, (tx) => tx.exec(SCHEMA))
  const retentionMs = opts.retentionDays * DAY_MS
  const oldest = () => Date.now() - retentionMs
  const writes = new Set<Promise<unknown>>()
  const purgeTimer = setInterval(() => {
    api.purge().catch((err: unknown) => log.warn({ err }, 'could not purge expired stored responses'))
  }, PURGE_EVERY_MS)
  purgeTimer.unref()

  const notFound = (id: string) => new GatewayError({
    status: 404, code: 'not_found', param: 'previous_response_id',
    message: `Previous response with id '${id}' not found.`,
  })

  async function chain(team: string, id: string): Promise<Array<{ input: string; output: string }>> {
    const rows = await db.query<{ input: string; output: string; depth: number | string }>(
      `WITH RECURSIVE chain(id, previous_id, input, output, depth) AS (
         SELECT id, previous_id, input, output, 0 FROM responses_store WHERE team = $1 AND id = $2 AND created_at >= $3
         UNION ALL
         SELECT r.id, r.previous_id, r.input, r.output, c.depth + 1
           FROM responses_store r JOIN chain c ON r.id = c.previous_id
          WHERE r.team = $1 AND r.created_at >= $3 AND c.depth < $4
       )
       SELECT input, output, depth FROM chain ORDER BY depth DESC`,
      [team, id, oldest(), MAX_CHAIN],
    )
    return rows
  }

  async function expand(team: string, body: JsonObject, id: string): Promise<ExpandedBody> {
    const rows = await chain(team, id)
    if (rows.length === 0) throw notFound(id)
    const history: Json[] = []
    for (const r of rows) {
      history.push(...(JSON.parse(r.input) as Json[]), ...(JSON.parse(r.output) as Json[]))
    }
    const { previous_response_id: _id, ...rest } = body
    const expanded: JsonObject = { ...rest, input: [...history, ...inputItems(body.input)] }
    const expansion: Expansion = { previousResponseId: id, historyItems: history.length }
    Object.defineProperty(expanded, EXPANDED, { value: expansion, enumerable: false })
    return { body: expanded, raw: Buffer.from(JSON.stringify(expanded)) }
  }

  const api: ResponsesStore = {
    expand(team, body) {
      const id = body.previous_response_id
      if (typeof id !== 'string' || !GATEWAY_RESPONSE_ID.test(id)) return undefined
      return expand(team, body, id)
    },

    save(call: CallInfo, response: JsonObject) {
      if (call.operation !== 'responses' || call.body.store === false) return undefined
      const id = response.id
      if (typeof id !== 'string' || response.status === 'failed') return undefined
      const expansion = expansionOf(call.body)
      const all = inputItems(call.body.input)
      const own = expansion ? all.slice(expansion.historyItems) : all
      const output = Array.isArray(response.output) ? response.output : []
      const write = db.query(
        'INSERT INTO responses_store (team, id, previous_id, created_at, input, output, response) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [call.principal.team, id, expansion?.previousResponseId ?? null, Date.now(), JSON.stringify(own), JSON.stringify(output), JSON.stringify(response)],
      ).then(
        () => undefined,
        // The turn is answered all the same: a store outage must not fail the agent's current turn
        // (docs/translation-responses.md). Continuing from this id then answers 404.
        (err: unknown) => { log.warn({ err, requestId: call.requestId, responseId: id }, 'could not store the response for previous_response_id') },
      )
      writes.add(write)
      void write.finally(() => writes.delete(write))
      return write
    },

    async get(team, id) {
      const rows = await db.query<{ response: string }>('SELECT response FROM responses_store WHERE team = $1 AND id = $2 AND created_at >= $3', [team, id, oldest()])
      return rows[0] ? (JSON.parse(rows[0].response) as JsonObject) : undefined
    },

    async inputItems(team, id) {
      const rows = await db.query<{ input: string }>('SELECT input FROM responses_store WHERE team = $1 AND id = $2 AND created_at >= $3', [team, id, oldest()])
      return rows[0] ? (JSON.parse(rows[0].input) as JsonObject[]) : undefined
    },

    async delete(team, id) {
      const rows = await db.query<{ id: string }>('DELETE FROM responses_store WHERE team = $1 AND id = $2 RETURNING id', [team, id])
      return rows.length > 0
    },

    async purge() {
      const rows = await db.query<{ id: string }>('DELETE FROM responses_store WHERE created_at < $1 RETURNING id', [oldest()])
      return rows.length
    },

    async close() {
      clearInterval(purgeTimer)
      await Promise.allSettled([...writes])
    },
  }
  return api
}

/** A request's input as a list of items (a string is one user message, as OpenAI stores it). */
function inputItems(input: Json | undefined): JsonObject[] {
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }]
  if (!Array.isArray(input)) return []
  return input.filter((i): i is JsonObject => typeof i === 'object' && i !== null && !Array.isArray(i))
}
