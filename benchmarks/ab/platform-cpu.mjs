#!/usr/bin/env node
// node benchmarks/ab/platform-cpu.mjs <spec.mjs> [<spec.mjs> ...]
//
// Server CPU per call for the cases of A/B specs (benchmarks/ab/*.mjs, the
// format benchmarks/ab.mjs reads), for when the machine is too loaded for
// throughput ratios to mean much: CPU time a backend spends does not grow
// with the queue for the cores, wall time does. Each case runs as pgbench
// with one client (prepared statements, its session as in the spec), the
// rounds interleaved as in ab.mjs; the CPU is what the case's backend used
// (read from the postmaster once the backend has exited; an autovacuum
// worker ending meanwhile counts too), divided by the transactions. The WAL
// writer's and other background processes' work is not in it. Clock ticks are 10 ms, so a round of a few seconds measures
// to well under 1%. Waits (the WAL flush of a durable commit) cost no CPU and
// do not show here: this compares the work, the A/B's throughput the whole.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { log } from '../../local-stack/lib.mjs';
import { createThrowawayDatabase } from '../../local-stack/throwaway.mjs';
import { makeContext, markdownTable, pgbench, selectOne } from '../harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ticksPerSecond = 100;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const cpuOf = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return { own: (Number(f[11]) + Number(f[12])) / ticksPerSecond, children: (Number(f[13]) + Number(f[14])) / ticksPerSecond };
  } catch {
    return { own: 0, children: 0 }; // exited and reaped between the listing and the read
  }
};

const childrenOf = (pid) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The CPU seconds of a pgbench run's backend (and any autovacuum worker that
 * ended meanwhile): what the postmaster collects from its children once they
 * have exited and been reaped, read after every child started during the run
 * is gone (at most 5 s).
 */
async function exitedChildrenCpu(postmaster, run) {
  const resident = new Set(childrenOf(postmaster));
  const before = cpuOf(postmaster).children;
  const result = run();
  for (let i = 0; i < 50 && childrenOf(postmaster).some((pid) => !resident.has(pid)); i++) await sleep(100);
  return { result, cpu: cpuOf(postmaster).children - before };
}

async function runSpec(file) {
  const spec = await import(pathToFileURL(path.resolve(file)).href);
  const rounds = Number(process.env.AB_ROUNDS ?? spec.rounds ?? 3);
  const seconds = Number(process.env.AB_SECONDS ?? spec.seconds ?? process.env.BENCH_SECONDS ?? 10);
  const db = await createThrowawayDatabase({ durable: true });
  try {
    db.push();
    const ctx = makeContext(db.url);
    for (const name of spec.suites ?? []) {
      const suite = await import(pathToFileURL(path.join(here, '..', 'suites', `${name}.mjs`)).href);
      log(`setup ${name} ...`);
      await suite.setup(ctx);
    }
    if (spec.setup) ctx.sql(spec.setup);
    ctx.sql('vacuum analyze');
    const postmaster = Number(readFileSync(path.join(db.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

    const cases = [{ ...selectOne }, ...spec.cases].map((c) => ({ ...c, clients: 1, threads: 1, seconds, latency: false, us: [] }));
    for (let r = 0; r < rounds; r++) {
      for (const c of r % 2 ? [...cases].reverse() : cases) {
        log(`round ${r + 1}/${rounds}: ${c.name} ...`);
        const { result, cpu } = await exitedChildrenCpu(postmaster, () => pgbench(db.url, c));
        c.us.push((cpu / result.transactions) * 1e6);
      }
    }
    const base = median(cases[0].us);
    const rows = [['case', ...cases[0].us.map((_, i) => `round ${i + 1} µs`), 'median µs CPU/call', 'ratio to select 1']];
    for (const c of cases) rows.push([c.name, ...c.us.map((x) => x.toFixed(1)), median(c.us).toFixed(1), (median(c.us) / base).toFixed(2)]);
    const out = [`\n${path.basename(file)}: server CPU per call, 1 client, ${rounds} rounds x ${seconds}s\n`, markdownTable(rows)];
    for (let i = 1; i + 1 < cases.length; i += 2) {
      const [a, b] = [cases[i], cases[i + 1]];
      out.push(`\n${a.name} / ${b.name}: CPU per call ratio ${(median(a.us) / median(b.us)).toFixed(3)}` +
        ` (per round ${a.us.map((x, k) => (x / b.us[k]).toFixed(3)).join(', ')})`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    db.destroy();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (!files.length) {
    log('usage: node benchmarks/ab/platform-cpu.mjs <spec.mjs> ...');
    process.exit(2);
  }
  for (const f of files) await runSpec(f);
}
