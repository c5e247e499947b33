import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { chartDir, readYaml, renderChart } from './helm.ts'
import type { Doc } from './helm.ts'

const multi = readYaml(join(chartDir, 'examples/multi-replica.yaml')) as Record<string, unknown>
const single = readYaml(join(chartDir, 'examples/single-replica.yaml')) as Record<string, unknown>
const shared = { externalRedis: { url: 'redis://redis:6379/0' }, externalDatabase: { url: 'postgres://sb:pw@pg:5432/sb' } }

type Obj = Record<string, unknown>
const at = (v: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((cur, p) => (cur as Record<string | number, unknown> | undefined)?.[p], v)
const one = (docs: Doc[], kind: string): Obj => {
  const found = docs.filter((d) => d.kind === kind)
  expect(found.map((d) => d.kind)).toEqual([kind])
  return (found[0] as Doc).body
}
const container = (dep: Obj): Obj => at(dep, 'spec', 'template', 'spec', 'containers', 0) as Obj
const env = (dep: Obj): Obj[] => container(dep).env as Obj[]
const envValue = (dep: Obj, name: string): unknown => env(dep).find((e) => e.name === name)

describe('chart defaults', () => {
  const { docs, notes } = renderChart()

  it('renders exactly the single-replica set of kinds', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Secret', 'Service', 'ServiceAccount'])
    expect(docs.every((d) => d.name === 'sb-switchboard')).toBe(true)
  })

  it('labels everything the Helm way and selects pods by the stable labels only', () => {
    for (const d of docs) {
      expect(at(d.body, 'metadata', 'labels')).toEqual({
        'helm.sh/chart': 'switchboard-0.1.0',
        'app.kubernetes.io/name': 'switchboard',
        'app.kubernetes.io/instance': 'sb',
        'app.kubernetes.io/version': '0.1.0',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'switchboard',
      })
    }
    const selector = { 'app.kubernetes.io/name': 'switchboard', 'app.kubernetes.io/instance': 'sb' }
    expect(at(one(docs, 'Deployment'), 'spec', 'selector', 'matchLabels')).toEqual(selector)
    expect(at(one(docs, 'Service'), 'spec', 'selector')).toEqual(selector)
  })

  it('probes /healthz for liveness and startup and /readyz for readiness on the named port', () => {
    const c = container(one(docs, 'Deployment'))
    expect(at(c, 'livenessProbe', 'httpGet')).toEqual({ path: '/healthz', port: 'http' })
    expect(at(c, 'readinessProbe', 'httpGet')).toEqual({ path: '/readyz', port: 'http' })
    expect(at(c, 'startupProbe', 'httpGet')).toEqual({ path: '/healthz', port: 'http' })
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }])
  })

  it('runs as uid 1000 with a read-only root, no capabilities and RuntimeDefault seccomp', () => {
    const dep = one(docs, 'Deployment')
    expect(at(dep, 'spec', 'template', 'spec', 'securityContext')).toEqual({
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    })
    expect(container(dep).securityContext).toEqual({
      readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] },
    })
    expect(at(dep, 'spec', 'template', 'spec', 'automountServiceAccountToken')).toBe(false)
  })

  it('mounts the config directory (no subPath, so updates reach the file watcher), /tmp and an emptyDir for /app/data', () => {
    const dep = one(docs, 'Deployment')
    expect(container(dep).volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/switchboard', readOnly: true },
      { name: 'data', mountPath: '/app/data' },
      { name: 'tmp', mountPath: '/tmp' },
    ])
    expect(at(dep, 'spec', 'template', 'spec', 'volumes')).toEqual([
      { name: 'config', configMap: { name: 'sb-switchboard' } },
      { name: 'data', emptyDir: {} },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ])
    expect(envValue(dep, 'SWITCHBOARD_CONFIG')).toEqual({ name: 'SWITCHBOARD_CONFIG', value: '/etc/switchboard/switchboard.yaml' })
  })

  it('renders the gateway config with secrets left as placeholders', () => {
    const cfg = parse(String(at(one(docs, 'ConfigMap'), 'data', 'switchboard.yaml'))) as Obj
    expect(cfg.server).toEqual({ port: 8080, host: '0.0.0.0', max_body_bytes: 10485760, admin_keys: [], shutdown_grace_ms: 30000 })
    expect(cfg.store).toEqual({ url: '${DATABASE_URL:-sqlite:///app/data/switchboard.db}' })
    expect(cfg.redis).toEqual({ url: '${REDIS_URL:-}' })
    expect(Object.keys(cfg).sort()).toEqual(['logging', 'models', 'providers', 'redis', 'server', 'store', 'teams', 'telemetry'])
  })

  it('drains gracefully: preStop sleep, then a grace period longer than sleep + shutdown_grace_ms', () => {
    const dep = one(docs, 'Deployment')
    expect(at(container(dep), 'lifecycle', 'preStop')).toEqual({ exec: { command: ['node', '-e', 'setTimeout(() => {}, 5000)'] } })
    expect(at(dep, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds')).toBe(40)
    expect(at(dep, 'spec', 'strategy')).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } })
  })

  it('wires OTEL with the pod identity from the downward API, defined before it is referenced', () => {
    const dep = one(docs, 'Deployment')
    const names = env(dep).map((e) => e.name)
    expect(names).toEqual(['SWITCHBOARD_CONFIG', 'NODE_ENV', 'K8S_POD_NAME', 'K8S_NAMESPACE', 'K8S_NODE_NAME', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES'])
    expect(envValue(dep, 'K8S_POD_NAME')).toEqual({ name: 'K8S_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } })
    expect(at(envValue(dep, 'OTEL_RESOURCE_ATTRIBUTES'), 'value')).toBe(
      'k8s.pod.name=$(K8S_POD_NAME),k8s.namespace.name=$(K8S_NAMESPACE),k8s.node.name=$(K8S_NODE_NAME),service.instance.id=$(K8S_POD_NAME),service.version=0.1.0',
    )
    expect(at(envValue(dep, 'OTEL_SERVICE_NAME'), 'value')).toBe('sb-switchboard')
  })

  it('creates an empty Secret the pods read through envFrom', () => {
    expect(one(docs, 'Secret').data).toEqual({})
    expect(container(one(docs, 'Deployment')).envFrom).toEqual([{ secretRef: { name: 'sb-switchboard' } }])
  })

  it('warns in NOTES that the default ledger is lost with the pod', () => {
    expect(notes).toContain('The ledger is SQLite on an emptyDir')
    expect(notes).toContain('http://sb-switchboard.default.svc:8080/v1')
  })
})

describe('checksum annotations', () => {
  const annotations = (values: Obj[]): Obj => at(one(renderChart({ values }).docs, 'Deployment'), 'spec', 'template', 'metadata', 'annotations') as Obj

  it('change when the config or the secret changes, and only then', () => {
    const base = annotations([])
    expect(Object.keys(base).sort()).toEqual(['checksum/config', 'checksum/secret'])
    expect(String(base['checksum/config'])).toMatch(/^[0-9a-f]{64}$/)
    const cfg = annotations([{ config: { logging: { level: 'debug' } } }])
    expect(cfg['checksum/config']).not.toBe(base['checksum/config'])
    expect(cfg['checksum/secret']).toBe(base['checksum/secret'])
    const sec = annotations([{ secret: { env: { OPENAI_API_KEY: 'sk-test' } } }])
    expect(sec['checksum/secret']).not.toBe(base['checksum/secret'])
    expect(sec['checksum/config']).toBe(base['checksum/config'])
    expect(annotations([{ podAnnotations: { a: 'b' } }])['checksum/config']).toBe(base['checksum/config'])
  })

  it('leave out checksum/config when hot reload is chosen, and checksum/secret with an existing Secret', () => {
    expect(annotations([{ rollOnConfigChange: false, secret: { existingSecret: 'mine' } }])).toBeUndefined()
    expect(annotations([{ rollOnConfigChange: false }])).toEqual({ 'checksum/secret': annotations([])['checksum/secret'] })
    expect(annotations([{ secret: { existingSecret: 'mine' } }])).toEqual({ 'checksum/config': annotations([])['checksum/config'] })
  })
})

describe('more than one replica', () => {
  it('refuses to render without Redis, naming the values to set', () => {
    expect(() => renderChart({ values: [{ replicaCount: 2 }] })).toThrow(
      'switchboard: 2 replicas need a shared Redis, or each pod enforces its own rate limits, budgets and cache. Set externalRedis.url, or externalRedis.existingSecretKey together with secret.existingSecret.',
    )
    expect(() => renderChart({ values: [{ autoscaling: { enabled: true, maxReplicas: 4 } }] })).toThrow('switchboard: 4 replicas need a shared Redis')
    expect(() => renderChart({ values: [{ replicaCount: 2, externalDatabase: shared.externalDatabase }] })).toThrow('need a shared Redis')
  })

  it('refuses to render with the SQLite ledger', () => {
    expect(() => renderChart({ values: [{ replicaCount: 3, externalRedis: shared.externalRedis }] })).toThrow(
      'switchboard: 3 replicas need a Postgres store: the SQLite ledger lives in one pod',
    )
    expect(() => renderChart({ values: [{ replicaCount: 3, externalRedis: shared.externalRedis, config: { store: { url: 'sqlite:///app/data/x.db' } } }] })).toThrow('need a Postgres store')
  })

  it('refuses a persistent volume, which only one pod could mount', () => {
    expect(() => renderChart({ values: [{ replicaCount: 2, persistence: { enabled: true } }, shared] })).toThrow('turn it off when running more than one replica')
  })

  it('renders with Redis and Postgres from values: URLs in the Secret, PDB, spread over zones and hosts', () => {
    const { docs } = renderChart({ values: [{ replicaCount: 3 }, shared] })
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount'])
    expect(one(docs, 'Secret').data).toEqual({
      REDIS_URL: Buffer.from('redis://redis:6379/0').toString('base64'),
      DATABASE_URL: Buffer.from('postgres://sb:pw@pg:5432/sb').toString('base64'),
    })
    const dep = one(docs, 'Deployment')
    expect(at(dep, 'spec', 'replicas')).toBe(3)
    const selector = { matchLabels: { 'app.kubernetes.io/name': 'switchboard', 'app.kubernetes.io/instance': 'sb' } }
    expect(at(dep, 'spec', 'template', 'spec', 'topologySpreadConstraints')).toEqual([
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector },
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector },
    ])
    expect(one(docs, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector })
  })

  it('accepts a Redis URL written into the config or the secret env, and Postgres from the secret env', () => {
    expect(() => renderChart({ values: [{ replicaCount: 2, externalDatabase: shared.externalDatabase, config: { redis: { url: 'redis://r:6379' } } }] })).not.toThrow()
    expect(() => renderChart({ values: [{ replicaCount: 2, secret: { env: { REDIS_URL: 'redis://r', DATABASE_URL: 'postgres://u@db/x' } } }] })).not.toThrow()
  })

  it('the multi-replica example: HPA, existing Secret keys as env, no chart Secret, OTEL endpoint', () => {
    const { docs } = renderChart({ values: [multi], apiVersions: ['monitoring.coreos.com/v1'] })
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceMonitor',
    ])
    const dep = one(docs, 'Deployment')
    expect(at(dep, 'spec', 'replicas')).toBeUndefined()
    expect(envValue(dep, 'REDIS_URL')).toEqual({ name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'switchboard-secrets', key: 'redis-url' } } })
    expect(envValue(dep, 'DATABASE_URL')).toEqual({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'switchboard-secrets', key: 'database-url' } } })
    expect(container(dep).envFrom).toEqual([{ secretRef: { name: 'switchboard-secrets' } }])
    expect(container(dep).image).toBe('registry.example.com/switchboard@sha256:0000000000000000000000000000000000000000000000000000000000000000')
    expect(at(envValue(dep, 'OTEL_EXPORTER_OTLP_ENDPOINT'), 'value')).toBe('http://otel-collector.observability:4318')
    expect(String(at(envValue(dep, 'OTEL_RESOURCE_ATTRIBUTES'), 'value'))).toMatch(/,deployment\.environment=production$/)
    // shutdown_grace_ms 120000 -> 120 s + 5 s preStop + 5 s.
    expect(at(dep, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds')).toBe(130)
    const hpa = one(docs, 'HorizontalPodAutoscaler')
    expect(hpa.apiVersion).toBe('autoscaling/v2')
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sb-switchboard' },
      minReplicas: 3,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    })
    expect(one(docs, 'PodDisruptionBudget').apiVersion).toBe('policy/v1')
    expect(at(one(docs, 'Ingress'), 'spec', 'rules')).toEqual([
      { host: 'llm.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'sb-switchboard', port: { name: 'http' } } } }] } },
    ])
  })
})

describe('ServiceMonitor', () => {
  it('is rendered only when enabled and the cluster serves monitoring.coreos.com/v1', () => {
    const kinds = (values: Obj[], apiVersions: string[]) => renderChart({ values, apiVersions }).docs.map((d) => d.kind)
    expect(kinds([{ serviceMonitor: { enabled: true } }], [])).not.toContain('ServiceMonitor')
    expect(kinds([{ serviceMonitor: { enabled: false } }], ['monitoring.coreos.com/v1'])).not.toContain('ServiceMonitor')
    const { docs, notes } = renderChart({ values: [{ serviceMonitor: { enabled: true, labels: { release: 'prom' } } }], apiVersions: ['monitoring.coreos.com/v1'] })
    const sm = one(docs, 'ServiceMonitor')
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1')
    expect(at(sm, 'metadata', 'labels', 'release')).toBe('prom')
    expect(at(sm, 'spec', 'endpoints')).toEqual([{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }])
    expect(notes).not.toContain('no ServiceMonitor was created')
    expect(renderChart({ values: [{ serviceMonitor: { enabled: true } }] }).notes).toContain('no ServiceMonitor was created')
  })

  it('scrapes a separate metrics port when telemetry.metrics_port is set', () => {
    const { docs } = renderChart({ values: [{ serviceMonitor: { enabled: true }, config: { telemetry: { metrics_port: 9464 } } }], apiVersions: ['monitoring.coreos.com/v1'] })
    expect(at(one(docs, 'ServiceMonitor'), 'spec', 'endpoints', 0, 'port')).toBe('metrics')
    expect(container(one(docs, 'Deployment')).ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9464, protocol: 'TCP' },
    ])
    expect(at(one(docs, 'Service'), 'spec', 'ports', 1)).toEqual({ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' })
  })
})

describe('single replica with persistence', () => {
  const { docs, notes } = renderChart({ values: [single] })

  it('claims a volume for /app/data, kept on uninstall, and recreates instead of overlapping two SQLite writers', () => {
    const pvc = one(docs, 'PersistentVolumeClaim')
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } })
    expect(at(pvc, 'metadata', 'annotations')).toEqual({ 'helm.sh/resource-policy': 'keep' })
    const dep = one(docs, 'Deployment')
    expect(at(dep, 'spec', 'strategy')).toEqual({ type: 'Recreate' })
    expect(at(dep, 'spec', 'template', 'spec', 'volumes', 1)).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'sb-switchboard' } })
    expect(docs.map((d) => d.kind)).not.toContain('PodDisruptionBudget')
    expect(notes).not.toContain('The ledger is SQLite on an emptyDir')
  })

  it('puts the secret env into the Secret, base64-encoded', () => {
    expect(Object.keys(one(docs, 'Secret').data as Obj).sort()).toEqual(['OPENAI_API_KEY', 'RESEARCH_CI_KEY', 'SWITCHBOARD_ADMIN_KEY'])
  })
})

describe('termination grace and preStop', () => {
  const grace = (values: Obj[]) => at(one(renderChart({ values }).docs, 'Deployment'), 'spec', 'template', 'spec', 'terminationGracePeriodSeconds')

  it('is derived from shutdown_grace_ms (rounded up) plus the preStop sleep plus 5 s', () => {
    expect(grace([{ config: { server: { shutdown_grace_ms: 60001 } } }])).toBe(61 + 5 + 5)
    expect(grace([{ lifecycle: { preStopSleepSeconds: 0 } }])).toBe(35)
    expect(grace([{ terminationGracePeriodSeconds: 90 }])).toBe(90)
  })

  it('refuses an explicit grace period that would cut the drain short', () => {
    expect(() => renderChart({ values: [{ terminationGracePeriodSeconds: 35 }] })).toThrow(
      'switchboard: terminationGracePeriodSeconds must exceed preStopSleepSeconds + shutdown_grace_ms/1000 (35 s)',
    )
  })

  it('uses the Kubernetes sleep action when asked, and no hook for a zero sleep', () => {
    const c = (values: Obj[]) => container(one(renderChart({ values }).docs, 'Deployment'))
    expect(c([{ lifecycle: { useSleepAction: true } }]).lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } })
    expect(c([{ lifecycle: { preStopSleepSeconds: 0 } }]).lifecycle).toBeUndefined()
  })
})

describe('secret wiring mistakes are refused', () => {
  it('secret.env together with an existing Secret', () => {
    expect(() => renderChart({ values: [{ secret: { existingSecret: 's', env: { A: 'b' } } }] })).toThrow('secret.existingSecret is set, so secret.env')
  })
  it('an existingSecretKey without an existing Secret', () => {
    expect(() => renderChart({ values: [{ externalRedis: { existingSecretKey: 'redis-url' } }] })).toThrow('secret.existingSecret, which is not set')
  })
  it('values the schema rejects never reach the templates', () => {
    expect(() => renderChart({ values: [{ replicaCount: -1 }] })).toThrow("values don't meet the specifications of the schema: /replicaCount must be >= 0")
  })
})
