#!/usr/bin/env node
// npm run bench:http — HTTP figures for the edge functions, with autocannon
// against the local API gateway and functions runtime (real Deno), on a
// durable throwaway database (or SUPABASE_DB_URL):
//
//   health            GET /functions/v1/health: requests/s, p50, p99
//   rpc health_check  the same RPC straight through the gateway (no function)
//   rate-limit        POST /functions/v1/rate-limit as signed-in users, as a
//                     ratio of the direct SQL check_rate_limit (pgbench, the
//                     way PostgREST runs a request) measured in the same run
//
// BENCH_SECONDS (10), BENCH_CONNECTIONS (8), BENCH_USERS (200) tune the run.
// All processes share the machine (Postgres, the gateway, Deno, the load
// generator), so read ratios, not absolute numbers.
import { spawn } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort, local, log, psql, repoRoot } from '../local-stack/lib.mjs';
import { migratedDatabase } from '../local-stack/throwaway.mjs';
import { asRequest, benchUserToken, defaults, makeContext, markdownTable, pgbench, selectOne } from './harness.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const users = Number(process.env.BENCH_USERS ?? 200);

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections, duration: seconds, pipelining: 1, ...opts }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

async function startGateway(dbUrl) {
  const port = await freePort(55400);
  const child = spawn(process.execPath, [path.join(repoRoot, 'local-stack/gateway/main.mjs'), '--db-url', dbUrl, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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


function row(name, r, base) {
  const rps = r.requests.average;
  const non2xx = r.non2xx ? ` (${r.non2xx} non-2xx)` : '';
  return [name, rps.toFixed(0), base ? (rps / base).toFixed(2) : '', `${r.latency.p50} / ${r.latency.p99}`, `${r.errors}${non2xx}`];
}

let db;
let gw;
try {
  db = await migratedDatabase({ durable: true });
  const { url } = db;
  const ctx = makeContext(url);
  ctx.createBenchUsers(users);
  ctx.sql('vacuum analyze');
  const hasRateLimit =
    psql(url, ['-tAc', `select exists (select 1 from pg_catalog.pg_proc where proname = 'check_rate_limit' and pronamespace = 'public'::regnamespace)`], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout.trim() === 't';

  gw = await startGateway(url);
  log(`gateway ${gw.url}; ${connections} connections, ${seconds}s per case`);
  const rows = [['case', 'req/s', 'ratio', 'latency p50 / p99 ms', 'errors']];

  log('select 1 (pgbench) ...');
  const select1 = pgbench(url, selectOne);
  rows.push(['select 1 (pgbench, reference)', select1.tps.toFixed(0), '', '', '']);

  log('health ...');
  const health = await cannon({ url: `${gw.url}/functions/v1/health`, headers: { apikey: local.publishableKey } });
  rows.push(row('GET /functions/v1/health', health));

  log('rpc health_check ...');
  const rpc = await cannon({ url: `${gw.url}/rest/v1/rpc/health_check`, method: 'POST', body: '{}',
    headers: { apikey: local.secretKey, 'content-type': 'application/json' } });
  rows.push(row('POST /rest/v1/rpc/health_check', rpc));

  if (hasRateLimit) {
    log('check_rate_limit (pgbench, direct SQL) ...');
    const sql = pgbench(url, { script: asRequest(`select * from public.check_rate_limit('chat', 1);`, { users }) });
    rows.push(['check_rate_limit (SQL, pgbench as PostgREST runs it)', sql.tps.toFixed(0), '1.00', '', '']);
    const tokens = await Promise.all(Array.from({ length: users }, (_, i) => benchUserToken(i + 1)));
    const requests = tokens.map((t) => ({
      method: 'POST',
      path: '/functions/v1/rate-limit',
      headers: { apikey: local.publishableKey, authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'chat' }),
    }));
    log('rate-limit function ...');
    const fn = await cannon({ url: gw.url, requests });
    rows.push(row('POST /functions/v1/rate-limit (429s count)', fn, sql.tps));
  } else {
    rows.push(['rate-limit', 'skipped: public.check_rate_limit is not in this database', '', '', '']);
  }

  process.stdout.write(`\n${markdownTable(rows)}\n`);
  process.stdout.write(`\npgbench: ${defaults.clients} clients; autocannon: ${connections} connections; ${seconds}s each\n`);
} finally {
  if (gw) {
    gw.child.kill('SIGTERM');
    await new Promise((r) => gw.child.once('exit', r));
  }
  db?.destroy();
}
