#!/usr/bin/env node
// npm run gen:schema: regenerate supabase/schema-reference.sql from a freshly
// migrated throwaway database (or SUPABASE_DB_URL when given), so the result
// depends only on supabase/migrations — exactly what `npm test` compares.
import path from 'node:path';
import { log, repoRoot, StackError } from './lib.mjs';
import { migratedDatabase } from './throwaway.mjs';
import { generateSchema, schemaMajor, serverMajor } from './schema.mjs';

let db;
try {
  db = await migratedDatabase();
  const { url } = db;
  const major = serverMajor(url);
  if (major !== schemaMajor) {
    throw new StackError(`the schema reference is a PostgreSQL ${schemaMajor} dump; this server is ${major}`);
  }
  log(`Wrote ${path.relative(repoRoot, generateSchema(url))}`);
} finally {
  db?.destroy();
}
