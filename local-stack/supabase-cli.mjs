#!/usr/bin/env node
// `npm run supabase -- <args>`: the project's pinned Supabase CLI, e.g.
// `npm run supabase -- db advisors --remote=$SUPABASE_DB_URL`.
import { spawnSync } from 'node:child_process';
import { supabaseBin } from './lib.mjs';

const r = spawnSync(supabaseBin(), process.argv.slice(2), { stdio: 'inherit' });
process.exit(r.status ?? 1);
