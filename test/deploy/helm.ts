// Renders a Helm chart the way `helm template` does, for the subset the Switchboard chart uses: values are the
// chart's values.yaml coalesced with overrides (maps merge deeply, null deletes a key), validated against
// values.schema.json, then every template file not starting with "_" is executed with the usual built-in objects
// and split into YAML documents. The real helm also runs lint rules and the full Sprig library; see docs/deploy.md.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { Ajv } from 'ajv'
import { makeExec, parseInto, isMap, TemplateError } from './go-template.ts'
import type { TemplateSet } from './go-template.ts'
import { sprigFuncs } from './sprig.ts'

export const chartDir = new URL('../../helm/switchboard/', import.meta.url).pathname

export type RenderOptions = {
  values?: Record<string, unknown>[]
  releaseName?: string
  namespace?: string
  /** API versions the cluster serves beyond the built-in ones (e.g. "monitoring.coreos.com/v1"). */
  apiVersions?: string[]
  kubeVersion?: string
}

export type Doc = { source: string; kind: string; name: string; body: Record<string, unknown> }
export type Rendered = { docs: Doc[]; notes: string; values: Record<string, unknown> }

const builtinApis = [
  'v1', 'apps/v1', 'batch/v1', 'policy/v1', 'autoscaling/v1', 'autoscaling/v2', 'networking.k8s.io/v1',
  'rbac.authorization.k8s.io/v1', 'storage.k8s.io/v1',
]

/** Helm's value coalescing: an override map merges into the default map; null removes the key. */
export function coalesce(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k]
    else if (isMap(v) && isMap(out[k])) out[k] = coalesce(out[k] as Record<string, unknown>, v)
    else out[k] = v
  }
  return out
}

export function readYaml(path: string): unknown {
  return parse(readFileSync(path, 'utf8'), { uniqueKeys: true })
}

export function schemaValidator(): (v: unknown) => string[] {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
  const validate = ajv.compile(readYaml(join(chartDir, 'values.schema.json')) as object)
  return (v) => (validate(v) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`))
}

export function renderChart(opts: RenderOptions = {}): Rendered {
  const chart = readYaml(join(chartDir, 'Chart.yaml')) as Record<string, unknown>
  let values = readYaml(join(chartDir, 'values.yaml')) as Record<string, unknown>
  for (const o of opts.values ?? []) values = coalesce(values, o)
  const errors = schemaValidator()(values)
  if (errors.length) throw new TemplateError(`values don't meet the specifications of the schema: ${errors.join('; ')}`)

  const chartName = String(chart.name)
  const basePath = `${chartName}/templates`
  const files = readdirSync(join(chartDir, 'templates')).sort()
  const set: TemplateSet = new Map()
  for (const f of files) parseInto(set, `${basePath}/${f}`, readFileSync(join(chartDir, 'templates', f), 'utf8'))

  const apis = new Set([...builtinApis, ...(opts.apiVersions ?? [])])
  const kube = opts.kubeVersion ?? 'v1.31.0'
  const [major, minor] = kube.replace(/^v/, '').split('.')
  const funcs = sprigFuncs()
  const exec = makeExec(set, funcs)
  funcs.include = (name, data) => exec.run(String(name), data)
  const top = (file: string) => ({
    Values: values,
    Release: { Name: opts.releaseName ?? 'sb', Namespace: opts.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1n },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion, Description: chart.description },
    Capabilities: {
      APIVersions: { Has: (v: unknown) => apis.has(String(v)) },
      KubeVersion: { Version: kube, GitVersion: kube, Major: major, Minor: minor },
    },
    Template: { Name: `${basePath}/${file}`, BasePath: basePath },
  })

  const docs: Doc[] = []
  let notes = ''
  for (const f of files) {
    if (f.startsWith('_')) continue
    const out = exec.run(`${basePath}/${f}`, top(f))
    if (f === 'NOTES.txt') { notes = out; continue }
    for (const part of out.split(/^---[ \t]*$/m)) {
      if (!part.trim() || part.split('\n').every((l) => !l.trim() || l.trim().startsWith('#'))) continue
      let body: unknown
      try {
        body = parse(part, { uniqueKeys: true })
      } catch (e) {
        throw new TemplateError(`YAML parse error in ${f}: ${(e as Error).message}\n${part}`)
      }
      if (!isMap(body)) throw new TemplateError(`${f}: document is not a map:\n${part}`)
      const meta = body.metadata
      docs.push({ source: f, kind: String(body.kind), name: isMap(meta) ? String(meta.name) : '', body })
    }
  }
  return { docs, notes, values }
}
