// Admin: the per-request cost of a feature-flag check (is_feature_enabled as
// a signed-in user: flag lookup, strategy, exposure upsert that writes only a
// user's first evaluation of the day), and of an agent-endpoint rate-limit
// check (three windows from admin_config), as a ratio to `select 1`.
import { asRequest, benchUserId } from '../harness.mjs';

export const name = 'admin';

const users = 10_000;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  ctx.sql(`
    select public.upsert_feature_flag('bench.percentage', 'all', true, 'percentage', 30);
    select public.upsert_feature_flag('bench.everyone', 'production', true, 'all');
    select public.upsert_feature_flag('bench.condition', 'all', true, 'condition', 0, '{}',
      '[{"attribute": "country", "operator": "in", "values": ["RW", "KE"]}]');`);
  // steady state: every bench user has been exposed today (the first
  // evaluation of a day is the only one that writes)
  ctx.sql(`begin;
    select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true);
    select count(public.is_feature_enabled(f, ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'production'))
      from generate_series(1, ${users}) as n, unnest(array['bench.percentage', 'bench.everyone', 'bench.condition']) as f;
    commit;`);
}

const userUuid = `('00000000-0000-4000-8000-' || lpad(to_hex(:u::int), 12, '0'))::uuid`;

export const cases = [
  {
    // The function's own cost, one statement per transaction like `select 1`:
    // a signed-in user's check with role and claims set once per connection.
    name: 'is_feature_enabled, percentage (server-side call as a user)',
    script: `select public.is_feature_enabled('bench.percentage', null, 'production');\n`,
    session: { role: 'authenticated', claims: { role: 'authenticated', sub: benchUserId(7) } },
    target: 0.5,
  },
  {
    // The same for a random user of 10,000: the service role names the user.
    name: 'is_feature_enabled, percentage (server-side call, service role for a random user)',
    script: `\\set u random(1, ${users})\nselect public.is_feature_enabled('bench.percentage', ${userUuid}, 'production');\n`,
    session: { role: 'service_role' },
  },
  {
    // Reference floor: the flag's unique-key lookup as a bare statement (no
    // function layers, no exposure probe): what one read costs here.
    name: 'floor: the flag row by its unique key, bare statement (server-side, service role)',
    script: `select f.version from public.feature_flags as f where f.flag_key = 'bench.percentage' and f.environment = 'all';\n`,
    session: { role: 'service_role' },
  },
  {
    name: 'is_feature_enabled, percentage (as a user)',
    script: asRequest(`select public.is_feature_enabled('bench.percentage', null, 'production');`, { users }),
  },
  {
    name: 'is_feature_enabled, all, production row (as a user)',
    script: asRequest(`select public.is_feature_enabled('bench.everyone', null, 'production');`, { users }),
  },
  {
    name: 'is_feature_enabled, condition on context (as a user)',
    script: asRequest(`select public.is_feature_enabled('bench.condition', null, 'production', '{"country": "RW"}');`, { users }),
  },
  {
    name: 'check_rate_limit, agent endpoint: 3 windows from admin_config (as a user)',
    script: asRequest(`select public.check_rate_limit('document_agent');`, { users }),
  },
  {
    // The ceiling for any RPC above: the same request with nothing in it.
    name: 'floor: an empty request (begin, role and claims, select 1, commit)',
    script: asRequest(`select 1;`, { users }),
  },
];
