#!/usr/bin/env node
// npm run bench:gateway — the local API gateway's own cost: three calls a
// signed-in client makes, each measured through the gateway (autocannon) and
// as the very SQL the gateway sends, run directly (pgbench), in one run on a
// durable throwaway database (or SUPABASE_DB_URL):
//
//   small RPC         POST /rest/v1/rpc/get_my_profile
//   set-returning RPC POST /rest/v1/rpc/list_conversations?select=…&model_name=eq.…&limit=10
//   table GET         GET  /rest/v1/messages?select=…&conversation_id=eq.…&order=created_at.desc&limit=20
//
// The SQL is captured, not rewritten: the gateway's own modules (rpc.mjs,
// tables.mjs) handle each request once in this process over a recording pool,
// and the statements they send (begin, the settings, the main statement with
// its bound parameters, commit) become the pgbench scripts, parameters still
// bound (pgbench -D variables). The response of the captured request must
// equal the gateway's over HTTP, or the run stops.
//
// Each case is measured nine ways (the `ways` list below; docs/benchmarks.md,
// "The API gateway", says what each isolates): the gateway over HTTP; its
// handler in this process (no HTTP server); node-postgres alone sending the
// same statements in four round trips, in its pipeline mode, or as one
// message; pgbench sending them in four
// round trips, pipelined, prepared once per connection, or the main statement
// alone. Each figure is the best of BENCH_ROUNDS rounds. Then the gateway is
// profiled (node --cpu-prof) on one case, and JWT verification timed alone.
//
// BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (8), BENCH_CASES (all:
// rpc-small,rpc-setof,table-get), BENCH_PROFILE_CASE (rpc-small; `none` skips),
// BENCH_WRITE_DOCS=1 (write the figures into docs/benchmarks.md).
import { spawn, spawnSync } from 'node:child_process';
import { createSecretKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { jwtVerify } from 'jose';
import pg from 'pg';
import pgUtils from 'pg/lib/utils.js';
import { claimsFromAuthorization, restAuthorization } from '../local-stack/gateway/auth.mjs';
import { createPool } from '../local-stack/gateway/db.mjs';
import { createRpc } from '../local-stack/gateway/rpc.mjs';
import { authenticatorUrl } from '../local-stack/gateway/server.mjs';
import { createTables } from '../local-stack/gateway/tables.mjs';
import { dbPush, freePort, local, log, pgBin, pgEnv, repoRoot } from '../local-stack/lib.mjs';
import { createThrowawayDatabase } from '../local-stack/throwaway.mjs';
import { benchUserToken, benchUserUuid, makeContext, pgbench, selectOne } from './harness.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const profileCase = process.env.BENCH_PROFILE_CASE ?? 'rpc-small';
const writeDocs = process.argv.includes('--write-docs') || ['1', 'true', 'yes'].includes(process.env.BENCH_WRITE_DOCS ?? '');
const docsFile = path.join(repoRoot, 'docs', 'benchmarks.md');
const BEGIN = '<!-- gateway-bench:begin -->';
const END = '<!-- gateway-bench:end -->';

// ---------------------------------------------------------------------------
// Data: bench users 1..50; user 1 (the reader) has 200 conversations, half of
// them on each of two models, and 500 messages in conversation 1; every other
// user has 40 conversations of 10 messages, so RLS has rows to exclude.
// ---------------------------------------------------------------------------
const users = 50;
const readerConversations = 200;
const convId = (k) => `00000000-0000-4000-9000-${k.toString(16).padStart(12, '0')}`;
const sqlConvId = (k) => `('00000000-0000-4000-9000-' || lpad(to_hex(${k}), 12, '0'))::uuid`;

function seed(ctx) {
  ctx.createBenchUsers(users);
  const others = (users - 1) * 40;
  ctx.sql(`
    insert into public.conversations (id, user_id, title, model_name, created_at, updated_at)
    select ${sqlConvId('k')},
           ${benchUserUuid(`case when k <= ${readerConversations} then 1 else 2 + (k - ${readerConversations + 1}) % ${users - 1} end`)},
           'Conversation ' || k, case when k % 2 = 0 then 'gpt-4o-mini' else 'claude-sonnet' end,
           timestamptz '2026-01-01 00:00:00+00' + k * interval '1 second',
           timestamptz '2026-01-01 00:00:00+00' + k * interval '1 second'
      from generate_series(1, ${readerConversations + others}) as k
    on conflict (id) do nothing;
    alter table public.messages disable trigger user;
    insert into public.messages (conversation_id, user_id, role, content, parts, created_at)
    select c.id, c.user_id, case when n % 2 = 1 then 'user' else 'assistant' end,
           'Message ' || n || ': a question or an answer of ordinary length for a chat benchmark.',
           jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'Message ' || n || ': a question or an answer of ordinary length for a chat benchmark.')),
           timestamptz '2026-01-01 00:00:00+00' + n * interval '1 millisecond'
      from public.conversations as c,
           lateral generate_series(1, case when c.id = ${sqlConvId(1)} then 500 else 10 end) as n
     where not exists (select 1 from public.messages as m where m.conversation_id = c.id);
    alter table public.messages enable trigger user;
    update public.conversations as c
       set message_count = s.n, last_message_at = s.last
      from (select conversation_id, count(*)::int as n, max(created_at) as last from public.messages group by conversation_id) as s
     where c.id = s.conversation_id;
  `);
}

// The three calls, as supabase-js sends them for the signed-in bench user 1.
const allCases = [
  {
    id: 'rpc-small',
    name: 'small RPC: get_my_profile',
    method: 'POST',
    path: '/rest/v1/rpc/get_my_profile',
    body: '{}',
  },
  {
    id: 'rpc-setof',
    name: 'set-returning RPC + filter: list_conversations',
    method: 'POST',
    path: '/rest/v1/rpc/list_conversations?select=id,title,updated_at,message_count&model_name=eq.gpt-4o-mini&limit=10',
    body: JSON.stringify({ p_limit: 50 }),
  },
  {
    id: 'table-get',
    name: 'table GET + filter: messages',
    method: 'GET',
    path: `/rest/v1/messages?select=id,role,content,created_at&conversation_id=eq.${convId(1)}&order=created_at.desc&limit=20`,
    body: null,
  },
];

const only = process.env.BENCH_CASES?.split(',').map((x) => x.trim()).filter(Boolean);
const cases = only?.length ? allCases.filter((c) => only.includes(c.id)) : allCases;
if (!cases.length) throw new Error(`BENCH_CASES matches none of ${allCases.map((c) => c.id).join(', ')}`);


const requestHeaders = (c, token) => ({
  apikey: local.publishableKey,
  authorization: `Bearer ${token}`,
  ...(c.body !== null ? { 'content-type': 'application/json' } : {}),
});

// ---------------------------------------------------------------------------
// Capture: the gateway's handlers in this process, over a pool that records
// what one request sends.
// ---------------------------------------------------------------------------
function tomlList(toml, key, fallback) {
  const api = /^\[api\]\s*$([\s\S]*?)(?=^\[)/m.exec(toml)?.[1] ?? '';
  const m = new RegExp(`^\\s*${key}\\s*=\\s*\\[([^\\]]*)\\]`, 'm').exec(api);
  return m ? [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]) : fallback;
}

function apiConfig() {
  const toml = readFileSync(path.join(repoRoot, 'supabase/config.toml'), 'utf8');
  const api = /^\[api\]\s*$([\s\S]*?)(?=^\[)/m.exec(toml)?.[1] ?? '';
  const maxRows = /^\s*max_rows\s*=\s*([0-9]+)/m.exec(api)?.[1];
  return {
    schemas: tomlList(toml, 'schemas', ['public', 'graphql_public']),
    extraSearchPath: tomlList(toml, 'extra_search_path', ['public', 'extensions']),
    maxRows: maxRows ? Number(maxRows) : null,
  };
}

/** A pool whose connections record every statement while `recording.on`. */
function recordingPool(pool, recording) {
  return {
    query: (...args) => pool.query(...args),
    async connect() {
      const client = await pool.connect();
      return {
        query(q, values) {
          const text = typeof q === 'string' ? q : q.text;
          if (recording.on) recording.statements.push({ name: q.name, text, values: (typeof q === 'string' ? values : q.values) ?? [] });
          return client.query(q, values);
        },
        release: (e) => client.release(e),
        get readyForQuery() {
          return client.readyForQuery;
        },
      };
    },
  };
}

/** The gateway's /rest/v1 handling (server.mjs) without the HTTP server, for one request. */
async function handleInProcess(api, c, headers) {
  const url = new URL(c.path, 'http://gateway');
  const route = /^\/rest\/v1\/(?:(rpc)\/)?([^/]+)$/.exec(url.pathname);
  const authorization = restAuthorization(local, headers);
  const claims = await claimsFromAuthorization(authorization, api.secret);
  const request = {
    method: c.method,
    name: decodeURIComponent(route[2]),
    headers: { ...headers, authorization },
    query: url.searchParams,
    body: c.body,
    claims,
    path: url.pathname.slice('/rest/v1'.length),
  };
  return route[1] ? api.rpc.call(request) : api.tables.handle(request);
}

async function inProcessGateway(url) {
  const { schemas, extraSearchPath, maxRows } = apiConfig();
  const recording = { on: false, statements: [] };
  // The gateway's own pool (pipeline mode, as server.mjs creates it).
  const pool = createPool({ connectionString: authenticatorUrl(url), max: 10, applicationName: 'gateway-bench' });
  const recorded = recordingPool(pool, recording);
  let tables;
  const rpc = createRpc({ pool: recorded, schemas, extraSearchPath, maxRows, columnTypes: (name) => tables.columnTypes(name) });
  tables = createTables({ pool: recorded, schemas, extraSearchPath, maxRows, roleSettings: rpc.roleSettings });
  await rpc.reload();
  await tables.reload();
  const pipelinedPool = new pg.Pool({ connectionString: authenticatorUrl(url), max: 10, pipeline: true, application_name: 'gateway-bench' });
  const api = { rpc, tables, secret: createSecretKey(Buffer.from(local.jwtSecret, 'utf8')), pool, pipelinedPool };
  api.capture = async (c, headers) => {
    recording.on = true;
    recording.statements = [];
    try {
      const response = await handleInProcess(api, c, headers);
      return { response, statements: recording.statements };
    } finally {
      recording.on = false;
    }
  };
  return api;
}

// ---------------------------------------------------------------------------
// pgbench scripts from the captured statements. Bound parameters stay bound:
// `$n` becomes the pgbench variable `:<prefix>n`, given with -D as the text
// node-postgres sends.
// ---------------------------------------------------------------------------
function toScriptStatement({ text, values }, prefix, vars) {
  values.forEach((v, i) => {
    vars[`${prefix}${i + 1}`] = pgUtils.prepareValue(v);
  });
  return `${text.replace(/\$(\d+)\b/g, (_, n) => `:${prefix}${n}`).replace(/\s+$/, '').replace(/;$/, '')};`;
}

function directScripts(statements) {
  if (statements.length !== 4 || !/^begin\b/.test(statements[0].text) || statements[3].text !== 'commit') {
    throw new Error(`expected begin, settings, main statement, commit; the gateway sent:\n${statements.map((s) => s.text).join('\n')}`);
  }
  const vars = {};
  const [begin, settings, main, commit] = statements.map((s, i) => toScriptStatement(s, `p${i}_`, vars));
  const frame = [begin, settings, main, commit].join('\n');
  // For "main statement alone": the settings, set once per connection (PGOPTIONS).
  const [keys, vals] = statements[1].values;
  const settingsOptions = keys.map((k, i) => `-c ${k}=${String(vals[i]).replace(/([ \\])/g, '\\$1')}`).join(' ');
  return {
    vars,
    roundTrips: `${frame}\n`,
    pipelined: `\\startpipeline\n${frame}\n\\endpipeline\n`,
    mainOnly: `${main}\n`,
    settingsOptions,
  };
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/**
 * pgbench as the authenticator (the gateway's login role), with -D variables and
 * a query mode (extended: parse every time, as node-postgres's unnamed
 * statements are; prepared: once per connection). Returns { rps, p50, p99 } (ms).
 */
function pgbenchDirect(url, { script, vars, mode, options = '' }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gwbench-'));
  try {
    writeFileSync(path.join(dir, 'script.sql'), script);
    const args = ['-n', '-M', mode, '-c', String(connections), '-j', '2', '-T', String(seconds),
      '-f', 'script.sql', '-l', '--log-prefix', path.join(dir, 'log'),
      ...Object.entries(vars).flatMap(([k, v]) => ['-D', `${k}=${v}`])];
    const env = { ...process.env, ...pgEnv(authenticatorUrl(url)), ...(options ? { PGOPTIONS: options } : {}) };
    const r = spawnSync(pgBin('pgbench'), args, { encoding: 'utf8', cwd: dir, env });
    const failed = Number(/number of failed transactions: (\d+)/.exec(r.stdout)?.[1] ?? 0);
    if (r.status !== 0 || failed) throw new Error(`pgbench failed (${r.status}, ${failed} failed):\n${r.stdout}\n${r.stderr}`);
    const lat = [];
    for (const f of readdirSync(dir).filter((x) => x.startsWith('log'))) {
      for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (Number.isFinite(us)) lat.push(us / 1000);
      }
    }
    lat.sort((a, b) => a - b);
    return {
      rps: Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout)?.[1]),
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Load through the gateway: over HTTP (autocannon), and in this process.
// ---------------------------------------------------------------------------
/** CPU seconds (user + system) the process `pid` has used so far (Linux /proc). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

/**
 * autocannon against the gateway; latencies from its per-response times
 * (its own histogram keeps whole milliseconds). With `pid`, also the gateway
 * process's CPU milliseconds per request; and autocannon's own (this process's).
 */
function cannon(baseUrl, c, headers, pid) {
  return new Promise((resolve, reject) => {
    const lat = [];
    const cpu0 = pid ? cpuSeconds(pid) : NaN;
    const ownCpu0 = process.cpuUsage();
    const instance = autocannon({
      url: `${baseUrl}${c.path}`, method: c.method, headers, ...(c.body !== null ? { body: c.body } : {}),
      connections, duration: seconds, pipelining: 1,
    }, (err, r) => {
      if (err) return reject(err);
      if (r.errors || r.non2xx) return reject(new Error(`${c.name}: ${r.errors} errors, ${r.non2xx} non-2xx responses`));
      lat.sort((a, b) => a - b);
      const cpuMs = pid ? ((cpuSeconds(pid) - cpu0) * 1000) / r.requests.total : NaN;
      const own = process.cpuUsage(ownCpu0);
      const loadGeneratorCpuMs = (own.user + own.system) / 1000 / r.requests.total;
      resolve({ rps: r.requests.average, p50: percentile(lat, 50), p99: percentile(lat, 99), cpuMs, loadGeneratorCpuMs });
    });
    instance.on('response', (_client, _status, _bytes, ms) => lat.push(ms));
  });
}

/** `connections` concurrent callers of `once` for `seconds`: { rps, p50, p99, cpuMs } (this process's CPU). */
async function loadLoop(once) {
  const lat = [];
  const until = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await once();
      lat.push(performance.now() - t0);
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  return { rps: lat.length / elapsed, p50: percentile(lat, 50), p99: percentile(lat, 99), cpuMs: (cpu.user + cpu.system) / 1000 / lat.length };
}

/** The gateway's handler in this process: everything but the HTTP server. */
const inProcessLoad = (api, c, headers) => loadLoop(async () => {
  const r = await handleInProcess(api, c, headers);
  if (r.status >= 300) throw new Error(`${c.name}: status ${r.status}`);
});

/**
 * node-postgres alone, no gateway code, sending the captured statements:
 *   'asGateway'  one after the other, each awaited (four round trips), as the gateway does;
 *   'pipelined'  all four at once on a `pipeline: true` pool (node-postgres's
 *                pipeline mode), answers awaited together: one wait;
 *   'oneMessage' all four as one simple-protocol message, parameters as literals.
 */
function driverLoad(pool, statements, mode) {
  const literal = (v) => pgUtils.escapeLiteral(String(pgUtils.prepareValue(v)));
  const inline = statements.map((s) => s.text.replace(/\$(\d+)\b/g, (_, n) => literal(s.values[n - 1]))).join(';\n');
  const asQuery = (s) => (s.values.length || s.name ? { name: s.name, text: s.text, values: s.values } : s.text);
  return loadLoop(async () => {
    const client = await pool.connect();
    try {
      if (mode === 'oneMessage') await client.query(inline);
      else if (mode === 'pipelined') await Promise.all(statements.map((s) => client.query(asQuery(s))));
      else for (const s of statements) await client.query(asQuery(s));
    } finally {
      client.release();
    }
  });
}

/**
 * One thread's cost of verifying the bench token: with the secret as bytes, as
 * the gateway passes it (jose imports the key on every call), and with a
 * WebCrypto key imported once. Microseconds per verification, the best of
 * interleaved passes.
 */
async function jwtVerifyCost(token) {
  const bytes = new TextEncoder().encode(local.jwtSecret);
  const keyObject = createSecretKey(Buffer.from(local.jwtSecret, 'utf8'));
  const ways = {
    bytes: () => jwtVerify(token, bytes, { algorithms: ['HS256'], clockTolerance: 30 }),
    keyOnce: () => jwtVerify(token, keyObject, { algorithms: ['HS256'], clockTolerance: 30 }),
    cached: () => claimsFromAuthorization(`Bearer ${token}`, keyObject),
  };
  const best = { bytes: Infinity, keyOnce: Infinity, cached: Infinity };
  for (let pass = 0; pass < 6; pass++) {
    for (const [name, verify] of Object.entries(ways)) {
      const n = 2000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await verify();
      best[name] = Math.min(best[name], ((performance.now() - t0) * 1000) / n);
    }
  }
  return best;
}

async function startGateway(dbUrl, nodeFlags = []) {
  const port = await freePort(55400 + Math.floor(Math.random() * 400));
  const child = spawn(process.execPath, [...nodeFlags, path.join(repoRoot, 'local-stack/gateway/main.mjs'),
    '--db-url', dbUrl, '--port', String(port), '--no-functions'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`gateway exited:\n${err}`);
    try {
      if ((await fetch(`${url}/__local/status`)).ok) return { url, child };
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway did not start:\n${err}`);
}

async function stopGateway(gw) {
  if (!gw || gw.child.exitCode !== null) return;
  const exited = new Promise((r) => gw.child.once('exit', r));
  gw.child.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------------------
// The profile of the gateway process under load. Each sample is charged to the
// part of the request path its innermost recognised frame belongs to: JWT
// verification (jose, with the WebCrypto work under it), the pg driver (with
// the socket writes it makes), the HTTP server (node:_http_*), the query string
// and SQL builder (query.mjs), the rest of the gateway's code (JSON.stringify
// and the like under it). What has none of these on its stack is garbage
// collection, or event-loop and promise machinery. Self time by frame too.
// ---------------------------------------------------------------------------
const parts = [
  ['JWT verification (jose, WebCrypto)', (f) => /node_modules\/jose\//.test(f.url)],
  ['pg driver (node-postgres: protocol, parsing rows, socket I/O)', (f) => /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+)\//.test(f.url)],
  ['HTTP server (node:http: parse request, write response)', (f) => /^node:_http_/.test(f.url)],
  ['query string parsing and SQL building (query.mjs)', (f) => /local-stack\/gateway\/query\.mjs/.test(f.url)],
  ['rest of the gateway (server, auth, rpc, tables, request .mjs)', (f) => /local-stack\/gateway\//.test(f.url)],
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
];
const unattributed = 'event loop, promises, other';

const frameName = (f) =>
  `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.replace(/^.*\/(node_modules|local-stack)\//, '$1/')}:${f.lineNumber + 1}` : '(native)'}`;

/** Where the busy time of the last `windowSeconds` of a .cpuprofile went. */
function summariseProfile(file, windowSeconds) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const stackOf = (id) => {
    const stack = [];
    for (let at = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at).callFrame);
    return stack;
  };
  const partOf = new Map();
  const part = (id) => {
    if (!partOf.has(id)) {
      const stack = stackOf(id);
      const innermost = stack.map((f) => parts.find(([, test]) => test(f))).find(Boolean);
      partOf.set(id, innermost?.[0] ?? unattributed);
    }
    return partOf.get(id);
  };
  // Only the load: samples in the window that ends with the profile (startup excluded).
  const from = prof.endTime - windowSeconds * 1e6;
  const byPart = new Map();
  const bySelf = new Map();
  let t = prof.startTime;
  let busy = 0;
  let idle = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from) return;
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    busy += dt;
    byPart.set(part(id), (byPart.get(part(id)) ?? 0) + dt);
    bySelf.set(frameName(frame), (bySelf.get(frameName(frame)) ?? 0) + dt);
  });
  const pct = (us) => `${((100 * us) / busy).toFixed(1)}%`;
  const sorted = (m, n) => [...m].sort((x, y) => y[1] - x[1]).slice(0, n).map(([k, us]) => [k, pct(us)]);
  return { busyShare: busy / (busy + idle), parts: sorted(byPart, 20), frames: sorted(bySelf, 12) };
}

async function profileGateway(url, c, headers) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gwprof-'));
  let gw;
  try {
    gw = await startGateway(url, ['--cpu-prof', '--cpu-prof-dir', dir]);
    const r = await cannon(gw.url, c, headers, gw.child.pid);
    await stopGateway(gw);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the gateway wrote no CPU profile');
    return { r, ...summariseProfile(path.join(dir, file), seconds) };
  } finally {
    await stopGateway(gw);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------
const table = (rows) =>
  rows.map((r) => `| ${r.join(' | ')} |`).join('\n').replace(/\n/, `\n|${rows[0].map(() => '---').join('|')}|\n`);
const ms = (x) => (Number.isFinite(x) ? x.toFixed(2) : '');

function machine(serverVersion) {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  return `${cpus.length} cores (${model}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.platform()}/${os.arch()}; PostgreSQL ${serverVersion}; Node ${process.version}`;
}

function writeDocsSection(body) {
  const text = readFileSync(docsFile, 'utf8');
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  if (i < 0 || j < i) {
    log(`docs/benchmarks.md has no ${BEGIN} ... ${END} section; not written`);
    return;
  }
  writeFileSync(docsFile, `${text.slice(0, i + BEGIN.length)}\n${body}\n${text.slice(j)}`);
  log('results written to docs/benchmarks.md');
}

// How each case is measured; `run(t)` gets the case's targets (t.c the case,
// t.s the pgbench scripts, t.statements the captured statements).
const ways = [
  { key: 'gateway', label: 'gateway over HTTP (autocannon)', run: (t) => cannon(t.gw.url, t.c, t.headers, t.gw.child.pid) },
  { key: 'roundTrips', label: 'direct: the same 4 statements, 4 round trips (pgbench -M extended)',
    run: (t) => pgbenchDirect(t.url, { script: t.s.roundTrips, vars: t.s.vars, mode: 'extended' }) },
  { key: 'inProcess', label: 'gateway handler in-process (no HTTP server)', run: (t) => inProcessLoad(t.api, t.c, t.captureHeaders) },
  { key: 'pipelined', label: 'direct: the same 4 statements, 1 round trip (pipelined)',
    run: (t) => pgbenchDirect(t.url, { script: t.s.pipelined, vars: t.s.vars, mode: 'extended' }) },
  { key: 'driver4', label: 'node-postgres alone: the same 4 statements (no gateway code)',
    run: (t) => driverLoad(t.api.pool, t.statements, 'asGateway') },
  { key: 'driverPipelined', label: 'node-postgres alone: the same 4 statements, pipeline mode (one wait)',
    run: (t) => driverLoad(t.api.pipelinedPool, t.statements, 'pipelined') },
  { key: 'prepared', label: 'direct: the same 4 statements, prepared once per connection',
    run: (t) => pgbenchDirect(t.url, { script: t.s.roundTrips, vars: t.s.vars, mode: 'prepared' }) },
  { key: 'pipelinedPrepared', label: 'direct: the same 4 statements pipelined and prepared (as the gateway sends them)',
    run: (t) => pgbenchDirect(t.url, { script: t.s.pipelined, vars: t.s.vars, mode: 'prepared' }) },
  { key: 'driver1', label: 'node-postgres alone: the same statements in 1 round trip (literals)',
    run: (t) => driverLoad(t.api.pool, t.statements, 'oneMessage') },
  { key: 'mainOnly', label: 'direct: the main statement alone, settings per connection',
    run: (t) => pgbenchDirect(t.url, { script: t.s.mainOnly, vars: t.s.vars, mode: 'extended', options: t.s.settingsOptions }) },
];
// The order of the rows in the report.
const reportOrder = ['gateway', 'inProcess', 'driver4', 'driverPipelined', 'driver1', 'pipelinedPrepared', 'roundTrips', 'pipelined', 'prepared', 'mainOnly'];
const nodeSide = new Set(['gateway', 'inProcess', 'driver4', 'driverPipelined', 'driver1']);

/** Captures one request, checks its answer against the gateway's over HTTP, and builds the case's targets. */
async function prepareCase(c, { url, gw, api, token }) {
  const headers = requestHeaders(c, token);
  const captureHeaders = { host: new URL(gw.url).host, ...headers };
  const { response, statements } = await api.capture(c, captureHeaders);
  const overHttp = await fetch(`${gw.url}${c.path}`, { method: c.method, headers, body: c.body ?? undefined });
  const httpBody = await overHttp.text();
  if (overHttp.status !== response.status || httpBody !== response.body) {
    throw new Error(`${c.name}: the captured request answered ${response.status} ${response.body}, the gateway ${overHttp.status} ${httpBody}`);
  }
  const body = JSON.parse(httpBody);
  const rowCount = Array.isArray(body) ? body.length : body ? 1 : 0;
  if (!rowCount) throw new Error(`${c.name}: empty answer ${httpBody}`);
  return { c, url, gw, api, headers, captureHeaders, statements, s: directScripts(statements), rowCount };
}

let db;
let gw;
let api;
try {
  let url = process.env.SUPABASE_DB_URL;
  if (url) dbPush(url);
  else {
    db = await createThrowawayDatabase({ durable: true });
    db.push();
    url = db.url;
  }
  const ctx = makeContext(url);
  log('seeding ...');
  seed(ctx);
  ctx.sql('vacuum analyze');
  const token = await benchUserToken(1);

  api = await inProcessGateway(url);
  gw = await startGateway(url);
  log(`gateway ${gw.url}; ${connections} connections / pgbench clients, ${seconds}s per measurement, best of ${rounds} rounds`);

  const targets = [];
  for (const c of cases) targets.push(await prepareCase(c, { url, gw, api, token }));
  const before = pgbench(url, { ...selectOne, clients: connections, seconds });
  // Rounds: every way of every case once per round; the best round of each is kept,
  // so a burst of load from elsewhere on the machine costs one round, not the figure.
  const best = new Map();
  for (let round = 1; round <= rounds; round++) {
    for (const t of targets) {
      for (const w of ways) {
        log(`round ${round}/${rounds}: ${t.c.name}: ${w.label} ...`);
        const x = await w.run(t);
        const k = `${t.c.id} ${w.key}`;
        if (!best.has(k) || x.rps > best.get(k).rps) best.set(k, x);
      }
    }
  }
  const after = pgbench(url, { ...selectOne, clients: connections, seconds });
  const base = Math.max(before.tps, after.tps);
  await stopGateway(gw);
  gw = null;

  const label = Object.fromEntries(ways.map((w) => [w.key, w.label]));
  const rows = [['case', 'measured as', 'req/s', 'p50 ms', 'p99 ms', 'gateway ÷ this', 'ratio to select 1', 'Node CPU ms/req']];
  rows.push(['select 1 (pgbench, reference)', '', base.toFixed(0), '', '', '', '1.00', '']);
  for (const t of targets) {
    const gateway = best.get(`${t.c.id} gateway`);
    for (const key of reportOrder) {
      const x = best.get(`${t.c.id} ${key}`);
      rows.push([key === 'gateway' ? `${t.c.name} (${t.rowCount} row${t.rowCount === 1 ? '' : 's'})` : '', label[key],
        x.rps.toFixed(0), ms(x.p50), ms(x.p99), key === 'gateway' ? '' : (gateway.rps / x.rps).toFixed(2),
        (x.rps / base).toFixed(2), nodeSide.has(key) ? ms(x.cpuMs) : '']);
    }
  }
  const summary = `select 1: ${before.tps.toFixed(0)} tps before, ${after.tps.toFixed(0)} tps after the cases (the better one is the reference)`;
  const out = [summary, '', table(rows), '',
    `autocannon, on the same cores, used ${targets.map((t) => `${ms(best.get(`${t.c.id} gateway`).loadGeneratorCpuMs)} ms (${t.c.id})`).join(', ')} ` +
    'of CPU per request in the gateway rows above.'];

  const chosen = allCases.find((c) => c.id === profileCase);
  if (chosen) {
    log(`profiling the gateway on ${chosen.name} ...`);
    const p = await profileGateway(url, chosen, requestHeaders(chosen, token));
    out.push('', `Profile of the gateway process (node --cpu-prof), ${chosen.name}, ${p.r.rps.toFixed(0)} req/s while profiled; ` +
      `the gateway's one thread was busy ${(100 * p.busyShare).toFixed(0)}% of the time. Share of the busy time by part of the request path:`, '',
      table([['part', 'share'], ...p.parts]), '', 'Top frames by self time:', '', table([['frame', 'share'], ...p.frames]));
  }
  const jwt = await jwtVerifyCost(token);
  out.push('', `JWT verification, one thread: ${jwt.bytes.toFixed(0)} µs per token with the secret passed as bytes (jose imports the key ` +
    `on every call), ${jwt.keyOnce.toFixed(0)} µs with a key imported once (the gateway's first sight of a token), ` +
    `${jwt.cached.toFixed(1)} µs for a token the gateway has verified before (its cache, until the token's exp).`);
  await api.pool.end();
  await api.pipelinedPool.end();
  api = null;
  const text = out.join('\n');
  process.stdout.write(`\n${text}\n`);
  if (writeDocs) {
    const serverVersion = ctx.sql('show server_version').split('\n').map((l) => l.trim()).find((l) => /^\d+(\.\d+)*\b/.test(l)) ?? 'unknown';
    const command = [...['BENCH_SECONDS', 'BENCH_ROUNDS', 'BENCH_CASES', 'BENCH_CONNECTIONS', 'BENCH_PROFILE_CASE', 'BENCH_WRITE_DOCS', 'PG_MAJOR']
      .filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`), 'npm run bench:gateway'].join(' ');
    writeDocsSection([
      `- Date: ${new Date().toISOString().slice(0, 10)} (UTC)`,
      `- Machine: ${machine(serverVersion)}`,
      `- Command: \`${command}\` (${connections} connections / pgbench clients, ${seconds} s per measurement, best of ${rounds} rounds)`,
      '',
      text,
    ].join('\n'));
  }
} finally {
  await stopGateway(gw);
  await api?.pool.end();
  await api?.pipelinedPool.end();
  db?.destroy();
}
