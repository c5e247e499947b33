/**
 * The real agent clients, installed from the npm registry, through the real gateway against the
 * scripted vendor on loopback: for each client one final answer and one tool round trip (the tool
 * really runs: Claude Code's Bash, Codex's exec_command, the SDKs' own function), on its native
 * vendor and on a foreign one. Nothing may leave loopback: Node clients run with a preload that
 * refuses non-loopback connections, native binaries with a proxy that records and refuses.
 *
 * Run with `npm run test:agents` (see docs/agents.md). Not part of `npm test`: it downloads ~400 MB.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts'
import { startScriptedVendor, TOOL_RESULT_MARK, type ScriptedVendor } from './scripted-vendor.ts'
import { startRefusingProxy, type RefusingProxy } from './refusing-proxy.ts'
import { installClients } from './install.ts'

const KEY = 'sk-sb-agents-suite-key'
const RUN_TIMEOUT_MS = 90_000
const here = fileURLToPath(new URL('.', import.meta.url))

let dir: string
let work: string
let home: string
let egressLog: string
let vendor: ScriptedVendor
let proxy: RefusingProxy
let gw: TestGateway

interface RunResult { code: number | null; stdout: string; stderr: string }

/** Runs one client to completion in its own process group; killed (by pid) when it overruns. */
function runClient(cmd: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    }, RUN_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** What every client gets: a scratch HOME, the gateway, and a refusing proxy for anything else. */
function baseEnv(): Record<string, string> {
  const p = proxy.url
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    HTTPS_PROXY: p, HTTP_PROXY: p, ALL_PROXY: p, https_proxy: p, http_proxy: p, all_proxy: p,
    NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
  }
}

function nodeEnv(extra: Record<string, string>): Record<string, string> {
  return { ...baseEnv(), NODE_OPTIONS: `--import ${join(here, 'egress-guard.mjs')}`, SB_EGRESS_LOG: egressLog, ...extra }
}

function claudeEnv(model: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: gw.url,
    ANTHROPIC_API_KEY: KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // Side tasks (titles, summaries) use the small model: keep them on a model the gateway serves.
    ANTHROPIC_MODEL: model,
    ANTHROPIC_SMALL_FAST_MODEL: model,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
    ANTHROPIC_DEFAULT_SONNET_MODEL: model,
    ANTHROPIC_DEFAULT_OPUS_MODEL: model,
  }
}

function claudeBinary(): string {
  const platformBinary = join(dir, 'node_modules', '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, process.platform === 'win32' ? 'claude.exe' : 'claude')
  if (existsSync(platformBinary)) return platformBinary
  const wrapped = join(dir, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')
  if (existsSync(wrapped) && statSync(wrapped).size > 1_000_000) return wrapped
  throw new Error(`Claude Code's native binary is missing under ${dir}; reinstall with SB_AGENTS_DIR unset`)
}

/** Requests the vendor saw from `from` on (to check which wire format a run really used). */
const pathsSince = (from: number): string[] => vendor.received.slice(from).map((r) => `${r.method} ${r.path.split('?')[0]}`)

const FINAL = 'Say hello.'
const TOOL = 'SB_USE_TOOL: find the secret word with your tool, then report it.'

beforeAll(async () => {
  dir = await installClients((m) => console.log(`[agents] ${m}`))
  work = mkdtempSync(join(tmpdir(), 'sb-agents-work-'))
  home = join(work, 'home')
  mkdirSync(home)
  egressLog = join(work, 'egress.log')
  writeFileSync(egressLog, '')
  for (const f of ['openai-agents.mjs', 'langchain.mjs', 'claude-agent-sdk.mjs']) copyFileSync(join(here, 'clients', f), join(dir, f))
  vendor = await startScriptedVendor()
  proxy = await startRefusingProxy()
  gw = await startTestGateway(`
logging: { level: warn }
store: { url: "sqlite::memory:" }
providers:
  anthropic: { type: anthropic, base_url: "${vendor.url}", keys: ["sk-ant-vendor"] }
  openai: { type: openai, base_url: "${vendor.url}/v1", keys: ["sk-openai-vendor"] }
models:
  sb-claude: { targets: [{ provider: anthropic, model: claude-sonnet-4-5 }] }
  sb-claude-on-openai: { targets: [{ provider: openai, model: gpt-5.1 }] }
  sb-gpt: { targets: [{ provider: openai, model: gpt-5.1 }] }
  sb-gpt-on-anthropic: { targets: [{ provider: anthropic, model: claude-sonnet-4-5 }] }
routing: { retries: { max_attempts: 1 } }
teams:
  agents: { keys: { suite: { key: "${KEY}" } } }
`)
}, 900_000)

afterAll(async () => {
  await gw?.stop()
  await vendor?.close()
  await proxy?.close()
  // The clients' working tree and home; the installed clients themselves are kept for the next run.
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

/** Every client, both scenarios, on its native vendor and a foreign one. */
const VENDORS = [
  { label: 'native', claude: 'sb-claude', openai: 'sb-gpt' },
  { label: 'foreign', claude: 'sb-claude-on-openai', openai: 'sb-gpt-on-anthropic' },
] as const
const SCENARIOS = [
  { label: 'final answer', prompt: FINAL, expect: 'SB_FINAL: hello' },
  { label: 'tool round trip', prompt: TOOL, expect: TOOL_RESULT_MARK },
] as const

function expectAnswer(run: RunResult, expected: string): void {
  const context = `exit ${run.code}\nstdout:\n${run.stdout.slice(-2000)}\nstderr:\n${run.stderr.slice(-2000)}`
  if (!run.stdout.includes(expected) || run.code !== 0) console.log(context)
  expect(run.stdout, context).toContain(expected)
  if (expected === TOOL_RESULT_MARK) expect(run.stdout, context).toMatch(/SB_FINAL: [\s\S]*SB_TOOL_RESULT_42/)
  expect(run.code, context).toBe(0)
}

/** SB_AGENTS_ONLY=<regex> runs the matching runs only, e.g. "foreign.*Codex" (the egress check always runs). */
const only = process.env.SB_AGENTS_ONLY ? new RegExp(process.env.SB_AGENTS_ONLY, 'i') : undefined

describe.each(VENDORS)('agents on their $label vendor', (v) => {
  describe.each(SCENARIOS)('$label', (s) => {
    const it = (name: string, fn: () => Promise<void>) => vitestIt.skipIf(only !== undefined && !only.test(`${v.label} ${s.label} ${name}`))(name, fn)
    it('Claude Code CLI (claude -p)', async () => {
      const from = vendor.received.length
      const run = await runClient(claudeBinary(), ['-p', s.prompt, '--model', v.claude, '--allowedTools', 'Bash', '--max-turns', '4', '--output-format', 'text'], { ...baseEnv(), ...claudeEnv(v.claude) })
      expectAnswer(run, s.expect)
      expect(pathsSince(from)).toContain(v.label === 'native' ? 'POST /v1/messages' : 'POST /v1/chat/completions')
    })

    it('Claude Agent SDK (query)', async () => {
      const from = vendor.received.length
      const run = await runClient(process.execPath, [join(dir, 'claude-agent-sdk.mjs')], nodeEnv({
        SB_MODEL: v.claude, SB_PROMPT: s.prompt,
        SB_CHILD_ENV: JSON.stringify({ ...baseEnv(), ...claudeEnv(v.claude) }),
      }))
      expectAnswer(run, s.expect)
      expect(pathsSince(from)).toContain(v.label === 'native' ? 'POST /v1/messages' : 'POST /v1/chat/completions')
    })

    it('Codex CLI (codex exec)', async () => {
      const codexHome = join(work, `codex-${v.label}`)
      mkdirSync(codexHome, { recursive: true })
      writeFileSync(join(codexHome, 'config.toml'), codexConfig(v.openai))
      const from = vendor.received.length
      const run = await runClient(process.execPath, [join(dir, 'node_modules', '@openai', 'codex', 'bin', 'codex.js'), 'exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', s.prompt], { ...baseEnv(), CODEX_HOME: codexHome, SB_KEY: KEY })
      expectAnswer(run, s.expect)
      expect(pathsSince(from)).toContain(v.label === 'native' ? 'POST /v1/responses' : 'POST /v1/messages')
    })

    it('OpenAI Agents SDK (Responses API)', async () => {
      const from = vendor.received.length
      const run = await runClient(process.execPath, [join(dir, 'openai-agents.mjs')], nodeEnv({
        SB_BASE_URL: `${gw.url}/v1`, SB_KEY: KEY, SB_MODEL: v.openai, SB_PROMPT: s.prompt, OPENAI_AGENTS_DISABLE_TRACING: '1',
      }))
      expectAnswer(run, s.expect)
      expect(pathsSince(from)).toContain(v.label === 'native' ? 'POST /v1/responses' : 'POST /v1/messages')
    })

    it('LangChain ChatOpenAI (Chat Completions and Responses)', async () => {
      for (const api of ['chat', 'responses']) {
        const from = vendor.received.length
        const run = await runClient(process.execPath, [join(dir, 'langchain.mjs')], nodeEnv({
          SB_BASE_URL: `${gw.url}/v1`, SB_KEY: KEY, SB_MODEL: v.openai, SB_PROMPT: s.prompt, SB_API: api, SB_STREAM: api === 'chat' ? '1' : '0',
        }))
        expectAnswer(run, s.expect)
        expect(pathsSince(from)).toContain(v.label === 'native' ? `POST /v1/${api === 'chat' ? 'chat/completions' : 'responses'}` : 'POST /v1/messages')
      }
    })
  })
})

describe('egress', () => {
  vitestIt('controls: the guard and the proxy do catch a client that reaches out', async () => {
    const controlLog = join(work, 'control.log')
    const control = await startRefusingProxy()
    try {
      const script = "fetch('https://api.openai.com/v1/models').then(() => process.exit(3), () => process.exit(0))"
      const guarded = await runClient(process.execPath, ['-e', script], { ...baseEnv(), NODE_OPTIONS: `--import ${join(here, 'egress-guard.mjs')}`, SB_EGRESS_LOG: controlLog })
      expect(guarded.code).toBe(0)
      expect(readFileSync(controlLog, 'utf8')).toContain('blocked connection to api.openai.com:443')
      // Node 24 honours HTTPS_PROXY with NODE_USE_ENV_PROXY, as the native clients do by default.
      const proxied = await runClient(process.execPath, ['-e', script], { ...baseEnv(), HTTPS_PROXY: control.url, https_proxy: control.url, NODE_USE_ENV_PROXY: '1' })
      expect(proxied.code).toBe(0)
      expect(control.seen).toEqual(['CONNECT api.openai.com:443'])
    } finally {
      await control.close()
    }
  })

  vitestIt('no client connected anywhere but loopback', () => {
    expect(proxy.seen).toEqual([])
    expect(readFileSync(egressLog, 'utf8')).toBe('')
  })
})

function codexConfig(model: string): string {
  return `model = "${model}"
model_provider = "switchboard"

[model_providers.switchboard]
name = "Switchboard"
base_url = "${gw.url}/v1"
env_key = "SB_KEY"
wire_api = "responses"

[features]
plugins = false

[analytics]
enabled = false
`
}
