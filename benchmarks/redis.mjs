#!/usr/bin/env node
// npm run bench:redis — the project's rate limiter and cache side by side with
// what people would pick instead, Redis, in one run at the same concurrency:
//
//   baseline      select 1 (pgbench)            vs PING (redis-benchmark)
//   rate limit    check_rate_limit, server-side vs GCRA and fixed window in Lua
//                 call for a random user           (EVALSHA, scripts in redis/)
//   cache         get_cache / set_cache         vs GET / SET ... EX, same JSON
//   end to end    the rate-limit edge function with check_rate_limit vs the
//                 same handler with the Redis GCRA limiter (autocannon)
//
// Both sides are driven the same way: 8 clients on 2 threads, one command at
// a time per client (pgbench -M prepared; redis-benchmark -P 1, no
// pipelining), each case BENCH_SECONDS long. A round runs each Postgres case
// and then its Redis counterparts; every ratio is taken within a round (to
// the side's own baseline, Redis to Postgres) and the table shows the median
// over BENCH_ROUNDS rounds. Redis runs three ways: persistence off (--save ''
// --appendonly no, the usual limiter/cache setup), AOF with appendfsync
// everysec, and AOF with appendfsync always. Then exactness: 40 parallel
// calls on one key with a limit of 10, on each limiter.
//
// Postgres is a throwaway durable cluster (fsync on) with the migrations; the
// data is the usage suite's (bench users, plans) and the platform suite's
// cache keys. redis-server comes from Debian (installed when missing, as
// root), started on a free loopback port with a temporary directory.
//
// BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_CLIENTS (8), BENCH_THREADS (2),
// BENCH_CONNECTIONS (8, autocannon), BENCH_REDIS_MODES (none,everysec,always).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { denoBin, ephemeralPort, functionConfig, supabaseFunctionEnv } from '../local-stack/gateway/functions-runtime.mjs';
import { freePort, local, localFunctionDefaults, log, readFileSync, repoRoot } from '../local-stack/lib.mjs';
import { migratedDatabase } from '../local-stack/throwaway.mjs';
import { benchUserToken, benchUserId, defaults, makeContext, markdownTable, pgbench, selectOne, serviceSession } from './harness.mjs';
import { connect } from './redis/resp.mjs';
import { fixedWindowLua, gcraLua } from './redis/scripts.mjs';
import { ensureRedis, redisVersion, startRedis } from './redis/server.mjs';
import * as platform from './suites/platform.mjs';
import * as usage from './suites/usage.mjs';

const seconds = defaults.seconds;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const modes = (process.env.BENCH_REDIS_MODES ?? 'none,everysec,always').split(',').map((m) => m.trim()).filter(Boolean);

// The suites' own cases, so that the Postgres side is measured exactly as
// `npm run bench` measures it.
const caseOf = (suite, prefix) => {
  const c = suite.cases.find((x) => x.name.startsWith(prefix));
  if (!c) throw new Error(`${suite.name} has no case ${prefix}`);
  return { ...c, latency: true };
};
const pgCases = {
  baseline: { ...selectOne, latency: true },
  rateLimit: caseOf(usage, 'check_rate_limit (server-side call'),
  cacheGet: caseOf(platform, 'get_cache (hit'),
  cacheSet: caseOf(platform, 'set_cache (overwrite'),
};

// The value platform's set_cache case writes; Redis stores the same text.
const cacheValue = '{"id":1,"title":"video","duration":600}';
const cacheKeys = 10_000;
// Keys of the Redis limiters: enough that no key reaches the limit in a run,
// so every call is allowed (the path check_rate_limit takes in its case).
const limiterKeys = 100_000;
const rule = { limit: 100, windowMs: 60_000 };

// The rate limit of the end-to-end case: users 1..2000 on api_general (basic:
// 100 a minute, pro: 500), the Redis limiter with basic's rule.
const e2eUsers = 2_000;
const e2eEndpoint = 'api_general';

// ---------------------------------------------------------------------------
// Redis side: redis-benchmark, same clients and threads as pgbench
// ---------------------------------------------------------------------------

/** One redis-benchmark run of `command` (args; __rand_int__ drawn in 0..keyspace-1). */
function redisBench(port, command, { requests, keyspace }) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-c', String(defaults.clients), '--threads', String(defaults.threads),
    '-P', '1', '-n', String(requests), ...(keyspace ? ['-r', String(keyspace)] : []), '--csv', ...command];
  const r = spawnSync('redis-benchmark', args, { encoding: 'utf8' });
  // The test name is the command, quotes unescaped: read the figures from the end.
  const m = /"([\d.]+)","([\d.]+)","([\d.]+)","([\d.]+)","([\d.]+)","([\d.]+)","([\d.]+)"\s*$/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) throw new Error(`redis-benchmark failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { tps: Number(m[1]), p50Ms: Number(m[4]), p99Ms: Number(m[6]) };
}

/**
 * redis-benchmark counts requests, not seconds: the first run of a command
 * (a short probe) sizes the later ones to BENCH_SECONDS.
 */
const lastTps = new Map();
function redisCase(port, command, keyspace, sizeKey) {
  if (!lastTps.has(sizeKey)) lastTps.set(sizeKey, redisBench(port, command, { requests: 3_000, keyspace }).tps);
  const r = redisBench(port, command, { requests: Math.max(3_000, Math.round(lastTps.get(sizeKey) * seconds)), keyspace });
  lastTps.set(sizeKey, r.tps);
  return r;
}

async function prepareRedis(port) {
  const c = await connect(port);
  try {
    const fixedWindow = await c.send(['SCRIPT', 'LOAD', fixedWindowLua]);
    const gcra = await c.send(['SCRIPT', 'LOAD', gcraLua]);
    // the keys GET reads: cache:000000000000 .. as redis-benchmark writes __rand_int__
    const writes = [];
    for (let n = 0; n < cacheKeys; n++) writes.push(c.send(['SET', `cache:${String(n).padStart(12, '0')}`, cacheValue, 'EX', 3600]));
    await Promise.all(writes);
    return { fixedWindow, gcra };
  } finally {
    c.close();
  }
}

const redisCases = (sha) => ({
  baseline: ['PING'],
  gcra: ['EVALSHA', sha.gcra, '1', 'rl:gcra:__rand_int__', String(rule.limit), String(rule.windowMs), '1'],
  fixedWindow: ['EVALSHA', sha.fixedWindow, '1', 'rl:fw:__rand_int__', String(rule.limit), String(rule.windowMs), '1'],
  cacheSet: ['SET', 'cache:__rand_int__', cacheValue, 'EX', '3600'],
  cacheGet: ['GET', 'cache:__rand_int__'],
});
const keyspaceOf = { baseline: 0, gcra: limiterKeys, fixedWindow: limiterKeys, cacheSet: cacheKeys, cacheGet: cacheKeys };

// ---------------------------------------------------------------------------
// End to end: the rate-limit function, check_rate_limit vs Redis
// ---------------------------------------------------------------------------

// The gateway (PostgREST's stand-in) in its own process, without functions:
// the bench starts the two function processes itself.
async function startGateway(dbUrl) {
  const port = await freePort(55400);
  const child = spawn(process.execPath, [path.join(repoRoot, 'local-stack/gateway/main.mjs'), '--db-url', dbUrl, '--port', String(port), '--no-functions'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/__local/status`, child, () => `gateway did not start:\n${err}`);
  return { url, child };
}

async function waitFor(url, child, message) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(message());
    try {
      await fetch(url);
      return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(message());
}

/**
 * A Deno process serving `entrypoint` with rate-limit's import map, flags and
 * environment as the local functions runtime starts it (functions-runtime.mjs).
 */
async function startFunction(entrypoint, env) {
  const { importMap } = functionConfig(repoRoot, readFileSync(path.join(repoRoot, 'supabase/config.toml'), 'utf8'), 'rate-limit');
  const port = await ephemeralPort();
  const child = spawn(denoBin(repoRoot), [
    'run', '--quiet', '--no-lock', '--allow-net', '--allow-env', '--allow-read', '--allow-sys',
    '--node-modules-dir=manual', '--config', importMap, entrypoint,
  ], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DENO_DIR: process.env.DENO_DIR ?? path.join(repoRoot, '.local-stack/deno'),
      DENO_NO_UPDATE_CHECK: '1',
      NO_COLOR: '1',
      ...localFunctionDefaults,
      ...env,
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
    },
  });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url, child, () => `${path.relative(repoRoot, entrypoint)} did not start:\n${err}`);
  return { url, child };
}

async function stopChild(child) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function cannon(url, requests) {
  return new Promise((resolve, reject) => {
    autocannon({ url, requests, connections, duration: seconds, pipelining: 1 }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}


// ---------------------------------------------------------------------------
// Exactness: 40 parallel calls on one key with a limit of 10
// ---------------------------------------------------------------------------
const parallel = 40;
const exactLimit = 10;

async function pgExactness(url, user) {
  const clients = await Promise.all(Array.from({ length: parallel }, async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`select set_config('request.jwt.claims', '{"role":"service_role"}', false); set role service_role`);
    return c;
  }));
  try {
    const answers = await Promise.all(clients.map((c) =>
      c.query(`select (public.check_rate_limit('bench_exact', 1, $1)) ->> 'allowed' as allowed`, [benchUserId(user)])));
    return answers.filter((a) => a.rows[0].allowed === 'true').length;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** A check made in a transaction that rolls back: what is left of the quota afterwards. */
async function pgRollback(url, user) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`select set_config('request.jwt.claims', '{"role":"service_role"}', false); set role service_role`);
    await c.query('begin');
    const inside = await c.query(`select (public.check_rate_limit('bench_exact', 3, $1)) ->> 'remaining' as r`, [benchUserId(user)]);
    await c.query('rollback');
    const after = await c.query(`select (public.get_rate_limit_status('bench_exact', 1, $1)) ->> 'remaining' as r`, [benchUserId(user)]);
    return { inside: Number(inside.rows[0].r), after: Number(after.rows[0].r) };
  } finally {
    await c.end();
  }
}

async function redisExactness(port, sha, key) {
  const clients = await Promise.all(Array.from({ length: parallel }, () => connect(port)));
  try {
    const answers = await Promise.all(clients.map((c) => c.send(['EVALSHA', sha, '1', key, String(exactLimit), '3600000', '1'])));
    return answers.filter((a) => a[0] === 1).length;
  } finally {
    for (const c of clients) c.close();
  }
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN;
};
// figures[key] = one result a round: {tps, p50Ms, p99Ms, vsBase?, vsPg?}
const figures = {};
const record = (key, r) => { (figures[key] ??= []).push(r); };
/** The median over the rounds of each figure (ratios: of the per-round ratios). */
const summary = (rs) => rs && Object.fromEntries(['tps', 'p50Ms', 'p99Ms', 'vsBase', 'vsPg'].map((k) => [k, median(rs.map((r) => r[k]))]));

ensureRedis();
let db;
let gateway;
let redis;
const fns = [];
try {
  db = await migratedDatabase({ durable: true });
  const { url } = db;
  const ctx = makeContext(url);
  log('setup: usage suite (bench users, plans), cache keys, a rule for the exactness check ...');
  await usage.setup(ctx);
  // platform.setup also loads the queue and event streams; only its cache keys are needed here
  ctx.sql(`select public.set_cache('bench:' || n, jsonb_build_object('id', n, 'title', 'video ' || n, 'duration', 600), 3600)
             from generate_series(1, ${cacheKeys}) as n`);
  ctx.sql(`insert into public.plan_rate_limits (plan_name, endpoint, window_seconds, max_requests)
           select plan_name, 'bench_exact', 3600, ${exactLimit} from public.plans
           on conflict do nothing`);
  ctx.sql('vacuum analyze');

  // One redis-server per persistence mode, all up for the whole run, so that
  // each Postgres case and its Redis counterparts run back to back.
  const servers = [];
  redis = { stop: () => Promise.all(servers.map((s) => s.server.stop())) };
  for (const mode of modes) {
    const server = await startRedis(mode);
    servers.push({ mode, server });
    servers.at(-1).sha = await prepareRedis(server.port);
  }
  // The pairs, in order: each Postgres case, then the same work on each server
  // (GET does not write, so persistence does not change it: measured once).
  const pairs = [['baseline', ['baseline']], ['rateLimit', ['gcra', 'fixedWindow']], ['cacheGet', ['cacheGet']], ['cacheSet', ['cacheSet']]];
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round}/${rounds} ...`);
    for (const [pgKey, redisKeys] of pairs) {
      const pgResult = pgbench(url, pgCases[pgKey]);
      record(`pg:${pgKey}`, pgResult);
      for (const { mode, server, sha } of servers) {
        for (const key of redisKeys) {
          if (key === 'cacheGet' && mode !== modes[0]) continue;
          const r = redisCase(server.port, redisCases(sha)[key], keyspaceOf[key], `${mode}:${key}`);
          record(`redis-${mode}:${key}`, { ...r, vsPg: r.tps / pgResult.tps });
        }
      }
    }
  }
  // ratios to the baseline of the same round
  for (const [key, rs] of Object.entries(figures)) {
    const base = figures[key.startsWith('pg:') ? 'pg:baseline' : `${key.split(':')[0]}:baseline`];
    rs.forEach((r, i) => { r.vsBase = r.tps / base[i].tps; });
  }
  const exactness = {};
  for (const { mode, server, sha } of servers) {
    exactness[`Redis GCRA (Lua), persistence ${mode}`] = await redisExactness(server.port, sha.gcra, 'exact:gcra');
    exactness[`Redis fixed window (Lua), persistence ${mode}`] = await redisExactness(server.port, sha.fixedWindow, 'exact:fw');
  }
  exactness['Postgres check_rate_limit'] = await pgExactness(url, 2);
  const rollback = await pgRollback(url, 4);

  // End to end: both function processes up together, then measured in turn.
  log('end to end: the rate-limit function, check_rate_limit vs Redis ...');
  gateway = await startGateway(url);
  const e2eRedis = servers.find((x) => x.mode === modes[0]).server;
  const fnEnv = supabaseFunctionEnv({ url: gateway.url, keys: local, dbUrl: url });
  const rpcFn = await startFunction(path.join(repoRoot, 'supabase/functions/rate-limit/index.ts'), fnEnv);
  fns.push(rpcFn);
  const redisFn = await startFunction(path.join(repoRoot, 'benchmarks/redis/rate-limit-redis.ts'), {
    ...fnEnv,
    BENCH_REDIS_PORT: String(e2eRedis.port),
    BENCH_REDIS_LIMIT: String(rule.limit),
    BENCH_REDIS_WINDOW_SECONDS: String(rule.windowMs / 1000),
  });
  fns.push(redisFn);
  const tokens = await Promise.all(Array.from({ length: e2eUsers }, (_, i) => benchUserToken(i + 1)));
  const requests = tokens.map((t) => ({
    method: 'POST',
    path: '/',
    headers: { apikey: local.publishableKey, authorization: `Bearer ${t}`, 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: e2eEndpoint }),
  }));
  const e2e = { rpc: [], redis: [] };
  for (let round = 1; round <= rounds; round++) {
    log(`end to end, round ${round}/${rounds} ...`);
    for (const [side, fn] of [['rpc', rpcFn], ['redis', redisFn]]) {
      const r = await cannon(fn.url, requests);
      e2e[side].push({ tps: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
    }
    e2e.redis[round - 1].vsPg = e2e.redis[round - 1].tps / e2e.rpc[round - 1].tps;
  }

  // -------------------------------------------------------------------------
  // The table
  // -------------------------------------------------------------------------
  const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '');
  const lat = (r) => `${fmt(r.p50Ms, 2)} / ${fmt(r.p99Ms, 2)}`;
  const rows = [['case', 'side', 'tps', 'ratio to own baseline', 'Redis ÷ Postgres', 'p50 / p99 ms']];
  const pgSide = {
    baseline: 'Postgres: select 1',
    rateLimit: 'Postgres: check_rate_limit (server-side, service role for a user)',
    cacheGet: 'Postgres: get_cache (hit)',
    cacheSet: 'Postgres: set_cache (overwrite, TTL)',
  };
  const redisSide = {
    baseline: 'PING',
    gcra: 'GCRA in Lua (EVALSHA)',
    fixedWindow: 'fixed window in Lua (EVALSHA)',
    cacheGet: 'GET',
    cacheSet: 'SET … EX',
  };
  const modeName = { none: 'no persistence', everysec: 'AOF everysec', always: 'AOF always' };
  const ratio = (x) => fmt(x, x < 0.1 ? 3 : 2);
  const addRow = (label, side, r) => rows.push([label, side, fmt(r.tps), ratio(r.vsBase), ratio(r.vsPg), lat(r)]);
  for (const [pgKey, redisKeys] of pairs) {
    const label = { baseline: 'baseline', rateLimit: 'rate limit', cacheGet: 'cache read', cacheSet: 'cache write' }[pgKey];
    addRow(label, pgSide[pgKey], summary(figures[`pg:${pgKey}`]));
    for (const mode of modes) {
      for (const key of redisKeys) {
        const r = summary(figures[`redis-${mode}:${key}`]);
        if (r) addRow(label, `Redis (${modeName[mode]}): ${redisSide[key]}`, r);
      }
    }
  }
  // end to end: ratios to the baselines' medians (HTTP rounds are not paired with them)
  const bad = (side) => e2e[side].reduce((n, r) => n + r.non2xx + r.errors, 0);
  const fnRpc = summary(e2e.rpc);
  const fnRedis = summary(e2e.redis);
  fnRpc.vsBase = fnRpc.tps / summary(figures['pg:baseline']).tps;
  fnRedis.vsBase = fnRedis.tps / summary(figures[`redis-${modes[0]}:baseline`]).tps;
  addRow('end to end (HTTP)', `Postgres: rate-limit function → check_rate_limit${bad('rpc') ? ` (${bad('rpc')} non-2xx/errors)` : ''}`, fnRpc);
  addRow('end to end (HTTP)', `Redis (${modeName[modes[0]]}): the same function → GCRA in Lua${bad('redis') ? ` (${bad('redis')} non-2xx/errors)` : ''}`, fnRedis);

  const serverVersion = ctx.sql('show server_version').split('\n').map((l) => l.trim()).find((l) => /^\d+(\.\d+)*\b/.test(l)) ?? 'unknown';
  process.stdout.write(`\nPostgreSQL ${serverVersion} (durable cluster, fsync on), Redis ${redisVersion()}; ` +
    `${defaults.clients} clients on ${defaults.threads} threads for both (pgbench -M prepared; redis-benchmark -P 1), ` +
    `autocannon ${connections} connections; ${seconds} s per case, ${rounds} round(s): medians\n\n`);
  process.stdout.write(`${markdownTable(rows)}\n\n`);
  process.stdout.write(`Exactness: ${parallel} parallel calls on one key, limit ${exactLimit} an hour\n\n`);
  process.stdout.write(`${markdownTable([['limiter', 'allowed', 'exact'],
    ...Object.entries(exactness).map(([k, n]) => [k, String(n), n === exactLimit ? 'yes' : 'NO'])])}\n\n`);
  process.stdout.write(`Rollback: check_rate_limit of cost 3 inside a transaction left ${rollback.inside} of ${exactLimit}; ` +
    `after rollback ${rollback.after} of ${exactLimit} remain${rollback.after === exactLimit ? ' (nothing consumed)' : ' (CONSUMED)'}\n`);
} finally {
  for (const fn of fns) await stopChild(fn.child);
  await stopChild(gateway?.child);
  await redis?.stop();
  db?.destroy();
}
