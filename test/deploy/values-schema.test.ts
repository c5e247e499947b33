import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { chartDir, coalesce, readYaml, renderChart, schemaValidator } from './helm.ts'

const repoRoot = new URL('../../', import.meta.url).pathname
const examplesDir = join(chartDir, 'examples')
const validate = schemaValidator()
const defaults = readYaml(join(chartDir, 'values.yaml')) as Record<string, unknown>

/** The ```yaml values blocks of docs/deploy.md: the ones a reader passes to helm with -f. */
function docValueBlocks(): string[] {
  const md = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8')
  return [...md.matchAll(/^```yaml values\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string)
}

describe('values.schema.json', () => {
  it('accepts the chart defaults', () => {
    expect(validate(defaults)).toEqual([])
  })

  it('rejects unknown keys, wrong types and bad URLs', () => {
    expect(validate(coalesce(defaults, { replicas: 2 }))).toEqual(['/ must NOT have additional properties'])
    expect(validate(coalesce(defaults, { replicaCount: '2' }))).toEqual(['/replicaCount must be integer'])
    expect(validate(coalesce(defaults, { config: { sever: {} } }))).toEqual(['/config must NOT have additional properties'])
    expect(validate(coalesce(defaults, { externalDatabase: { url: 'mysql://db/x' } }))).toEqual([
      '/externalDatabase/url must match pattern "^((postgres|postgresql)://.+)?$"',
    ])
    expect(validate(coalesce(defaults, { secret: { env: { 'bad-name': 'x' } } }))).toContain('/secret/env must match pattern "^[A-Za-z_][A-Za-z0-9_]*$"')
  })

  it('documents every key of values.yaml with a comment on or just above it', () => {
    const lines = readFileSync(join(chartDir, 'values.yaml'), 'utf8').split('\n')
    const undocumented: string[] = []
    lines.forEach((line, i) => {
      if (!/^\s*[A-Za-z][\w.-]*:/.test(line) || line.includes('#')) return
      const indent = line.search(/\S/)
      // A key is documented by the nearest comment line above it at the same indentation.
      let j = i - 1
      while (j >= 0 && (lines[j] as string).trim() === '') j--
      const above = lines[j] ?? ''
      if (!(above.trim().startsWith('#') && above.search(/\S/) === indent)) undocumented.push(`${i + 1}: ${line.trim()}`)
    })
    expect(undocumented).toEqual([])
  })

  const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'))
  it('has the single- and multi-replica examples', () => {
    expect(examples.sort()).toEqual(['multi-replica.yaml', 'single-replica.yaml'])
  })

  for (const f of examples) {
    it(`accepts examples/${f} merged over the defaults, and the chart renders it`, () => {
      const over = readYaml(join(examplesDir, f)) as Record<string, unknown>
      expect(validate(coalesce(defaults, over))).toEqual([])
      expect(renderChart({ values: [over], apiVersions: ['monitoring.coreos.com/v1'] }).docs.length).toBeGreaterThan(4)
    })
  }

  it('accepts every values block in docs/deploy.md, and the chart renders each', () => {
    const blocks = docValueBlocks()
    expect(blocks.length).toBeGreaterThanOrEqual(3)
    for (const b of blocks) {
      const over = parse(b) as Record<string, unknown>
      expect(validate(coalesce(defaults, over))).toEqual([])
      expect(() => renderChart({ values: [over] })).not.toThrow()
    }
  })
})
