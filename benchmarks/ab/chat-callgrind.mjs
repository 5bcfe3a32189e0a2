#!/usr/bin/env node
// Instructions per call of the chat write path, old against new, counted by
// valgrind's callgrind in a single-user backend: a figure no other load on the
// machine can move. On a shared, saturated machine pgbench's throughput and
// latency mostly measure the queue for the CPU (and, for 8 connections of one
// user, the queue for that user's quota row), which pulls every ratio
// towards 1 or away from it at random; the instructions a call executes do not
// change with the load.
//
// One throwaway cluster (PostgreSQL 15 on the host) with 2,000 conversations of
// bench user 2, the setups of the A/B specs create_message.mjs (the old
// create_message in bench_old), chat-domains.mjs (the tables with CHECKs and
// with domains) and uuid_v7.mjs (the old uuid_v7), and the chat suite's
// function floor; then the cluster is stopped and, for each case, a
// single-user backend (postgres --single) runs the call, prepared, as user 2,
// first 20 and then 120 times under callgrind. The difference over 100 calls
// is the steady-state cost of one call (start-up and first-call caches
// cancel out). Each call is its own transaction.
//   node benchmarks/ab/chat-callgrind.mjs
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { log, pgBin, stopCluster } from '../../local-stack/lib.mjs';
import { createThrowawayDatabase } from '../../local-stack/throwaway.mjs';
import { benchUserId, benchUserUuid, makeContext, markdownTable } from '../harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const text = 'A new question from the benchmark.';
const parts = JSON.stringify([{ type: 'text', text }]);
const conversation = `('00000000-0000-4000-9000-' || lpad(to_hex($1), 12, '0'))::uuid`;
const claims = JSON.stringify({ role: 'authenticated', aud: 'authenticated', sub: benchUserId(2) });
const insertInto = (schema) =>
  `insert into ${schema}.messages (conversation_id, role, content, parts) values (${conversation}, 'user', '${text}', '${parts}')`;

// Pairs: [new, old] or [call, its floor]. Each statement is prepared with one
// integer parameter, a conversation k of user 2 (25,001..27,000).
const cases = [
  ['create_message: current body', `select public.create_message(${conversation}, '${text}', 'user')`, true],
  ['create_message: body of 53ee963', `select bench_old.create_message(${conversation}, '${text}', 'user')`, true],
  ['create_message', `select public.create_message(${conversation}, '${text}', 'user')`, true],
  ['function floor (bench_floor.insert_message)', `select bench_floor.insert_message(${conversation}, '${text}', 'user', '${parts}')`, true],
  ['message insert + counter update, domains', insertInto('bench_domains'), true],
  ['message insert + counter update, table CHECKs of 53ee963', insertInto('bench_checks'), true],
  ['insert with a uuid_v7() default, plpgsql', 'insert into bench.ids_new (n) values ($1)', false],
  ['insert with a uuid_v7() default, sql (53ee963)', 'insert into bench.ids_old (n) values ($1)', false],
].map(([name, statement, asUser2]) => ({ name, statement, asUser2 }));

function input(c, calls) {
  const lines = ['set synchronous_commit = off;'];
  if (c.asUser2) lines.push('set role authenticated;', `select set_config('request.jwt.claims', '${claims}', false);`);
  lines.push(`prepare p(int) as ${c.statement};`);
  for (let i = 0; i < calls; i++) lines.push(`execute p(${25001 + Math.floor(Math.random() * 2000)});`);
  return `${lines.join('\n')}\n`;
}

const db = await createThrowawayDatabase({ durable: true });
const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-callgrind-'));
chmodSync(dir, 0o777);
try {
  db.push();
  const ctx = makeContext(db.url);
  ctx.createBenchUsers(2);
  ctx.sql(`insert into public.conversations (id, user_id, title, model_name)
    select ('00000000-0000-4000-9000-' || lpad(to_hex(k), 12, '0'))::uuid, ${benchUserUuid(2)}, 'Conversation ' || k, 'gpt-4o-mini'
      from generate_series(25001, 27000) as k`);
  for (const spec of ['create_message.mjs', 'chat-domains.mjs', 'uuid_v7.mjs']) {
    ctx.sql((await import(pathToFileURL(path.join(here, spec)).href)).setup);
  }
  // the chat suite's function floor alone (its setup's other statements load the big data set)
  const chat = await import(pathToFileURL(path.join(here, '..', 'suites', 'chat.mjs')).href);
  await chat.setup({ ...ctx, createBenchUsers() {}, sql: (t) => (t.includes('bench_floor') ? ctx.sql(t) : '') });
  ctx.sql('vacuum analyze');
  stopCluster(db.dataDir);

  const asServer = (command) => (process.getuid?.() === 0 ? ['su', ['postgres', '-c', command]] : ['sh', ['-c', command]]);
  const instructions = (c, calls) => {
    const tag = `${cases.indexOf(c)}-${calls}`;
    const sql = path.join(dir, `${tag}.sql`);
    const out = path.join(dir, `${tag}.callgrind`);
    writeFileSync(sql, input(c, calls));
    const [cmd, args] = asServer(`valgrind --tool=callgrind --callgrind-out-file=${out} ${pgBin('postgres')} --single -D ${db.dataDir} postgres < ${sql} > ${out}.log 2>&1`);
    execFileSync(cmd, args, { stdio: 'inherit' });
    if (/ERROR/.test(readFileSync(`${out}.log`, 'utf8'))) throw new Error(`${c.name}: an error in ${out}.log`);
    return Number(/^summary: (\d+)/m.exec(readFileSync(out, 'utf8'))[1]);
  };
  for (const c of cases) {
    log(`${c.name} ...`);
    c.perCall = (instructions(c, 120) - instructions(c, 20)) / 100;
  }
  const rows = [['case', 'instructions per call']];
  for (const c of cases) rows.push([c.name, c.perCall.toFixed(0)]);
  const out = ['\ncallgrind, single-user backend, one transaction per call (120 calls minus 20, over 100)\n', markdownTable(rows)];
  for (let i = 0; i + 1 < cases.length; i += 2) {
    const [a, b] = [cases[i], cases[i + 1]];
    out.push(`\n${a.name} vs ${b.name}: ${(a.perCall / b.perCall).toFixed(3)} of the instructions (speed ${(b.perCall / a.perCall).toFixed(3)}x)`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  db.destroy();
}
