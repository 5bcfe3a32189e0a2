// A/B: private.check_rate_limit with the exact GCRA arithmetic (the tat kept as
// whole microseconds plus a remainder in 1/limit of one, issue 18 item 1)
// against the body it replaced (interval steps rounded to the microsecond),
// through the public wrappers, as the usage suite's server-side case calls it.
//   node benchmarks/ab.mjs benchmarks/ab/check_rate_limit_exact.mjs
import { benchUserUuidOf, oldDefinitionsSetup, serviceSession } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '8d64c52';
const file = 'supabase/migrations/20261122030000_usage.sql';
const rename = { 'private.check_rate_limit(': 'bench_old.check_rate_limit(', 'public.check_rate_limit(': 'bench_old.check_rate_limit(',
  'public.get_rate_limit_status(': 'bench_old.get_rate_limit_status(' };

export const suites = ['usage'];
export const setup = oldDefinitionsSetup(before, file,
  ['private.check_rate_limit', 'public.check_rate_limit', 'public.get_rate_limit_status'], rename);

// 10,000 users: several rounds of both sides stay under basic's 100 a minute,
// so that every call takes the fast path.
const users = 10_000;
const call = (fn) => ({
  script: `\\set u random(1, ${users})\nselect ${fn}('api_general', 1, ${benchUserUuidOf('u')});\n`,
  session: serviceSession,
});

export const cases = [
  { name: 'exact check_rate_limit (server-side, consumes)', ...call('public.check_rate_limit') },
  { name: 'rounded check_rate_limit (server-side, consumes)', ...call('bench_old.check_rate_limit') },
  { name: 'exact get_rate_limit_status (server-side, peek)', ...call('public.get_rate_limit_status') },
  { name: 'rounded get_rate_limit_status (server-side, peek)', ...call('bench_old.get_rate_limit_status') },
];
