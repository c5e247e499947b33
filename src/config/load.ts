/**
 * Reads, interpolates, validates and cross-checks the config file. Every failure is a ConfigError
 * naming the file, the key path and what was expected, so `--check-config` and start-up can print
 * one clear line and exit non-zero.
 */
import { readFile } from 'node:fs/promises'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { configSchema, type Config } from './schema.ts'
import { interpolate, InterpolationError } from './interpolate.ts'
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

export function parseConfig(text: string, file: string, env: Record<string, string | undefined>): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`))
  }
  const raw: unknown = doc.toJS() ?? {}
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

export async function loadConfigFile(file: string, env: Record<string, string | undefined>): Promise<LoadedConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`])
  }
  return parseConfig(text, file, env)
}
