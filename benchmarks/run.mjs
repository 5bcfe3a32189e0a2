#!/usr/bin/env node
// npm run bench [-- <suite name> ...]
//
// Creates a throwaway, durable (fsync on) cluster with the Supabase baseline,
// migrations and seed — or uses SUPABASE_DB_URL — loads each suite's data and
// runs its pgbench cases, then prints throughput as a ratio to `select 1`
// and to each case's floors, latency, and WAL and storage bytes per call,
// measured in the same run (before and after the suites; the mean is used).
// BENCH_SECONDS (10), BENCH_CLIENTS (8), BENCH_THREADS (2) tune the run.
// BENCH_WRITE_DOCS=1 (or --write-docs) also writes the table, with the date,
// the machine and the command, between the bench markers in docs/benchmarks.md.
// BENCH_SCHEMA_REF=<git ref> pushes supabase/ (migrations and seeds) as it
// stood at that commit and runs today's suites against it: a before/after pair
// of runs that differ only in the schema.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dbUrl, log } from '../local-stack/lib.mjs';
import { migratedDatabase } from '../local-stack/throwaway.mjs';
import { defaults, makeContext, markdownTable, measuredPgbench, pgbench, reportRows, selectOne } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const writeDocs = args.includes('--write-docs') || ['1', 'true', 'yes'].includes(process.env.BENCH_WRITE_DOCS ?? '');
const wanted = args.filter((a) => a !== '--write-docs');
const docsFile = path.join(here, '..', 'docs', 'benchmarks.md');
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

/** The command as someone would type it again: the tuning variables set, then npm run bench. */
function commandLine() {
  const env = ['BENCH_SECONDS', 'BENCH_CLIENTS', 'BENCH_THREADS', 'BENCH_WRITE_DOCS', 'BENCH_SCHEMA_REF', 'PG_MAJOR']
    .filter((k) => process.env[k] !== undefined)
    .map((k) => `${k}=${process.env[k]}`);
  return [...env, 'npm run bench', ...(args.length ? ['--', ...args] : [])].join(' ');
}

/** Cores, memory, CPU model and server version: nothing that names the host or its paths. */
function machine(serverVersion) {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${cpus.length} cores (${model}), ${memGiB} GiB memory, ${os.platform()}/${os.arch()}; PostgreSQL ${serverVersion}`;
}

function writeDocsSection(body) {
  const text = readFileSync(docsFile, 'utf8');
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  if (i < 0 || j < i) {
    log(`${path.relative(process.cwd(), docsFile)} has no ${BEGIN} ... ${END} section; not written`);
    return false;
  }
  writeFileSync(docsFile, `${text.slice(0, i + BEGIN.length)}\n${body}\n${text.slice(j)}`);
  log(`results written to ${path.relative(process.cwd(), docsFile)}`);
  return true;
}

/** A temporary folder holding supabase/ as it stood at git `ref`; undefined without a ref. */
function schemaCopy(ref) {
  if (!ref) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-schema-'));
  execFileSync('sh', ['-c', `git archive "$1" supabase | tar -x -C "$2"`, 'sh', ref, dir], { cwd: path.join(here, '..') });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  log(`schema: supabase/ as of ${ref}`);
  return dir;
}

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
try {
  db = await migratedDatabase({ durable: true, projectDir: schemaCopy(process.env.BENCH_SCHEMA_REF) });
  const { url } = db;
  const ctx = makeContext(url);
  // CHECKPOINT needs a superuser (or pg_checkpoint), which postgres is not on
  // Supabase: the throwaway cluster's supabase_admin runs it; a given database
  // is measured without.
  const checkpointUrl = db.port ? `${dbUrl(db.port, { user: 'supabase_admin' })}?sslmode=disable` : null;
  if (!checkpointUrl) log('SUPABASE_DB_URL: no checkpoint before each case; WAL per call then depends on the order of the cases');
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
      results.push({ suite: s.name, case: c, r: measuredPgbench(url, c, { checkpointUrl }) });
    }
  }
  const after = pgbench(url, selectOne);
  const base = (before.tps + after.tps) / 2;

  const rows = reportRows(results, base);
  rows.splice(1, 0, ['-', 'select 1', base.toFixed(0), '1.00', '', '', `${before.p50Ms.toFixed(2)} / ${before.p99Ms.toFixed(2)}`, '', '']);
  const summary = `select 1: ${before.tps.toFixed(0)} tps before, ${after.tps.toFixed(0)} tps after the suites`;
  const table = markdownTable(rows);
  process.stdout.write(`\n${summary}\n\n`);
  process.stdout.write(`${table}\n`);
  if (writeDocs) {
    const serverVersion = ctx.sql('show server_version').split('\n').map((l) => l.trim())
      .find((l) => /^\d+(\.\d+)*\b/.test(l)) ?? 'unknown';
    const settings = `${defaults.clients} clients, ${defaults.threads} threads, ${defaults.seconds} s per case`;
    writeDocsSection([
      `- Date: ${new Date().toISOString().slice(0, 10)} (UTC)`,
      `- Machine: ${machine(serverVersion)}`,
      `- Command: \`${commandLine()}\` (${settings})`,
      '',
      summary,
      '',
      table,
    ].join('\n'));
  }
} finally {
  db?.destroy();
}
