// What record_usage costs above its function floor, part by part: the
// current body against the floor (the usage suite's bench_floor.record_usage:
// the same reads and writes in one statement), and against itself without its
// input checks, and without the idempotency key's ON CONFLICT (a speculative
// insertion even when no key is given). Each variant is the body at
// AB_BEFORE (default HEAD) with that part cut out, in schema bench_var.
//   node benchmarks/ab.mjs benchmarks/ab/usage-record-usage-parts.mjs
import { benchUserUuidOf, oldDefinition, serviceSession } from '../harness.mjs';

const ref = process.env.AB_BEFORE ?? 'HEAD';
const file = 'supabase/migrations/20261122030000_usage.sql';
const body = (name) => oldDefinition(ref, file, 'public.record_usage', { 'public.record_usage(': `bench_var.${name}(` });
const cut = (text, from, to) => {
  const a = text.indexOf(from);
  const b = text.indexOf(to, a);
  if (a < 0 || b < 0) throw new Error(`cannot cut ${from} .. ${to}`);
  return text.slice(0, a) + text.slice(b);
};
const noChecks = cut(body('record_usage_no_checks'), '  -- Validate everything before writing anything.', '  select m.* into v_model');
const noConflict = body('record_usage_no_conflict')
  .replace('    on conflict (user_id, idempotency_key) where idempotency_key is not null do nothing\n', '');

export const suites = ['usage'];
export const setup = `
create schema if not exists bench_var;
grant usage on schema bench_var to service_role;
${noChecks};
${noConflict};
grant execute on all functions in schema bench_var to service_role;
`;

const users = 10_000;
const args = `'gpt-4o-mini', 1200, 300, 200, 0, null, 'chat_model_agent', 850`;
const call = (fn, a = args) => ({
  script: `\\set u random(1, ${users})\nselect ${fn}(${benchUserUuidOf('u')}${a ? `, ${a}` : ''});\n`,
  session: serviceSession,
});

export const cases = [
  { name: 'record_usage', ...call('public.record_usage') },
  { name: 'function floor (same reads and writes, one statement)', ...call('bench_floor.record_usage', '') },
  { name: 'record_usage without its input checks', ...call('bench_var.record_usage_no_checks') },
  { name: 'record_usage', ...call('public.record_usage') },
  { name: 'record_usage without ON CONFLICT (no speculative insertion)', ...call('bench_var.record_usage_no_conflict') },
  { name: 'record_usage', ...call('public.record_usage') },
];
