// A/B: check_rate_limit, get_rate_limit_status and consume_quota with the
// fast path reading the trigger-kept single-window rule table in the same
// statement as the state row (private.plan_single_window_rules; consume_quota
// runs that statement itself) against the bodies before it (the rule read
// from plan_rate_limits by a statement of its own, then an insert … on
// conflict; consume_quota through check_rate_limit's answer).
//   node benchmarks/ab.mjs benchmarks/ab/usage-fast-path.mjs
import { asRequest, benchUserUuidOf, oldDefinitionsSetup, serviceSession } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '53ee963';
const file = 'supabase/migrations/20261122030000_usage.sql';
const rename = {
  'private.check_rate_limit(': 'bench_old.check_rate_limit(',
  'public.check_rate_limit(': 'bench_old.check_rate_limit(',
  'public.get_rate_limit_status(': 'bench_old.get_rate_limit_status(',
  'private.consume_quota(': 'bench_old.consume_quota(',
};

export const suites = ['usage'];
export const setup = oldDefinitionsSetup(before, file,
  ['private.check_rate_limit', 'public.check_rate_limit', 'public.get_rate_limit_status', 'private.consume_quota'], rename);

// The usage suite's 10,000 users, each with its api_general and telemetry
// windows already there: every call takes the fast path.
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
  { name: 'new consume_quota (as a user, telemetry)', script: asRequest(`select private.consume_quota('telemetry');`, { users }) },
  { name: 'old consume_quota (as a user, telemetry)', script: asRequest(`select bench_old.consume_quota('telemetry');`, { users }) },
];
