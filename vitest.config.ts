import { defineConfig } from 'vitest/config';

// vitest tests run against a real, migrated database: SUPABASE_DB_URL (set by
// `npm test`), or the local stack of `npm start` when run directly.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Test files share one database; each cleans up the users it creates.
    fileParallelism: true,
    // supabase-js creates a Realtime client, which needs a global WebSocket:
    // built into Node 22+, behind this flag on Node 20.
    execArgv: ['--experimental-websocket'],
  },
});
