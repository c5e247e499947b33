// The few autocannon fields the benchmark reads (the package ships no types).
declare module 'autocannon' {
  interface Options { url: string; method?: string; connections?: number; duration?: number; headers?: Record<string, string>; body?: string }
  interface Histogram { average: number; total: number; p50: number; p99: number }
  interface Result { requests: Histogram; latency: Histogram; errors: number; non2xx: number }
  export default function autocannon(opts: Options): Promise<Result>
}
