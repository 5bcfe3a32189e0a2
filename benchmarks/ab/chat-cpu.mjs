#!/usr/bin/env node
// CPU time per call of the chat write path, old against new, read from the
// server process itself: a figure that waiting does not inflate. On a shared,
// saturated machine pgbench's throughput and latency mostly measure the queue
// for the CPU (and, for 8 connections of one user, the queue for that user's
// quota row), which pulls every ratio towards 1; the user and system CPU time
// of the one backend that runs the calls does not.
//
// One throwaway durable cluster with the chat suite's data and the setups of
// the A/B specs benchmarks/ab/create_message.mjs (the old create_message in
// bench_old), chat-domains.mjs (the tables with CHECKs and with domains) and
// uuid_v7.mjs (the old uuid_v7); then, for several rounds in alternating
// order, each case runs N calls on one connection (prepared once, one
// transaction per call, asynchronous commit) and reports the backend's CPU
// microseconds per call (/proc/<pid>/stat, utime + stime) as the median over
// the rounds, and each pair's ratio.
//   node benchmarks/ab/chat-cpu.mjs            (AB_ROUNDS=5, CPU_CALLS=3000)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { log, pgBin, pgEnv } from '../../local-stack/lib.mjs';
import { createThrowawayDatabase } from '../../local-stack/throwaway.mjs';
import { benchUserId, makeContext, markdownTable } from '../harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.env.AB_ROUNDS ?? 5);
const calls = Number(process.env.CPU_CALLS ?? 3000);

const text = 'A new question from the benchmark.';
const parts = JSON.stringify([{ type: 'text', text }]);
const conversation = `('00000000-0000-4000-9000-' || lpad(to_hex($1), 12, '0'))::uuid`;
const user2 = { role: 'authenticated', claims: { role: 'authenticated', aud: 'authenticated', sub: benchUserId(2) } };
const insertInto = (schema) =>
  `insert into ${schema}.messages (conversation_id, role, content, parts) values (${conversation}, 'user', '${text}', '${parts}')`;

// Pairs [new, old] (or [call, its floor]); `statement` is prepared with one
// integer parameter, a random conversation k of user 2 (25,001..50,000).
const cases = [
  ['create_message: new body', `select public.create_message(${conversation}, '${text}', 'user')`, user2],
  ['create_message: old body (53ee963)', `select bench_old.create_message(${conversation}, '${text}', 'user')`, user2],
  ['create_message', `select public.create_message(${conversation}, '${text}', 'user')`, user2],
  ['function floor (bench_floor.insert_message)', `select bench_floor.insert_message(${conversation}, '${text}', 'user', '${parts}')`, user2],
  ['message insert + counter update, domains', insertInto('bench_domains'), user2],
  ['message insert + counter update, table CHECKs (53ee963)', insertInto('bench_checks'), user2],
  ['insert with uuid_v7() default, plpgsql', 'insert into bench.ids_new (n) values ($1)', null],
  ['insert with uuid_v7() default, sql (53ee963)', 'insert into bench.ids_old (n) values ($1)', null],
].map(([name, statement, session]) => ({ name, statement, session, us: [] }));

/** psql script: N prepared calls on one backend, its CPU ticks before and after. */
function script(c) {
  const ticks = `(select split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint
                   from pg_read_file('/proc/' || pg_backend_pid() || '/stat') as s)`;
  const lines = [
    '\\set ON_ERROR_STOP 1',
    `select ${ticks} as t0 \\gset`,
    'set synchronous_commit = off;',
    c.session ? `set role ${c.session.role};` : '',
    c.session ? `select set_config('request.jwt.claims', '${JSON.stringify(c.session.claims)}', false) \\g /dev/null` : '',
    `prepare p(int) as ${c.statement};`,
    '\\o /dev/null',
  ];
  for (let i = 0; i < calls; i++) lines.push(`execute p(${25001 + Math.floor(Math.random() * 25000)});`);
  lines.push('\\o', 'reset role;', `select ${ticks} - :t0 as ticks;`);
  return `${lines.join('\n')}\n`;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const db = await createThrowawayDatabase({ durable: true });
const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-cpu-'));
try {
  db.push();
  const ctx = makeContext(db.url);
  const chat = await import(pathToFileURL(path.join(here, '..', 'suites', 'chat.mjs')).href);
  log('setup chat ...');
  await chat.setup(ctx);
  for (const spec of ['create_message.mjs', 'chat-domains.mjs', 'uuid_v7.mjs']) {
    ctx.sql((await import(pathToFileURL(path.join(here, spec)).href)).setup);
  }
  ctx.sql('vacuum analyze');
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  // pg_read_file of /proc needs a superuser: the cluster's own admin role.
  const env = { ...process.env, ...pgEnv(db.url), PGUSER: 'supabase_admin' };
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 ? [...cases].reverse() : cases) {
      log(`round ${r + 1}/${rounds}: ${c.name} ...`);
      const file = path.join(dir, 'calls.sql');
      writeFileSync(file, script(c));
      const out = execFileSync(pgBin('psql'), ['-XAtq', '-f', file], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
      const ticks = Number(out.trim().split('\n').pop());
      c.us.push((ticks / hz / calls) * 1e6);
    }
  }
  const rows = [['case', ...cases[0].us.map((_, i) => `round ${i + 1} µs`), 'median µs/call']];
  for (const c of cases) rows.push([c.name, ...c.us.map((x) => x.toFixed(0)), median(c.us).toFixed(0)]);
  const out = [`\nbackend CPU per call: ${rounds} rounds x ${calls} calls, one connection, asynchronous commit\n`, markdownTable(rows)];
  for (let i = 0; i + 1 < cases.length; i += 2) {
    const [a, b] = [cases[i], cases[i + 1]];
    out.push(`\n${a.name} / ${b.name}: CPU ratio ${(median(a.us) / median(b.us)).toFixed(3)}` +
      ` (speed ${(median(b.us) / median(a.us)).toFixed(3)}x; per round ${a.us.map((x, k) => (b.us[k] / x).toFixed(3)).join(', ')})`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  db.destroy();
}
