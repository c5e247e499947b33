/**
 * Counters and histograms whose per-request cost is a number addition on a pre-bound cell.
 * prom-client's own labelled metrics hash the label object on every inc/observe; these keep one
 * cell per label combination (created once, on first use) and only build label objects when
 * Prometheus scrapes. They register into a prom-client Registry, which renders the text format.
 */
import type { Registry } from 'prom-client'

interface PromValue {
  labels: Record<string, string | number>
  value: number
  metricName?: string
}

interface Family {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'histogram'
  readonly aggregator: 'sum'
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: PromValue[] }>
  reset(): void
}

export interface CounterCell { value: number }

export class CounterFamily implements Family {
  readonly type = 'counter' as const
  readonly aggregator = 'sum' as const
  private readonly cells: Array<{ labels: readonly string[]; cell: CounterCell }> = []
  readonly name: string
  readonly help: string
  private readonly labelNames: readonly string[]
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    this.name = name
    this.help = help
    this.labelNames = labelNames
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0])
  }

  /** A new cell for these label values; callers keep it (bind once, add many times). */
  cell(labelValues: readonly string[]): CounterCell {
    const cell = { value: 0 }
    this.cells.push({ labels: labelValues, cell })
    return cell
  }

  async get() {
    const values: PromValue[] = this.cells.map(({ labels, cell }) => ({ labels: labelObject(this.labelNames, labels), value: cell.value }))
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    for (const c of this.cells) c.cell.value = 0
  }
}

export interface HistogramCell {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly counts: Float64Array
  sum: number
  count: number
}

export class HistogramFamily implements Family {
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  private readonly cells: Array<{ labels: readonly string[]; cell: HistogramCell }> = []
  readonly name: string
  readonly help: string
  private readonly labelNames: readonly string[]
  readonly buckets: readonly number[]
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    this.name = name
    this.help = help
    this.labelNames = labelNames
    this.buckets = buckets
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0])
  }

  cell(labelValues: readonly string[]): HistogramCell {
    const cell = { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 }
    this.cells.push({ labels: labelValues, cell })
    return cell
  }

  observe(cell: HistogramCell, v: number): void {
    const b = this.buckets
    let i = 0
    while (i < b.length && v > b[i]!) i++
    cell.counts[i]! += 1
    cell.sum += v
    cell.count += 1
  }

  async get() {
    const values: PromValue[] = []
    for (const { labels, cell } of this.cells) {
      const base = labelObject(this.labelNames, labels)
      let acc = 0
      for (let i = 0; i < this.buckets.length; i++) {
        acc += cell.counts[i]!
        values.push({ labels: { ...base, le: this.buckets[i]! }, value: acc, metricName: `${this.name}_bucket` })
      }
      values.push({ labels: { ...base, le: '+Inf' }, value: cell.count, metricName: `${this.name}_bucket` })
      values.push({ labels: base, value: cell.sum, metricName: `${this.name}_sum` })
      values.push({ labels: base, value: cell.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    for (const c of this.cells) {
      c.cell.counts.fill(0)
      c.cell.sum = 0
      c.cell.count = 0
    }
  }
}

function labelObject(names: readonly string[], values: readonly string[]): Record<string, string> {
  const o: Record<string, string> = {}
  for (let i = 0; i < names.length; i++) o[names[i]!] = values[i] ?? ''
  return o
}

/** A two-level lazy cache: get(a, b) returns the value built once for that pair. */
export class Cache2<T> {
  private readonly m = new Map<string, Map<string, T>>()
  private readonly make: (a: string, b: string) => T
  constructor(make: (a: string, b: string) => T) {
    this.make = make
  }

  get(a: string, b: string): T {
    let inner = this.m.get(a)
    if (!inner) this.m.set(a, (inner = new Map()))
    let v = inner.get(b)
    if (v === undefined) inner.set(b, (v = this.make(a, b)))
    return v
  }
}
