// Admin: the per-request cost of a feature-flag check (is_feature_enabled as
// a signed-in user: flag lookup, strategy, exposure upsert that writes only a
// user's first evaluation of the day), and of an agent-endpoint rate-limit
// check (three windows from admin_config), as a ratio to `select 1`.
import { asRequest, benchUserId, benchUserSession, benchUserUuid, benchUserUuidOf, serviceSession } from '../harness.mjs';

export const name = 'admin';

const users = 10_000;

// The reads of a flag check (the flag row by its unique key, today's
// exposure row of the user `userExpr` by its primary key), as one statement.
const flagAndExposureSelect = (userExpr, flagKey = `'bench.percentage'`, into = '') =>
  `select e.variant = 'on'${into}
        from public.feature_flags as f
        join public.feature_flag_evaluations as e
          on e.flag_key = f.flag_key and e.environment = f.environment
         and e.day = (pg_catalog.now() at time zone 'UTC')::date and e.user_id = ${userExpr} and e.flag_version = f.version
       where f.flag_key = ${flagKey} and f.environment = 'all'`;
const flagAndExposureBody = (userExpr) => `declare v boolean;
    begin
      ${flagAndExposureSelect(userExpr, 'p_flag_key', ' into v')};
      return v;
    end $$;`;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  ctx.sql(`
    select public.upsert_feature_flag('bench.percentage', 'all', true, 'percentage', 30);
    select public.upsert_feature_flag('bench.everyone', 'production', true, 'all');
    select public.upsert_feature_flag('bench.condition', 'all', true, 'condition', 0, '{}',
      '[{"attribute": "country", "operator": "in", "values": ["RW", "KE"]}]');`);
  // steady state: every bench user has been exposed today (the first
  // evaluation of a day is the only one that writes)
  ctx.sqlAsService(`
    select count(public.is_feature_enabled(f, ${benchUserUuid('n')}, 'production'))
      from generate_series(1, ${users}) as n, unnest(array['bench.percentage', 'bench.everyone', 'bench.condition']) as f;`);
  // ... and has used the agent endpoint before: each user's rate-limit state
  // rows exist. Left empty, vacuum analyze records the state table as empty
  // and the agent-endpoint case's connections scan it sequentially as it grows.
  ctx.sqlAsService(`
    select count(public.check_rate_limit('document_agent', 1, ${benchUserUuid('n')}))
      from generate_series(1, ${users}) as n;`);
  // Reference floors (bench database only): the function layers the project's
  // rules require around a signed-in user's check, with nothing inside them
  // but the reads. Flag definitions are admin-only, so the reads run in a
  // security definer function, which may not sit in an exposed schema
  // (advisor lints 0028/0029): a public invoker wrapper calls a private
  // definer, and both set search_path (lint 0011).
  ctx.sql(`
    create schema if not exists bench_floor;
    grant usage on schema bench_floor to authenticated, service_role;
    create or replace function bench_floor.flag_and_exposure_read(p_flag_key text, p_user_id uuid) returns boolean
    language plpgsql volatile security definer set search_path = '' as $$
    ${flagAndExposureBody('coalesce(p_user_id, auth.uid())')}
    create or replace function bench_floor.flag_and_exposure(p_flag_key text, p_user_id uuid default null) returns boolean
    language plpgsql volatile security invoker set search_path = '' as $$
    begin return bench_floor.flag_and_exposure_read(p_flag_key, p_user_id); end $$;
    -- the same reads in one function with no definer layer (what it would
    -- cost if users could read flag definitions themselves; run as the
    -- service role, which bypasses RLS, naming the user)
    create or replace function bench_floor.flag_and_exposure_one_layer(p_flag_key text, p_user_id uuid) returns boolean
    language plpgsql volatile security invoker set search_path = '' as $$
    ${flagAndExposureBody('p_user_id')}
    create or replace function bench_floor.flag_read(p_flag_key text) returns boolean
    language plpgsql volatile security definer set search_path = '' as $$
    declare v boolean;
    begin
      select f.enabled into v from public.feature_flags as f where f.flag_key = p_flag_key and f.environment = 'all';
      return v;
    end $$;
    create or replace function bench_floor.flag(p_flag_key text) returns boolean
    language plpgsql volatile security invoker set search_path = '' as $$
    begin return bench_floor.flag_read(p_flag_key); end $$;
    grant execute on all functions in schema bench_floor to authenticated, service_role;`);
}

const userUuid = benchUserUuidOf('u');
// the signed-in user of the server-side cases (claims without aud, as measured so far)
const user7 = benchUserSession(7, { aud: false });

export const cases = [
  {
    // The function's own cost, one statement per transaction like `select 1`:
    // a signed-in user's check with role and claims set once per connection.
    name: 'is_feature_enabled, percentage (server-side call as a user)',
    script: `select public.is_feature_enabled('bench.percentage', null, 'production');\n`,
    session: user7,
    floor: 'floor: public invoker -> private definer around the flag and exposure reads (server-side call as a user)',
    bare: 'floor: the flag row joined to today\'s exposure row, bare statement (server-side, service role naming user 7)',
  },
  {
    // The same for a random user of 10,000: the service role names the user.
    name: 'is_feature_enabled, percentage (server-side call, service role for a random user)',
    script: `\\set u random(1, ${users})\nselect public.is_feature_enabled('bench.percentage', ${userUuid}, 'production');\n`,
    session: serviceSession,
    floor: 'floor: public invoker -> private definer around the flag and exposure reads (server-side, service role for a random user)',
    bare: 'floor: the flag row joined to today\'s exposure row, bare statement (server-side, service role for a random user)',
  },
  {
    // Reference floor: the two function layers around the two reads every
    // check makes (the flag row joined to today's exposure row), nothing else.
    name: 'floor: public invoker -> private definer around the flag and exposure reads (server-side call as a user)',
    script: `select bench_floor.flag_and_exposure('bench.percentage');\n`,
    session: user7,
  },
  {
    // The same floor for the random user the service role names.
    name: 'floor: public invoker -> private definer around the flag and exposure reads (server-side, service role for a random user)',
    script: `\\set u random(1, ${users})\nselect bench_floor.flag_and_exposure('bench.percentage', ${userUuid});\n`,
    session: serviceSession,
  },
  {
    // Bare floors: the same two rows (the flag row by its unique key joined
    // to today's exposure row by its primary key) by one bare statement.
    name: 'floor: the flag row joined to today\'s exposure row, bare statement (server-side, service role naming user 7)',
    script: `${flagAndExposureSelect(`'${benchUserId(7)}'::uuid`)};\n`,
    session: serviceSession,
  },
  {
    name: 'floor: the flag row joined to today\'s exposure row, bare statement (server-side, service role for a random user)',
    script: `\\set u random(1, ${users})\n${flagAndExposureSelect(userUuid)};\n`,
    session: serviceSession,
  },
  {
    // Reference floor: the same reads in one function, no definer layer.
    name: 'floor: one invoker function around the flag and exposure reads (server-side call, service role naming the user)',
    script: `select bench_floor.flag_and_exposure_one_layer('bench.percentage', '${benchUserId(7)}');\n`,
    session: serviceSession,
  },
  {
    // Reference floor: the same two layers around the flag row alone.
    name: 'floor: public invoker -> private definer around the flag row alone (server-side call as a user)',
    script: `select bench_floor.flag('bench.percentage');\n`,
    session: user7,
  },
  {
    // Reference floor: the flag's unique-key lookup as a bare statement (no
    // function layers, no exposure probe): what one read costs here.
    name: 'floor: the flag row by its unique key, bare statement (server-side, service role)',
    script: `select f.version from public.feature_flags as f where f.flag_key = 'bench.percentage' and f.environment = 'all';\n`,
    session: serviceSession,
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
