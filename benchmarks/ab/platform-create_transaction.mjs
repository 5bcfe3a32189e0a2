// A/B: private.create_transaction as it stood before a replay became a read
// that claims nothing (and before the valid path met one guard, and the
// service role stopped calling the quota and correlation checks that are
// no-ops for it), against the current body, as the integrations suite's
// server-side cases call it: a new key, and a replayed key; then the current
// body against the suite's function floors (the same rows in the same two
// layers). Throughput: node benchmarks/ab.mjs <this>; server CPU per call
// (for a loaded machine): node benchmarks/ab-cpu.mjs <this>.
//   node benchmarks/ab.mjs benchmarks/ab/platform-create_transaction.mjs
import { benchUserUuidOf, oldDefinitionsSetup } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '53ee963';
const file = 'supabase/migrations/20261122070000_payments.sql';
const rename = { 'private.create_transaction(': 'bench_old.create_transaction_writer(', 'public.create_transaction(': 'bench_old.create_transaction(' };

export const suites = ['integrations'];
export const setup = oldDefinitionsSetup(before, file, ['private.create_transaction', 'public.create_transaction'], rename);

const users = 10_000;
const session = { role: 'service_role', claims: { role: 'service_role' } };
const call = (fn, args) => ({
  session,
  script: `\\set u random(1, ${users})\nselect ${fn}(${benchUserUuidOf('u')}, ${args});\n`,
});
const newKey = `'credit', 10, 'USD', gen_random_uuid()::text`;
const replay = `'credit', 1, 'USD', 'bench-replay'`;

export const cases = [
  { name: 'new create_transaction (new key, server-side, service role)', ...call('public.create_transaction', newKey) },
  { name: 'old create_transaction (new key, server-side, service role)', ...call('bench_old.create_transaction', newKey) },
  { name: 'new create_transaction (replayed key, server-side, service role)', ...call('public.create_transaction', replay) },
  { name: 'old create_transaction (replayed key, server-side, service role)', ...call('bench_old.create_transaction', replay) },
  { name: 'create_transaction (replayed key)', ...call('public.create_transaction', replay) },
  { name: 'function floor (replayed key)', ...call('bench_floor.transaction_replay', `'bench-replay'`) },
  { name: 'create_transaction (new key)', ...call('public.create_transaction', newKey) },
  { name: 'function floor (new key)', ...call('bench_floor.create_transaction', newKey) },
];
