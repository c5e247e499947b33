import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname
const source = readFileSync(`${root}Dockerfile`, 'utf8')

type Instr = { op: string; args: string; stage: number }

/** Dockerfile instructions with continuations joined, comments and heredoc bodies left out. */
function instructions(src: string): { instrs: Instr[]; heredocs: string[] } {
  const lines = src.split('\n')
  const instrs: Instr[] = []
  const heredocs: string[] = []
  let stage = -1
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string
    if (!line.trim() || line.trim().startsWith('#')) continue
    while (line.endsWith('\\')) line = `${line.slice(0, -1)} ${(lines[++i] ?? '').trim()}`
    const m = /^(\w+)\s+([\s\S]*)$/.exec(line.trim())
    if (!m) throw new Error(`unparsed Dockerfile line: ${line}`)
    const op = (m[1] as string).toUpperCase()
    if (op === 'FROM') stage++
    instrs.push({ op, args: m[2] as string, stage })
    const here = /<<'?(\w+)'?/.exec(m[2] as string)
    if (here) {
      const body: string[] = []
      while (i + 1 < lines.length && lines[i + 1] !== here[1]) body.push(lines[++i] as string)
      i++
      heredocs.push(body.join('\n'))
    }
  }
  return { instrs, heredocs }
}

const { instrs, heredocs } = instructions(source)
const finalStage = Math.max(...instrs.map((x) => x.stage))
const final = instrs.filter((x) => x.stage === finalStage)
const argDefault = (name: string) => instrs.find((x) => x.op === 'ARG' && x.args.startsWith(`${name}=`))?.args.split('=')[1]
const resolve = (s: string) => s.replace(/\$\{(\w+)\}/g, (_m, n: string) => argDefault(n) ?? '')

describe('Dockerfile', () => {
  it('is multi-stage on the Node 24 slim image, pinned by tag', () => {
    const froms = instrs.filter((x) => x.op === 'FROM').map((x) => resolve(x.args))
    expect(froms).toEqual(['node:24-bookworm-slim AS deps', 'node:24-bookworm-slim AS runtime'])
  })

  it('installs production dependencies from the lockfile in the deps stage only', () => {
    const runs = instrs.filter((x) => x.op === 'RUN')
    const ci = runs.filter((x) => /\bnpm ci\b/.test(x.args))
    expect(ci.map((x) => x.stage)).toEqual([0])
    expect(ci[0]?.args).toMatch(/npm ci --omit=dev\b/)
    expect(final.filter((x) => x.op === 'RUN').some((x) => /\b(npm (ci|install)|apt-get|apk) /.test(x.args))).toBe(false)
    expect(final.filter((x) => x.op === 'COPY').map((x) => x.args)).toEqual([
      '--from=deps /app/node_modules ./node_modules',
      'package.json package-lock.json ./',
      'src ./src',
      'config ./config',
      "<<'EOF' /etc/switchboard/switchboard.yaml",
    ])
  })

  it('runs as the non-root node user, by number', () => {
    expect(final.filter((x) => x.op === 'USER').map((x) => x.args)).toEqual(['1000:1000'])
  })

  it('checks health with node itself, in exec form', () => {
    const hc = final.find((x) => x.op === 'HEALTHCHECK')
    expect(hc?.args).toMatch(/CMD \["node", "-e", ".*\/healthz.*"\]$/)
    const cmd = JSON.parse((hc?.args ?? '').replace(/^.*CMD /, '')) as string[]
    expect(cmd[2]).toBe("fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))")
  })

  it('starts node directly in exec form so SIGTERM reaches the gateway', () => {
    expect(JSON.parse(final.find((x) => x.op === 'ENTRYPOINT')?.args ?? 'null')).toEqual(['node', 'src/main.ts'])
    expect(JSON.parse(final.find((x) => x.op === 'CMD')?.args ?? 'null')).toEqual([])
  })

  it('declares the data volume, the port and the config path', () => {
    expect(final.find((x) => x.op === 'VOLUME')?.args).toBe('["/app/data"]')
    expect(final.find((x) => x.op === 'EXPOSE')?.args).toBe('8080')
    expect(final.filter((x) => x.op === 'ENV').map((x) => x.args).join(' ')).toContain('SWITCHBOARD_CONFIG=/etc/switchboard/switchboard.yaml')
    expect(final.filter((x) => x.op === 'ENV').map((x) => x.args).join(' ')).not.toMatch(/\bPORT=/)
  })

  it('carries no secrets: no key-like ARG or ENV, and the baked config only references variables', () => {
    const secretish = /(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL)/i
    const names = instrs.filter((x) => x.op === 'ARG' || x.op === 'ENV').flatMap((x) => [...x.args.matchAll(/(\w+)=/g)].map((m) => m[1] as string))
    expect(names.filter((n) => secretish.test(n))).toEqual([])
    expect(heredocs).toHaveLength(1)
    expect(heredocs[0]).not.toMatch(/sk-|api_key|keys:/i)
    expect(heredocs[0]).toContain('url: ${DATABASE_URL:-sqlite:///app/data/switchboard.db}')
    expect(heredocs[0]).toContain('host: 0.0.0.0')
  })
})

describe('.dockerignore', () => {
  it('keeps dependencies, history, data and non-runtime trees out of the build context', () => {
    const entries = readFileSync(`${root}.dockerignore`, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))
    for (const e of ['**/node_modules', '.git', 'data', 'test', 'bench', 'docs', 'helm', '.env']) expect(entries).toContain(e)
    for (const kept of ['src', 'config', 'package.json', 'package-lock.json']) expect(entries).not.toContain(kept)
  })
})
