#!/usr/bin/env node
// npm run gen:types: regenerate shared/database.types.ts from a freshly
// migrated throwaway database (or SUPABASE_DB_URL when given), so the result
// depends only on supabase/migrations — exactly what `npm test` compares.
import path from 'node:path';
import { log, repoRoot } from './lib.mjs';
import { migratedDatabase } from './throwaway.mjs';
import { generateTypes } from './types.mjs';

let db;
try {
  db = await migratedDatabase();
  const { url } = db;
  log(`Wrote ${path.relative(repoRoot, generateTypes(url))}`);
} finally {
  db?.destroy();
}
