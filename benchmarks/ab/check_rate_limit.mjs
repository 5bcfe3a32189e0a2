// A/B: private.check_rate_limit as it stood before the result was built in one
// place (issue 15, item 3) against the current body, through the public
// wrappers, as the usage suite's server-side case calls it.
//   node benchmarks/ab.mjs benchmarks/ab/check_rate_limit.mjs
import { benchUserUuidOf, oldDefinitionsSetup, serviceSession } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '277e725';
const file = 'supabase/migrations/20261122030000_usage.sql';
const rename = { 'private.check_rate_limit(': 'bench_old.check_rate_limit(', 'public.check_rate_limit(': 'bench_old.check_rate_limit(',
  'public.get_rate_limit_status(': 'bench_old.get_rate_limit_status(' };

export const suites = ['usage'];
export const setup = oldDefinitionsSetup(before, file,
  ['private.check_rate_limit', 'public.check_rate_limit', 'public.get_rate_limit_status'], rename);

// 10,000 users (not the suite's 2,000): several rounds of both sides must stay
// under basic's 100 a minute, so that every call takes the fast path.
const users = 10_000;
const call = (fn) => ({
  script: `\\set u random(1, ${users})\nselect ${fn}('api_general', 1, ${benchUserUuidOf('u')});\n`,
  session: serviceSession,
});

export const cases = [
  { name: 'new check_rate_limit (server-side, consumes)', ...call('public.check_rate_limit') },
  { name: 'old check_rate_limit (server-side, consumes)', ...call('bench_old.check_rate_limit') },
  { name: 'new get_rate_limit_status (server-side, peek)', ...call('public.get_rate_limit_status') },
  { name: 'old get_rate_limit_status (server-side, peek)', ...call('bench_old.get_rate_limit_status') },
];
