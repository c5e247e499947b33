/**
 * Reads, interpolates, validates and cross-checks the config file. Every failure is a ConfigError
 * naming the file, the key path and what was expected, so `--check-config` and start-up can print
 * one clear line and exit non-zero.
 */
import { readFile } from 'node:fs/promises'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { configSchema, type Config } from './schema.ts'
import { fileReferences, interpolate, InterpolationError } from './interpolate.ts'
import { crossCheck } from './cross-check.ts'

export class ConfigError extends Error {
  readonly file: string
  readonly problems: string[]
  constructor(file: string, problems: string[]) {
    super(`invalid config ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.file = file
    this.problems = problems
  }
}

export interface LoadedConfig {
  config: Config
  file: string
  /** Env variables referenced without default that were unset. */
  missingVars: Set<string>
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out ? `.${String(part)}` : String(part)
  }
  return out || '(root)'
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path)
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${where === '(root)' ? k : `${where}.${k}`}: unknown key (check the spelling; see docs/config.md)`).join('\n  - ')
  }
  return `${where}: ${issue.message}`
}

const EXPECTED_ROOT = 'expected a mapping with providers, models, teams... (docs/config.md)'

/** What is wrong with a document's root, if it is not a mapping. */
function rootProblem(root: unknown): string | undefined {
  if (root === null || root === undefined) return `(root): the file is empty; ${EXPECTED_ROOT}`
  if (Array.isArray(root)) return `(root): ${EXPECTED_ROOT}, got a list`
  if (typeof root !== 'object') return `(root): ${EXPECTED_ROOT}, got a ${typeof root}`
  return undefined
}

/**
 * The YAML text as a plain value. Merge keys (`<<: *defaults`, YAML 1.1's, which most YAML tools
 * take) are honoured, and top-level `x-` blocks are dropped (the Compose convention), so anchors
 * can share provider, model and team defaults; every other unknown key is still an error.
 *
 * An empty document (or `null`, a scalar, a list) is an error, not `{}`: every section has
 * defaults, so `{}` is a valid config that drops every model, team and admin key, and a file
 * caught truncated (an editor's first step, `cat >`, a failed template) was applied that way by a
 * hot reload.
 */
function readDocument(text: string, file: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, merge: true })
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`))
  }
  const root: unknown = doc.toJS()
  const problem = rootProblem(root)
  if (problem) throw new ConfigError(file, [problem])
  const mapping = root as Record<string, unknown>
  for (const key of Object.keys(mapping)) if (key.startsWith('x-')) delete mapping[key]
  return mapping
}

export function parseConfig(text: string, file: string, env: Record<string, string | undefined>): LoadedConfig {
  const raw = readDocument(text, file)
  let interpolated
  try {
    interpolated = interpolate(raw, env)
  } catch (err) {
    if (err instanceof InterpolationError) throw new ConfigError(file, [`${err.path}: ${err.message}`])
    throw err
  }
  const parsed = configSchema.safeParse(interpolated.value)
  if (!parsed.success) throw new ConfigError(file, parsed.error.issues.map(describeIssue))
  const problems = crossCheck(parsed.data)
  if (problems.length > 0) throw new ConfigError(file, problems)
  return { config: parsed.data, file, missingVars: interpolated.missing }
}

/** The `${file:}` paths the config text references; none when it does not parse. */
export function referencedFiles(text: string): string[] {
  try {
    return fileReferences(readDocument(text, ''))
  } catch {
    return []
  }
}

export async function loadConfigFile(file: string, env: Record<string, string | undefined>): Promise<LoadedConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`])
  }
  return parseConfig(text, file, env)
}
