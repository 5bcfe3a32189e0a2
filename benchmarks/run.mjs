#!/usr/bin/env node
// npm run bench [-- <suite name> ...]
//
// Creates a throwaway, durable (fsync on) cluster with the Supabase baseline,
// migrations and seed — or uses SUPABASE_DB_URL — loads each suite's data and
// runs its pgbench cases, then prints throughput as a ratio to `select 1`
// measured in the same run (before and after the suites; the mean is used).
// BENCH_SECONDS (10), BENCH_CLIENTS (8), BENCH_THREADS (2) tune the run.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dbPush, log } from '../local-stack/lib.mjs';
import { createThrowawayDatabase } from '../local-stack/throwaway.mjs';
import { defaults, makeContext, pgbench, selectOne } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);

const suites = [];
for (const f of readdirSync(path.join(here, 'suites')).filter((x) => x.endsWith('.mjs')).sort()) {
  const mod = await import(pathToFileURL(path.join(here, 'suites', f)).href);
  if (!wanted.length || wanted.includes(mod.name)) suites.push(mod);
}
if (!suites.length) {
  log(`no suite matches ${wanted.join(', ')}`);
  process.exit(2);
}

let db;
let url = process.env.SUPABASE_DB_URL;
try {
  if (url) dbPush(url);
  else {
    db = await createThrowawayDatabase({ durable: true });
    db.push();
    url = db.url;
  }
  const ctx = makeContext(url);
  for (const s of suites) {
    const t0 = Date.now();
    log(`setup ${s.name} ...`);
    await s.setup(ctx);
    log(`setup ${s.name}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  ctx.sql('vacuum analyze');

  log(`baseline: select 1 (${defaults.clients} clients, ${defaults.seconds}s)`);
  const before = pgbench(url, selectOne);
  const results = [];
  for (const s of suites) {
    for (const c of s.cases) {
      log(`${s.name}: ${c.name} ...`);
      results.push({ suite: s.name, case: c, r: pgbench(url, c) });
    }
  }
  const after = pgbench(url, selectOne);
  const base = (before.tps + after.tps) / 2;

  const rows = [['suite', 'case', 'clients', 'tps', 'ratio to select 1', 'target', 'latency avg / p50 / p99 ms']];
  rows.push(['-', 'select 1', String(defaults.clients), base.toFixed(0), '1.00', '', `${before.latencyAvgMs}`]);
  for (const { suite, case: c, r } of results) {
    const ratio = r.tps / base;
    const verdict = c.target ? `>= ${c.target} ${ratio >= c.target ? 'ok' : 'LOW'}` : '';
    const lat = c.latency ? `${r.latencyAvgMs} / ${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)}` : `${r.latencyAvgMs}`;
    rows.push([suite, c.name, String(c.clients ?? defaults.clients), r.tps.toFixed(0), ratio.toFixed(2), verdict, lat]);
  }
  process.stdout.write(`\nselect 1: ${before.tps.toFixed(0)} tps before, ${after.tps.toFixed(0)} tps after the suites\n\n`);
  process.stdout.write(`${rows.map((r) => `| ${r.join(' | ')} |`).join('\n').replace(/\n/, `\n|${rows[0].map(() => '---').join('|')}|\n`)}\n`);
} finally {
  db?.destroy();
}
