/**
 * Many runs of one Lua script, asked for in the same event-loop turn for the same Redis Cluster
 * slot, sent as one EVALSHA of a wrapper that runs them in order and returns each run's result.
 * Under load a turn completes many requests; each Redis command costs the client several
 * microseconds whatever its size (a command object, its promise, its reply parsed), so limits
 * and budgets cost one command per turn instead of one per request. Runs keep their order, each
 * still sees the effects of the runs before it, and a run that fails fails alone (pcall), exactly
 * as separate scripts would.
 *
 * The script is written as for a single run (KEYS, ARGV, `return`); the wrapper makes it a
 * function of its own keys and arguments. On the wire each distinct key goes once, and each run is
 * one argument (its key positions and arguments joined by \x1f): ioredis converts and writes every
 * argument on its own, which cost more than the rest of the command.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

export interface BatchedScript {
  /** Runs the script once with these keys and arguments (all keys under one hash tag). */
  call(keys: string[], args: Array<string | number>): Promise<unknown>
  /** SCRIPT LOAD, so a batch is never the script's first use on a connection. */
  load(): Promise<void>
}

/** Separates a run's packed fields (ASCII unit separator): never in the numbers and ids passed. */
const SEP = '\x1f'

/** At most this many runs per command, so one turn's burst never builds an unbounded argument list. */
const MAX_RUNS = 256

export function wrapperLua(singleRunLua: string): string {
  const body = singleRunLua.replace(/\bKEYS\b/g, 'K').replace(/\bARGV\b/g, 'A')
  return `local function run(K, A)
${body}
end
-- A run's fields, packed into one argument separated by \\31 (unit separator).
local function fields(s)
  local t, n, from = {}, 0, 1
  while true do
    local i = string.find(s, '\\31', from, true)
    n = n + 1
    if not i then
      t[n] = string.sub(s, from)
      return t
    end
    t[n] = string.sub(s, from, i - 1)
    from = i + 1
  end
end
local out = {}
for c = 1, tonumber(ARGV[1]) do
  local f = fields(ARGV[c + 1])
  local nk, na = tonumber(f[1]), tonumber(f[2])
  local K, A = {}, {}
  -- Runs name their keys by position in KEYS: the runs of a batch mostly share the same few keys.
  for j = 1, nk do K[j] = KEYS[tonumber(f[2 + j])] end
  for j = 1, na do A[j] = f[2 + nk + j] end
  -- One run's error fails that run only (as a separate script would), not the rest of the batch.
  local ok, res = pcall(run, K, A)
  if ok then
    out[c] = res
  elseif type(res) == 'table' and res.err then
    out[c] = res
  else
    out[c] = redis.error_reply(tostring(res))
  end
end
return out
`
}

/** The Redis Cluster hash tag of a key: what is between its first `{` and the next `}`, if not empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{')
  if (open === -1) return key
  const close = key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : key
}

interface Pending {
  keys: string[]
  args: Array<string | number>
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
}

type Evalsha = (sha: string, numKeys: number, ...args: Array<string | number>) => Promise<unknown>
type Eval = (lua: string, numKeys: number, ...args: Array<string | number>) => Promise<unknown>

export function batchedScript(redis: Redis, singleRunLua: string): BatchedScript {
  const lua = wrapperLua(singleRunLua)
  const sha = createHash('sha1').update(lua).digest('hex')
  let groups = new Map<string, Pending[]>()
  let scheduled = false

  const send = async (runs: Pending[]): Promise<void> => {
    // Each distinct key is sent once; runs refer to keys by their 1-based position in KEYS. A run's
    // key positions and arguments travel as one packed argument: the client's cost is per argument
    // (each is converted and written on its own), and a run has a dozen.
    const keys: string[] = []
    const position = new Map<string, number>()
    const args: string[] = [String(runs.length)]
    for (const r of runs) {
      let packed = `${r.keys.length}${SEP}${r.args.length}`
      for (const k of r.keys) {
        let at = position.get(k)
        if (at === undefined) {
          keys.push(k)
          position.set(k, (at = keys.length))
        }
        packed += SEP + at
      }
      for (const a of r.args) packed += SEP + a
      args.push(packed)
    }
    let out: unknown
    try {
      try {
        out = await (redis.evalsha as unknown as Evalsha).call(redis, sha, keys.length, ...keys, ...args)
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
        out = await (redis.eval as unknown as Eval).call(redis, lua, keys.length, ...keys, ...args)
      }
    } catch (err) {
      for (const r of runs) r.reject(err)
      return
    }
    const results = out as unknown[]
    for (let i = 0; i < runs.length; i++) {
      const r = results[i]
      if (r instanceof Error) runs[i]!.reject(r)
      else runs[i]!.resolve(r)
    }
  }

  const flush = (): void => {
    scheduled = false
    const now = groups
    groups = new Map()
    for (const runs of now.values()) {
      for (let i = 0; i < runs.length; i += MAX_RUNS) void send(runs.length <= MAX_RUNS ? runs : runs.slice(i, i + MAX_RUNS))
    }
  }

  return {
    call(keys, args) {
      for (const a of args) {
        if (typeof a === 'string' && a.includes(SEP)) return Promise.reject(new Error('batched script: an argument contains the field separator \\x1f'))
      }
      return new Promise((resolve, reject) => {
        const tag = keys.length > 0 ? hashTag(keys[0]!) : ''
        let runs = groups.get(tag)
        if (!runs) groups.set(tag, (runs = []))
        runs.push({ keys, args, resolve, reject })
        if (!scheduled) {
          scheduled = true
          // Gathers what the rest of this turn's I/O callbacks ask for (a microtask would not).
          setImmediate(flush)
        }
      })
    },
    async load() {
      await redis.script('LOAD', lua)
    },
  }
}
