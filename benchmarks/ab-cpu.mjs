#!/usr/bin/env node
// node benchmarks/ab-cpu.mjs <spec.mjs> [<spec.mjs> ...]
//
// The A/B specs' cases (benchmarks/ab/*.mjs: suites, setup, cases in pairs
// [new, old, ...]) measured by server CPU per call rather than throughput:
// on a shared machine whose load swings several-fold within a minute, tps
// and even the mixed runs' latency (which includes waiting for a core) move
// with the neighbours, while the CPU a backend spends on a call barely does.
// One durable throwaway cluster with every spec's suites and setup (autovacuum
// off, so no worker's CPU lands in a case), then rounds of every case (order
// reversed every other round): pgbench as the harness runs it, and the CPU
// its backends used, read from the postmaster's reaped children's user and
// system time (/proc/<postmaster>/stat: cutime + cstime) once they have
// exited, divided by the transactions. Prints the median µs per call of each
// case, and for each pair the old's over the new's (> 1: the new is cheaper).
// AB_ROUNDS (5), AB_SECONDS (5).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dbUrl, log, psql } from '../local-stack/lib.mjs';
import { createThrowawayDatabase } from '../local-stack/throwaway.mjs';
import { makeContext, markdownTable, pgbench, selectOne } from './harness.mjs';

const rounds = Number(process.env.AB_ROUNDS ?? 5);
const seconds = Number(process.env.AB_SECONDS ?? 5);
const ticks = 100; // getconf CLK_TCK on Linux
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const specs = [];
for (const f of process.argv.slice(2)) specs.push({ file: f, ...(await import(pathToFileURL(path.resolve(f)).href)) });
if (!specs.length) {
  log('usage: node benchmarks/ab-cpu.mjs <spec.mjs> ...');
  process.exit(2);
}

const db = await createThrowawayDatabase({ durable: true });
try {
  db.push();
  const ctx = makeContext(db.url);
  const here = path.dirname(new URL(import.meta.url).pathname);
  for (const name of new Set(specs.flatMap((s) => s.suites ?? []))) {
    log(`setup ${name} ...`);
    await (await import(pathToFileURL(path.join(here, 'suites', `${name}.mjs`)).href)).setup(ctx);
  }
  for (const s of specs) if (s.setup) ctx.sql(s.setup);
  const admin = makeContext(`${dbUrl(db.port, { user: 'supabase_admin' })}?sslmode=disable`);
  admin.sql('alter system set autovacuum = off');
  admin.sql('select pg_reload_conf()');
  ctx.sql('vacuum analyze');

  const postmaster = Number(readFileSync(path.join(db.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const reapedCpu = () => {
    const fields = readFileSync(`/proc/${postmaster}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / ticks; // cutime, cstime (fields 16 and 17)
  };
  const backendsGone = () => {
    for (let i = 0; i < 100; i++) {
      const n = Number(psql(db.url, ['-XAtc', `select count(*) from pg_stat_activity where application_name = 'pgbench'`],
        { stdio: ['ignore', 'pipe', 'pipe'] }).stdout.trim());
      if (n === 0) return;
      spawnSleep(50);
    }
  };
  const spawnSleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

  const cases = [{ ...selectOne }, ...specs.flatMap((s) => s.cases)].map((c) => ({ ...c, seconds, us: [] }));
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 ? [...cases].reverse() : cases) {
      log(`round ${r + 1}/${rounds}: ${c.name} ...`);
      backendsGone();
      const before = reapedCpu();
      const res = pgbench(db.url, { ...c, latency: false });
      backendsGone();
      spawnSleep(100);
      c.us.push(((reapedCpu() - before) * 1e6) / res.transactions);
    }
  }
  const rows = [['case', ...cases[0].us.map((_, i) => `round ${i + 1} µs/call`), 'median µs/call']];
  for (const c of cases) rows.push([c.name, ...c.us.map((x) => x.toFixed(0)), median(c.us).toFixed(0)]);
  const out = [`\nserver CPU per call: ${rounds} rounds x ${seconds}s\n`, markdownTable(rows)];
  const named = cases.slice(1);
  for (let i = 0; i + 1 < named.length; i += 2) {
    const [a, b] = [named[i], named[i + 1]];
    const perRound = a.us.map((x, k) => b.us[k] / x);
    out.push(`\n${b.name} / ${a.name}: CPU ratio ${median(perRound).toFixed(3)} (per round ${perRound.map((x) => x.toFixed(3)).join(', ')})`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  db.destroy();
}
