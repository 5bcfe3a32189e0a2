// The benchmark harness: pgbench against a migrated database, every figure
// reported as a ratio to `select 1` measured in the same run (these machines
// are shared and noisy; absolute numbers mean little).
//
// A suite is a module in benchmarks/suites/ exporting
//   name: string
//   setup(ctx): Promise<void>   load data (ctx.sql, ctx.createBenchUsers)
//   cases: Array<{
//     name, script,            pgbench script text (may use \set, :vars)
//     clients?: 8, threads?: 2, seconds?: BENCH_SECONDS,
//     floor?: string,          name of this case's function floor (a case of the same
//                              suite: the same rows inside the cheapest function the
//                              rules allow); the case is judged against it
//     aim?: number,            minimum ratio to that floor, 0.8 unless set; ok/LOW
//     bare?: string,           name of its bare floor (the same rows by bare SQL)
//     session?: { role, claims, settings? } role, JWT claims (and settings) set once per connection:
//                              a server-side call, one statement, no request frame
//   }>
// Every case reports tps, p50/p99 latency (pgbench's per-transaction log) and
// what it wrote: WAL bytes and heap+index bytes per transaction
// (measureWrites).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { local, pgBin, pgEnv, psql, repoRoot } from '../local-stack/lib.mjs';

export const defaults = {
  clients: Number(process.env.BENCH_CLIENTS ?? 8),
  threads: Number(process.env.BENCH_THREADS ?? 2),
  seconds: Number(process.env.BENCH_SECONDS ?? 10),
};

// The bench user, defined once: user n (1..count, made by ctx.createBenchUsers)
// has the id 00000000-0000-4000-8000-<n in hex, 12 digits>, so scripts can
// build its id and claims from an integer (a pgbench variable).
const benchUserIdPrefix = '00000000-0000-4000-8000-';

/** The id of bench user n. */
export const benchUserId = (n) => `${benchUserIdPrefix}${n.toString(16).padStart(12, '0')}`;

/** SQL: the uuid of the bench user whose number is the integer SQL expression `n` (`n`, `:u::int`, ...). */
export const benchUserUuid = (n) => `('${benchUserIdPrefix}' || lpad(to_hex(${n}), 12, '0'))::uuid`;

/** SQL: the uuid of the bench user numbered by pgbench variable `:variable`. */
export const benchUserUuidOf = (variable = 'u') => benchUserUuid(`:${variable}::int`);

/**
 * The JWT claims of bench user n (what the request frame sets and a signed
 * token carries); `aud: false` leaves out aud, as the server-side sessions
 * of some cases have always been measured.
 */
export const benchUserClaims = (n, { aud = true } = {}) => ({
  role: 'authenticated',
  ...(aud ? { aud: 'authenticated' } : {}),
  sub: benchUserId(n),
});

/** A signed user JWT of bench user n (the local stack's secret, two hours), as supabase-js sends it. */
export const benchUserToken = (n) =>
  new SignJWT(benchUserClaims(n))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(local.jwtSecret));

/** A pgbench `session` (role and claims set once per connection) as bench user n. */
export const benchUserSession = (n, opts) => ({ role: 'authenticated', claims: benchUserClaims(n, opts) });

/** A pgbench `session` as the service role (its claims: { role }). */
export const serviceSession = { role: 'service_role' };

/** SQL that sets role and JWT claims (a SQL text literal) locally, as PostgREST does at the start of each request. */
const actAs = (role, claimsLiteral) =>
  `select set_config('role', '${role}', true), set_config('request.jwt.claims', ${claimsLiteral}, true);`;

/** SQL: act as the bench user whose number is the integer SQL expression `n`. Use inside a transaction. */
export const actAsBenchUserNumbered = (n) =>
  actAs('authenticated', `'{"role":"authenticated","aud":"authenticated","sub":"${benchUserIdPrefix}' || lpad(to_hex(${n}), 12, '0') || '"}'`);

/** SQL: act as bench user `:variable`, as PostgREST does at the start of each request. Use inside a transaction. */
export const actAsBenchUser = (variable = 'u') => actAsBenchUserNumbered(`:${variable}::int`);

/** SQL: act as the service role (the secret key's request). Use inside a transaction. */
export const actAsServiceRole = actAs('service_role', `'{"role":"service_role"}'`);

/** begin, `act` (role and claims), `call`, commit: sent as one pipeline. */
const pipelined = (act, call) => `\\startpipeline\nbegin;\n${act}\n${call.trim()}\ncommit;\n\\endpipeline\n`;

/**
 * A pgbench script for one API request by a random bench user in 1..users:
 * begin, role and claims, `call` (one or more statements), commit — sent as
 * one pipeline (pgbench \\startpipeline), so the figure measures the
 * server's work rather than loopback round trips.
 */
export function asRequest(call, { users, variable = 'u' }) {
  return `\\set ${variable} random(1, ${users})\n${pipelined(actAsBenchUser(variable), call)}`;
}

/** The same request by bench user `:variable`, which the script's own `pick` lines (\\set ...) choose. */
export const asBenchUserRequest = (pick, call, variable = 'u') => `${pick}${pipelined(actAsBenchUser(variable), call)}`;

/** The same request by the service role, after the script's own `pick` lines, if any. */
export const asServiceRequest = (call, pick = '') => `${pick}${pipelined(actAsServiceRole, call)}`;

export function makeContext(url) {
  return {
    url,
    sql: (text) => psql(url, ['-c', text], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout,
    sqlFile: (file) => psql(url, ['-f', file], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout,
    /** Runs `text` in one transaction as the service role. */
    sqlAsService(text) {
      return this.sql(`begin;\n${actAsServiceRole}\n${text}\ncommit;`);
    },
    /** Runs `text` in one transaction as bench user n. */
    sqlAsBenchUser(n, text) {
      return this.sql(`begin;\n${actAsBenchUserNumbered(Number(n))}\n${text}\ncommit;`);
    },
    /**
     * Creates users 1..count in auth.users (profiles follow by trigger);
     * idempotent. The write quotas of this throwaway database are lifted to the
     * most a rule allows (10^6 per window): every write still pays for its quota
     * check, and no case runs long enough to be refused.
     */
    createBenchUsers(count) {
      psql(url, ['-c', `
        update public.plan_rate_limits set max_requests = 1000000
         where endpoint in ('writes', 'telemetry', 'jobs', 'quiz_generation', 'video_upload')`], { stdio: ['ignore', 'pipe', 'pipe'] });
      return psql(url, ['-c', `
        insert into auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data,
                                raw_user_meta_data, created_at, updated_at)
        select '00000000-0000-0000-0000-000000000000',
               ${benchUserUuid('n')},
               'authenticated', 'authenticated', 'bench' || n || '@bench.local', '',
               '{"provider":"email"}', '{}', now(), now()
          from generate_series(1, ${Number(count)}) as n
        on conflict (id) do nothing`], { stdio: ['ignore', 'pipe', 'pipe'] });
    },
  };
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs one pgbench case; returns { tps, latencyAvgMs, p50Ms?, p99Ms? }. */
// `script` may be an array: the scripts are then mixed in one run (equal
// weights, each transaction picks one at random) and `perScript` gives each
// one's { tps, latencyAvgMs } — a comparison under exactly the same load.
export function pgbench(url, { script, clients = defaults.clients, threads = defaults.threads, seconds = defaults.seconds, latency = true, session = null }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  try {
    const scripts = Array.isArray(script) ? script : [script];
    const files = scripts.map((s, i) => {
      const file = path.join(dir, `script${i}.sql`);
      writeFileSync(file, s);
      return file;
    });
    const args = ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(Math.min(threads, clients)), '-T', String(seconds),
      ...files.flatMap((f) => ['-f', scripts.length > 1 ? `${f}@1` : f])];
    if (latency) args.push('-l', '--log-prefix', path.join(dir, 'log'));
    // session: { role, claims } set once per connection (PGOPTIONS), for
    // server-side calls measured without the per-request frame.
    // session.settings: other settings for the connection ({ synchronous_commit: 'off' }).
    const options = session
      ? { PGOPTIONS: [`-c role=${session.role} -c request.jwt.claims=${JSON.stringify(session.claims ?? { role: session.role }).replace(/([ \\])/g, '\\$1')}`,
          ...Object.entries(session.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`)].join(' ') }
      : {};
    const r = spawnSync(pgBin('pgbench'), args, { encoding: 'utf8', cwd: dir, env: { ...process.env, ...pgEnv(url), ...options } });
    if (r.status !== 0) throw new Error(`pgbench failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout)?.[1]);
    const latencyAvgMs = Number(/latency average = ([\d.]+) ms/.exec(r.stdout)?.[1]);
    const failed = Number(/number of failed transactions: (\d+)/.exec(r.stdout)?.[1] ?? 0);
    if (failed) throw new Error(`pgbench: ${failed} failed transactions\n${r.stdout}\n${r.stderr}`);
    const transactions = Number(/number of transactions actually processed: (\d+)/.exec(r.stdout)?.[1]);
    const out = { tps, latencyAvgMs, transactions };
    if (scripts.length > 1) {
      out.perScript = r.stdout.split(/^SQL script \d+:/m).slice(1).map((part) => ({
        tps: Number(/tps = ([\d.]+)\)/.exec(part)?.[1]),
        latencyAvgMs: Number(/latency average = ([\d.]+) ms/.exec(part)?.[1]),
      }));
    }
    if (latency) {
      const lat = [];
      for (const f of readdirSync(dir).filter((x) => x.startsWith('log'))) {
        for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
          const us = Number(line.split(' ')[2]);
          if (Number.isFinite(us)) lat.push(us / 1000);
        }
      }
      lat.sort((a, b) => a - b);
      Object.assign(out, { p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), samples: lat.length });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const selectOne = { name: 'select 1', script: 'select 1;\n' };

// What the database holds and has logged: WAL position, and the bytes of
// every table, index and TOAST relation (main fork; partitions included, as
// they are relations of their own). Read before and after a case, divided by
// its transactions: what one call writes to the log and leaves on disk.
const footprintQuery = `
select pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_insert_lsn(), '0/0')::bigint as wal,
       (select coalesce(sum(pg_catalog.pg_relation_size(c.oid)), 0)::bigint
          from pg_catalog.pg_class as c where c.relkind in ('r', 'i', 't', 'm')) as stored`;

function footprint(url) {
  const out = psql(url, ['-XAt', '-F', ' ', '-c', footprintQuery], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout.trim();
  const [wal, stored] = out.split(' ').map(Number);
  return { wal, stored };
}

/**
 * Runs one case with pgbench and measures what it wrote: the result of
 * pgbench() plus walPerCall and storedPerCall (bytes per transaction). Other
 * sessions' writes in the same seconds (autovacuum, a checkpoint's full-page
 * images) are counted too, as they are part of what the writes cost.
 */
export function measuredPgbench(url, c, { checkpointUrl = null } = {}) {
  // Each case starts right after a checkpoint, so a case and its floors pay
  // alike for the full-page image of the first change to each page (a case
  // run after another would otherwise inherit its pages already logged).
  if (checkpointUrl) psql(checkpointUrl, ['-c', 'checkpoint'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const before = footprint(url);
  const r = pgbench(url, c);
  const after = footprint(url);
  const n = r.transactions || 1;
  return { ...r, walPerCall: (after.wal - before.wal) / n, storedPerCall: (after.stored - before.stored) / n };
}

/**
 * The report's rows for a suite's results ([{ suite, case, r }]): each case's
 * ratio to `select 1` (`base` tps), to its function floor and to its bare
 * floor (cases of the same suite, found by name), latency, WAL and storage
 * per call.
 */
export function reportRows(results, base) {
  const byName = new Map(results.map((x) => [`${x.suite}\u0000${x.case.name}`, x.r]));
  const floorOf = (suite, name, field) => {
    if (!name) return null;
    const r = byName.get(`${suite}\u0000${name}`);
    if (!r) throw new Error(`${suite}: no case named ${JSON.stringify(name)} (the ${field} of a case)`);
    return r;
  };
  const rows = [['suite', 'case', 'tps', '÷ select 1', '÷ function floor', '÷ bare floor', 'p50 / p99 ms', 'WAL B/call', 'stored B/call']];
  for (const { suite, case: c, r } of results) {
    const floor = floorOf(suite, c.floor, 'floor');
    const bare = floorOf(suite, c.bare, 'bare');
    const aim = c.aim ?? 0.8;
    const toFloor = floor ? r.tps / floor.tps : null;
    rows.push([
      suite, c.name, r.tps.toFixed(0), (r.tps / base).toFixed(2),
      toFloor === null ? '' : `${toFloor.toFixed(2)} ${toFloor >= aim ? 'ok' : `LOW (aim ${aim})`}`,
      bare ? (r.tps / bare.tps).toFixed(2) : '',
      Number.isFinite(r.p50Ms) ? `${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)}` : `${r.latencyAvgMs}`,
      bytes(r.walPerCall), bytes(r.storedPerCall),
    ]);
  }
  return rows;
}

/** A per-call byte figure: whole bytes, or 0 for what rounds to nothing (reads). */
const bytes = (x) => (Math.abs(x) < 1 ? '0' : x.toFixed(0));

/**
 * The `create or replace function <name>(` ... `$$;` statement of a function as
 * it stood in `file` at git `ref`, with every occurrence of each key of
 * `rename` replaced by its value (e.g. { 'private.check_rate_limit(': 'bench_old.check_rate_limit(' }).
 * `overload` picks among several definitions of the name (0 = the first).
 */
export function oldDefinition(ref, file, name, rename = {}, overload = 0) {
  const text = execFileSync('git', ['show', `${ref}:${file}`], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20 });
  const starts = [];
  const head = `create or replace function ${name}(`;
  for (let i = text.indexOf(head); i >= 0; i = text.indexOf(head, i + 1)) starts.push(i);
  if (starts.length <= overload) throw new Error(`${name} not found in ${ref}:${file}`);
  const start = starts[overload];
  const end = text.indexOf('\n$$;', start);
  let def = text.slice(start, end + 4);
  for (const [from, to] of Object.entries(rename)) def = def.split(from).join(to);
  return `${def}\n`;
}

/**
 * The setup of an A/B case (benchmarks/ab/*.mjs): schema bench_old holding the
 * functions `names` as they stood in `file` at git `ref` (see oldDefinition;
 * `rename` must move each into bench_old), executable by the API roles.
 */
export const oldDefinitionsSetup = (ref, file, names, rename) => `
create schema if not exists bench_old;
grant usage on schema bench_old to authenticated, service_role;
${names.map((name) => `${oldDefinition(ref, file, name, rename)};`).join('\n')}
grant execute on all functions in schema bench_old to authenticated, service_role;
`;

/** A Markdown table: the first row is the header. */
export const markdownTable = (rows) =>
  rows.map((r) => `| ${r.join(' | ')} |`).join('\n').replace(/\n/, `\n|${rows[0].map(() => '---').join('|')}|\n`);
