/**
 * Installs the real agent clients from the npm registry into a directory of their own under the
 * system temp dir (never the project's node_modules), once per set of pinned versions; later runs
 * reuse it. SB_AGENTS_DIR overrides the location.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

/** The versions the shared notes were observed with; bump together with docs/agents.md. */
export const CLIENTS: Record<string, string> = {
  '@anthropic-ai/claude-code': '2.1.330',
  '@anthropic-ai/claude-agent-sdk': '0.3.330',
  '@openai/codex': '0.169.0',
  '@openai/agents': '0.20.0',
  openai: '7.57.0',
  '@langchain/openai': '1.6.0',
  '@langchain/core': '1.4.0',
  zod: '4.6.7',
}

export async function installClients(log: (msg: string) => void): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify(CLIENTS)).digest('hex').slice(0, 12)
  const dir = process.env.SB_AGENTS_DIR ?? join(tmpdir(), `switchboard-agents-${key}`)
  const marker = join(dir, '.installed')
  if (existsSync(marker)) return dir
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'switchboard-agent-clients', private: true, type: 'module' }))
  const specs = Object.entries(CLIENTS).map(([name, version]) => `${name}@${version}`)
  log(`installing ${specs.join(' ')} into ${dir}`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  // --foreground-scripts: Claude Code's postinstall puts its native binary in place.
  await promisify(execFile)(npm, ['install', '--no-audit', '--no-fund', '--no-save', '--foreground-scripts', ...specs], { cwd: dir, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 })
  writeFileSync(marker, new Date().toISOString())
  return dir
}
