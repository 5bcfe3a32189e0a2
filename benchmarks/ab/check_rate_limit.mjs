// A/B: private.check_rate_limit as it stood before the result was built in one
// place (issue 15, item 3) against the current body, through the public
// wrappers, as the usage suite's server-side case calls it.
//   node benchmarks/ab.mjs benchmarks/ab/check_rate_limit.mjs
import { oldDefinition } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '277e725';
const file = 'supabase/migrations/20261122030000_usage.sql';
const rename = { 'private.check_rate_limit(': 'bench_old.check_rate_limit(', 'public.check_rate_limit(': 'bench_old.check_rate_limit(',
  'public.get_rate_limit_status(': 'bench_old.get_rate_limit_status(' };

export const suites = ['usage'];
export const setup = `
create schema if not exists bench_old;
grant usage on schema bench_old to authenticated, service_role;
${oldDefinition(before, file, 'private.check_rate_limit', rename)};
${oldDefinition(before, file, 'public.check_rate_limit', rename)};
${oldDefinition(before, file, 'public.get_rate_limit_status', rename)};
grant execute on all functions in schema bench_old to authenticated, service_role;
`;

// 10,000 users (not the suite's 2,000): several rounds of both sides must stay
// under basic's 100 a minute, so that every call takes the fast path.
const users = 10_000;
const uuid = `('00000000-0000-4000-8000-' || lpad(to_hex(:u::int), 12, '0'))::uuid`;
const call = (fn) => ({
  script: `\\set u random(1, ${users})\nselect ${fn}('api_general', 1, ${uuid});\n`,
  session: { role: 'service_role' },
});

export const cases = [
  { name: 'new check_rate_limit (server-side, consumes)', ...call('public.check_rate_limit') },
  { name: 'old check_rate_limit (server-side, consumes)', ...call('bench_old.check_rate_limit') },
  { name: 'new get_rate_limit_status (server-side, peek)', ...call('public.get_rate_limit_status') },
  { name: 'old get_rate_limit_status (server-side, peek)', ...call('bench_old.get_rate_limit_status') },
];
