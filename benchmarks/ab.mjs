#!/usr/bin/env node
// node benchmarks/ab.mjs <spec.mjs> [<spec.mjs> ...]
//
// A same-run A/B: one throwaway durable cluster (as npm run bench), the data of
// the spec's suites, the spec's setup SQL (typically the old body of a
// function under another name, in a scratch schema), then `select 1` and each
// case run interleaved for several rounds, the order reversed every other
// round, so that both sides see the same machine load. Prints every round's
// tps and the medians, each case's median as a ratio to `select 1`, and for
// each pair of cases the first's median over the second's; then each pair
// mixed in one pgbench run per round (same load by construction), compared
// by average latency.
//
// A spec is a module exporting
//   suites: string[]          suites (benchmarks/suites) whose setup loads the data
//   setup?: string            SQL run (as postgres) after the suites' setup
//   cases: Array<case>        harness cases (script, session, clients...) in
//                             pairs compared with each other: [new, old, new, old, ...]
//   rounds?: number           AB_ROUNDS, else 3
//   seconds?: number          AB_SECONDS, else BENCH_SECONDS, else 10
// oldDefinition() (harness.mjs) pulls a function's definition out of a commit, so a
// spec can name the old body instead of copying it.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { log } from '../local-stack/lib.mjs';
import { createThrowawayDatabase } from '../local-stack/throwaway.mjs';
import { makeContext, markdownTable, pgbench, selectOne } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function runSpec(file) {
  const spec = await import(pathToFileURL(path.resolve(file)).href);
  const rounds = Number(process.env.AB_ROUNDS ?? spec.rounds ?? 3);
  const seconds = Number(process.env.AB_SECONDS ?? spec.seconds ?? process.env.BENCH_SECONDS ?? 10);
  const db = await createThrowawayDatabase({ durable: true });
  try {
    db.push();
    const ctx = makeContext(db.url);
    for (const name of spec.suites ?? []) {
      const suite = await import(pathToFileURL(path.join(here, 'suites', `${name}.mjs`)).href);
      log(`setup ${name} ...`);
      await suite.setup(ctx);
    }
    if (spec.setup) ctx.sql(spec.setup);
    ctx.sql('vacuum analyze');

    const cases = [{ ...selectOne }, ...spec.cases].map((c) => ({ ...c, seconds, tps: [] }));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...cases].reverse() : cases;
      for (const c of order) {
        log(`round ${r + 1}/${rounds}: ${c.name} ...`);
        c.tps.push(pgbench(db.url, c).tps);
      }
    }
    const base = median(cases[0].tps);
    const rows = [['case', ...cases[0].tps.map((_, i) => `round ${i + 1} tps`), 'median tps', 'ratio to select 1']];
    for (const c of cases) {
      rows.push([c.name, ...c.tps.map((t) => t.toFixed(0)), median(c.tps).toFixed(0), (median(c.tps) / base).toFixed(3)]);
    }
    const out = [`\n${path.basename(file)}: ${rounds} rounds x ${seconds}s, order reversed every other round\n`];
    out.push(markdownTable(rows));
    for (let i = 1; i + 1 < cases.length; i += 2) {
      const [a, b] = [cases[i], cases[i + 1]];
      const perRound = a.tps.map((t, k) => t / b.tps[k]);
      out.push(`\n${a.name} / ${b.name}: median tps ratio ${(median(a.tps) / median(b.tps)).toFixed(3)}` +
        ` (per round ${perRound.map((x) => x.toFixed(3)).join(', ')})`);
    }
    // Each pair also mixed in one run per round (every transaction picks one
    // of the two at random): the same load for both by construction. Speed
    // ratio = the second's average latency over the first's.
    for (let i = 1; i + 1 < cases.length; i += 2) {
      const [a, b] = [cases[i], cases[i + 1]];
      const ratios = [];
      for (let r = 0; r < rounds; r++) {
        log(`mixed ${r + 1}/${rounds}: ${a.name} + ${b.name} ...`);
        const m = pgbench(db.url, { ...a, script: r % 2 ? [b.script, a.script] : [a.script, b.script] });
        const [la, lb] = r % 2 ? [m.perScript[1].latencyAvgMs, m.perScript[0].latencyAvgMs] : [m.perScript[0].latencyAvgMs, m.perScript[1].latencyAvgMs];
        ratios.push(lb / la);
      }
      out.push(`\nmixed in one run, ${a.name} vs ${b.name}: median speed ratio (latency of the second / of the first) ` +
        `${median(ratios).toFixed(3)} (per round ${ratios.map((x) => x.toFixed(3)).join(', ')})`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    db.destroy();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (!files.length) {
    log('usage: node benchmarks/ab.mjs <spec.mjs> ...');
    process.exit(2);
  }
  for (const f of files) await runSpec(f);
}
