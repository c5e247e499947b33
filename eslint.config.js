import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'helm/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Core, providers and routing must not depend on the web framework or the stores.
    files: ['src/core/**', 'src/providers/**', 'src/routing/**', 'src/upstream/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['hono', 'hono/*', '@hono/*', 'ioredis', 'pg', '**/stores/**', '**/server/**', '**/pipeline/**'] }],
    },
  },
)
