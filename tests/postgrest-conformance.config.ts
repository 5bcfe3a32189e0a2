// Runs the pending PostgREST conformance suite on its own, against a running
// stack (SUPABASE_API_URL and SUPABASE_DB_URL, or `npm start`'s):
//   npx vitest run --config tests/postgrest-conformance.config.ts
// `npm test` leaves it out until the gateway implements what it checks.
import { defineConfig } from 'vitest/config';
import base from '../vitest.config.ts';

export default defineConfig({
  ...base,
  test: { ...base.test, include: ['tests/postgrest-conformance.pending.ts'] },
});
