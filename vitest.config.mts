import { defineConfig } from 'vitest/config';

// Run: npx vitest run test/unit   (forks: DuckDB and the Temporal native bridge dislike worker threads)
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    pool: 'forks',
  },
});
