#!/usr/bin/env node
// npm test: fresh throwaway database -> Supabase baseline -> migrations and seed
// (supabase db push) -> pgTAP (pg_prove over supabase/tests) -> vitest ->
// supabase db advisors -> supabase db lint -> TypeScript check (tsc) -> the
// functions' deploy check (each upload set alone: deno check, boot) ->
// generated-types drift check -> schema-reference drift check (PostgreSQL 15).
// vitest talks to the database directly and, for
// end-to-end tests, through the local API gateway and functions runtime started
// here on a free port (SUPABASE_API_URL; set it to test against another API).
// Prints one closing line `N passed, N failed` and exits non-zero on any failure.
//
// With SUPABASE_DB_URL set (a `supabase start` stack or a hosted project), the
// same steps run against that database instead of a throwaway one: nothing is
// created or dropped, pgTAP files roll back, vitest tests clean up after
// themselves.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dbPush, local, localFunctionDefaults, log, pgEnv, psql, repoRoot, supabase, StackError } from './lib.mjs';
import { startApi } from './gateway/server.mjs';
import { deployCheck } from './deploy-check.mjs';
import { createThrowawayDatabase } from './throwaway.mjs';
import { parseProve } from './tap-summary.mjs';
import { typesDrift, typesFile } from './types.mjs';
import { schemaDrift, schemaFile, schemaMajor, serverMajor } from './schema.mjs';

// Advisor findings we accept on purpose, by lint name, each with the reason.
// Keep this empty unless a finding is deliberate.
const acceptedAdvisorFindings = new Map([
  // [ 'lint_name', 'why it is deliberate' ],
]);

const totals = { passed: 0, failed: 0 };
const failures = [];

function record(name, passed, failed, detail) {
  totals.passed += passed;
  totals.failed += failed;
  if (failed) failures.push(`${name}: ${failed} failed${detail ? `\n${detail}` : ''}`);
}

function stream(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    child.on('error', (e) => resolve({ code: 127, out: `${out}\n${e.message}` }));
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

async function step(title, fn) {
  const t0 = Date.now();
  log(`\n=== ${title}`);
  try {
    await fn();
  } finally {
    log(`--- ${title}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
}

async function pgTap(url) {
  // As `supabase test db` does: pgTAP in extensions, over a normal connection.
  psql(url, ['-c', 'create extension if not exists pgtap with schema extensions'], { stdio: ['ignore', 'ignore', 'pipe'] });
  // pg_prove hands its connection to psql through the libpq environment, as
  // `supabase test db` does (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
  const { out } = await stream('pg_prove', ['--ext', '.pg', '--ext', '.sql', '-r', 'supabase/tests'], {
    env: { ...process.env, ...pgEnv(url) },
  });
  const r = parseProve(out);
  record('pgTAP', r.passed, r.failed);
}

async function vitest(url) {
  let api;
  let apiUrl = process.env.SUPABASE_API_URL;
  if (!apiUrl) {
    api = await startApi({ dbUrl: url, repoRoot, keys: local, functionDefaults: localFunctionDefaults, log });
    apiUrl = api.url;
    log(`local API gateway on ${apiUrl} (functions: ${api.functions.join(', ')})`);
  }
  try {
    await vitestRun(url, apiUrl);
  } finally {
    await api?.close();
  }
}

async function vitestRun(url, apiUrl) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vitest-report-'));
  const report = path.join(dir, 'report.json');
  const { code } = await stream(
    path.join(repoRoot, 'node_modules/.bin/vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    { env: { ...process.env, SUPABASE_DB_URL: url, SUPABASE_API_URL: apiUrl, CI: process.env.CI ?? 'true' } },
  );
  let r;
  try {
    r = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    record('vitest', 0, 1, `vitest exited ${code} without a report`);
    return;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  record('vitest', r.numPassedTests, r.numFailedTests + brokenFiles + (code !== 0 && !r.numFailedTests && !brokenFiles ? 1 : 0));
}

// The `results` of a `supabase db <command> --output-format json` run, or
// null after recording the step `name` as failed when the CLI printed no JSON.
function supabaseDbResults(name, command, url, args) {
  const res = supabase(['db', command, `--remote=${url}`, ...args, '--output-format', 'json'], { allowFail: true });
  try {
    return JSON.parse(res.stdout).results ?? [];
  } catch {
    record(name, 0, 1, `supabase db ${command} failed:\n${res.stderr}`);
    return null;
  }
}

// The exposure lints need the Data API's schemas. No Supabase database holds
// them as a setting (PostgREST reads its environment); the CLI sets
// pgrst.db_schemas from [api] schemas of supabase/config.toml in its own lint
// session, so nothing is set here.
async function advisors(url) {
  const findings = supabaseDbResults('advisors', 'advisors', url, ['--level', 'info']);
  if (!findings) return;
  for (const f of findings) log(`  [${f.level}] ${f.name}: ${f.detail}`);
  const blocking = findings.filter((f) => f.level !== 'INFO' && !acceptedAdvisorFindings.has(f.name));
  log(`  ${findings.length} finding(s), ${blocking.length} at WARN or ERROR not accepted`);
  record('advisors', blocking.length ? 0 : 1, blocking.length ? 1 : 0,
    blocking.map((f) => `  [${f.level}] ${f.name}: ${f.detail}`).join('\n'));
}

// plpgsql_check over every function in our schemas (`supabase db lint`):
// errors (a missing column, a wrong type) fail the run; warnings are shown.
async function lint(url) {
  // `supabase db lint` needs plpgsql_check in the database. A Supabase
  // project has it once a user enables it (a privileged extension postgres
  // may create); the baseline does not pre-create it, so enable it here as
  // that user would.
  psql(url, ['-c', 'create extension if not exists plpgsql_check with schema extensions'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const results = supabaseDbResults('lint', 'lint', url, ['--schema', 'public,private', '--level', 'warning']);
  if (!results) return;
  const issues = results.flatMap((r) => r.issues.map((i) => ({ fn: r.function, ...i })));
  for (const i of issues) log(`  [${i.level}] ${i.fn}: ${i.message}${i.query ? ` in ${i.query.text}` : ''}`);
  const errors = issues.filter((i) => i.level === 'error');
  log(`  ${issues.length} issue(s), ${errors.length} error(s)`);
  record('lint', errors.length ? 0 : 1, errors.length ? 1 : 0, errors.map((i) => `  ${i.fn}: ${i.message}`).join('\n'));
}

async function typecheck() {
  const { code } = await stream(path.join(repoRoot, 'node_modules/.bin/tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  record('typecheck', code === 0 ? 1 : 0, code === 0 ? 0 : 1);
}

// The edge functions deploy: each one's upload set (its deno.json and the
// local modules its entry reaches) in an empty folder with a cold Deno cache
// passes `deno check`, resolves the npm versions node_modules has, boots and
// answers (local-stack/deploy-check.mjs). One result per function.
async function denoCheck() {
  await deployCheck({ repoRoot, keys: local, defaults: localFunctionDefaults, record, log });
}

// One result for a committed generated file: current, or what differs and
// the command that regenerates it.
function recordDrift(name, file, drift, command) {
  if (drift) log(`${drift}\nRun \`${command}\` and commit the result.`);
  else log(`${path.relative(repoRoot, file)} matches the migrations`);
  record(name, drift ? 0 : 1, drift ? 1 : 0, drift ?? '');
}

async function types(url) {
  recordDrift('types', typesFile, typesDrift(url), 'npm run gen:types');
}

// supabase/schema-reference.sql is a PostgreSQL 15 dump (pg_dump 15 refuses a
// newer server, and another major version dumps differently): on another
// server the check is skipped and counts neither passed nor failed.
async function schema(url) {
  const major = serverMajor(url);
  if (major !== schemaMajor) {
    log(`SKIPPED: ${path.relative(repoRoot, schemaFile)} is a PostgreSQL ${schemaMajor} dump; this server is PostgreSQL ${major}`);
    return;
  }
  recordDrift('schema', schemaFile, schemaDrift(url), 'npm run gen:schema');
}

async function main() {
  const t0 = Date.now();
  let db;
  let url = process.env.SUPABASE_DB_URL;
  try {
    if (url) {
      log(`Testing against SUPABASE_DB_URL (${url.replace(/:[^:@/]*@/, ':***@')})`);
      await step('migrations and seed (supabase db push)', () => dbPush(url));
    } else {
      await step('throwaway database with the Supabase baseline', async () => {
        db = await createThrowawayDatabase();
        url = db.url;
      });
      await step('migrations and seed (supabase db push)', () => db.push());
    }
    await step('pgTAP (pg_prove supabase/tests)', () => pgTap(url));
    await step('vitest', () => vitest(url));
    await step('supabase db advisors', () => advisors(url));
    await step('supabase db lint (plpgsql_check)', () => lint(url));
    await step('typecheck (tsc --noEmit)', () => typecheck());
    await step('edge functions deploy check (upload set, deno check, boot)', () => denoCheck());
    await step('generated types are current', () => types(url));
    await step('schema reference is current', () => schema(url));
  } catch (e) {
    record('setup', 0, 1, e instanceof StackError ? e.message : e.stack);
  } finally {
    db?.destroy();
  }
  if (failures.length) log(`\nFailures:\n${failures.join('\n')}`);
  log(`\nTotal time ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  process.stdout.write(`${totals.passed} passed, ${totals.failed} failed\n`);
  process.exitCode = totals.failed || totals.passed === 0 ? 1 : 0;
}

await main();
