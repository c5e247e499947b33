// The real-agent suite (npm run test:agents): installs the agent CLIs and SDKs from the npm
// registry and runs them against the gateway, one at a time. Kept out of `npm test`.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/agents/**/*.agents.ts'],
    testTimeout: 180_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    reporters: ['verbose'],
  },
})
