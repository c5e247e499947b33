import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Files run in parallel workers; each test file starts its own gateway on port 0, its own
    // Redis key prefix and Postgres schema, so they never share state.
    pool: 'forks',
  },
})
