// Observability: the cost of writing one telemetry row through the RPCs
// (actor from the JWT, settings, validation, insert into a monthly partition
// with its indexes), each judged against its function floor and bare floor.
//
// Targeted cases are server-side calls: one `select public.fn(...)` per
// transaction, like `select 1`, with role and claims set once per connection.
// record_metric has no user parameter, so it runs as one signed-in user (its
// table has no foreign key to contend on) and pays the telemetry quota: one
// rate_limit_state row update per call. log_user_activity and track_event
// write rows that reference auth.users: with one user for all clients every
// insert would lock the same auth.users row (the foreign-key check), which no
// real workload does, so they run as the service role for a random user
// (p_user_id), as a server that logs on behalf of its users does; the service
// role has no quota (private.consume_quota returns at once), so their floors
// write no quota row either.
//
// Floors (bench database only, never a migration):
// - function floor: the same row (same columns and values, same partitioned
//   table with its indexes and triggers) and, where the call consumes quota,
//   the same rate_limit_state row update, inside the cheapest function the
//   rules allow: a public-style invoker wrapper that relaxes the commit as the
//   RPCs do, around a definer (plpgsql, search_path set) that only writes;
// - bare floor: the same writes as one bare statement, asynchronous commit,
//   as postgres (no role, no RLS).
// The request-shaped cases (begin, role and claims, call, commit) are kept for
// reference.
import { asRequest, benchUserId, benchUserSession, benchUserUuid, benchUserUuidOf, serviceSession } from '../harness.mjs';

export const name = 'observability';

const users = 10_000;
const userUuid = benchUserUuidOf('u');
// bench user 1 (claims without aud, as measured so far)
const oneUser = benchUserSession(1, { aud: false });
// One statement that relaxes the commit for its own transaction, as the RPCs do.
const relax = `relax as (select set_config('synchronous_commit', 'off', true))`;
// The telemetry quota's state row (plan endpoint 'telemetry', one 60 s window,
// lifted to 10^6 per window by createBenchUsers: a step of 60 microseconds).
const quotaStep = `tat = greatest(s.tat, now()) + interval '60 microseconds', tat_remainder = 0`;
const quotaRow = (uid) => `s.user_id = ${uid} and s.bucket = 'telemetry:60'`;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  // log_user_activity records nothing while user activity logging is off (the seed default)
  ctx.sql(`update public.admin_config
              set config_data = config_data || '{"user_activity_logging_enabled": true, "agent_activity_logging_enabled": true}'
            where config_key = 'logging_settings'`);
  // Tables that already hold rows, as in production (and warm caches, so the
  // first case measured is not penalised for coming first): written by the
  // service role for the bench users, since one user's 60,000 calls in one
  // transaction would stack 60,000 versions of their quota row.
  ctx.sqlAsService(`
    select count(public.log_user_activity('chat_message_send', 'chat', p_session_id => 'warm', p_user_id => ${benchUserUuid('1 + n % 1000')}))
      from generate_series(1, 20000) as n;
    select count(public.record_metric('web', 'latency', 'request_duration', n, 'ms')) from generate_series(1, 20000) as n;
    select count(public.track_event('page_view', p_session_id => 'warm', p_user_id => ${benchUserUuid('1 + n % 1000')}))
      from generate_series(1, 20000) as n;`);
  // bench user 1's telemetry quota row (the record_metric cases update it)
  ctx.sqlAsBenchUser(1, `select public.record_metric('web', 'latency', 'request_duration', 1, 'ms');`);
  // Function floors: an invoker wrapper (asynchronous commit, as the RPCs)
  // around a definer that writes the same rows, nothing else.
  ctx.sql(`
    create schema if not exists bench_floor;
    grant usage on schema bench_floor to authenticated, service_role;

    create or replace function bench_floor.record_metric_writer(p_user_id uuid) returns uuid
    language plpgsql volatile security definer set search_path = '' as $$
    declare v_id uuid;
    begin
      update private.rate_limit_state as s set ${quotaStep} where ${quotaRow('p_user_id')};
      insert into public.system_metrics (service_name, metric_type, metric_name, value, unit, tags, correlation_id, user_id)
      values ('web', 'latency', 'request_duration', 12.5, 'ms', '{}'::jsonb, null, p_user_id)
      returning id into v_id;
      return v_id;
    end $$;
    create or replace function bench_floor.record_metric(p_user_id uuid) returns uuid
    language plpgsql volatile security invoker set search_path = '' as $$
    declare v_ignored text;
    begin
      v_ignored := pg_catalog.set_config('synchronous_commit', 'off', true);
      return bench_floor.record_metric_writer(p_user_id);
    end $$;

    create or replace function bench_floor.log_user_activity_writer(p_user_id uuid) returns uuid
    language plpgsql volatile security definer set search_path = '' as $$
    declare v_id uuid;
    begin
      -- the settings row is read by the insert, as the RPC's
      insert into public.user_activity_logs (id, user_id, correlation_id, activity_type, activity_category, activity_metadata,
                                             resource_id, resource_type, ip_address, user_agent, request_path, request_method,
                                             session_id, success, error_message, created_at)
      select gen_random_uuid(), p_user_id, gen_random_uuid(), 'chat_message_send', 'chat', '{}'::jsonb,
             null, null, null, null, '/api/chat', 'POST', 'bench', true, null, pg_catalog.now()
        from public.admin_config as s
       where s.config_key = 'logging_settings'
      returning id into v_id;
      return v_id;
    end $$;
    create or replace function bench_floor.log_user_activity(p_user_id uuid) returns uuid
    language plpgsql volatile security invoker set search_path = '' as $$
    declare v_ignored text;
    begin
      v_ignored := pg_catalog.set_config('synchronous_commit', 'off', true);
      return bench_floor.log_user_activity_writer(p_user_id);
    end $$;

    create or replace function bench_floor.track_event_writer(p_user_id uuid) returns uuid
    language plpgsql volatile security definer set search_path = '' as $$
    declare v_id uuid;
    begin
      insert into public.analytics_events (user_id, session_id, event_name, event_category, properties, correlation_id)
      values (p_user_id, 'bench', 'page_view', 'user_action', '{}'::jsonb, null)
      returning id into v_id;
      return v_id;
    end $$;
    create or replace function bench_floor.track_event(p_user_id uuid) returns uuid
    language plpgsql volatile security invoker set search_path = '' as $$
    declare v_ignored text;
    begin
      v_ignored := pg_catalog.set_config('synchronous_commit', 'off', true);
      return bench_floor.track_event_writer(p_user_id);
    end $$;

    revoke execute on all functions in schema bench_floor from public;
    grant execute on all functions in schema bench_floor to authenticated, service_role;`);
}

const recordMetricFloor = 'record_metric function floor: the same row and quota row update, invoker -> definer, nothing else';
const recordMetricBare = 'record_metric bare floor: the same row and quota row update, one statement (async commit)';
const logUserActivityFloor = 'log_user_activity function floor: the same row (settings row read by the insert), invoker -> definer';
const logUserActivityBare = 'log_user_activity bare floor: the same row, one statement (async commit)';
const trackEventFloor = 'track_event function floor: the same row, invoker -> definer, nothing else';
const trackEventBare = 'track_event bare floor: the same row, one statement (async commit)';

export const cases = [
  {
    name: 'record_metric (server-side call as a user)',
    script: `select public.record_metric('web', 'latency', 'request_duration', 12.5, 'ms');\n`,
    session: oneUser,
    floor: recordMetricFloor,
    bare: recordMetricBare,
  },
  {
    name: recordMetricFloor,
    script: `select bench_floor.record_metric('${benchUserId(1)}');\n`,
    session: oneUser,
  },
  {
    name: recordMetricBare,
    script:
      `with ${relax}, quota as (update private.rate_limit_state as s set ${quotaStep} ` +
      `where ${quotaRow(`'${benchUserId(1)}'::uuid`)} returning 1) ` +
      `insert into public.system_metrics (service_name, metric_type, metric_name, value, unit, tags, correlation_id, user_id) ` +
      `select 'web', 'latency', 'request_duration', 12.5, 'ms', '{}'::jsonb, null, '${benchUserId(1)}'::uuid from relax, quota;\n`,
  },
  {
    name: 'log_user_activity (server-side call, service role for a random user)',
    script:
      `\\set u random(1, ${users})\n` +
      `select public.log_user_activity('chat_message_send', 'chat', p_session_id => 'bench', p_request_method => 'POST', ` +
      `p_request_path => '/api/chat', p_user_id => ${userUuid});\n`,
    session: serviceSession,
    floor: logUserActivityFloor,
    bare: logUserActivityBare,
  },
  {
    name: logUserActivityFloor,
    script: `\\set u random(1, ${users})\nselect bench_floor.log_user_activity(${userUuid});\n`,
    session: serviceSession,
  },
  {
    name: logUserActivityBare,
    script:
      `\\set u random(1, ${users})\n` +
      `with ${relax} ` +
      `insert into public.user_activity_logs (id, user_id, correlation_id, activity_type, activity_category, activity_metadata, ` +
      `resource_id, resource_type, ip_address, user_agent, request_path, request_method, session_id, success, error_message, created_at) ` +
      `select gen_random_uuid(), ${userUuid}, gen_random_uuid(), 'chat_message_send', 'chat', '{}'::jsonb, ` +
      `null, null, null, null, '/api/chat', 'POST', 'bench', true, null, now() ` +
      `from relax, public.admin_config as s where s.config_key = 'logging_settings';\n`,
  },
  {
    name: 'track_event (server-side call, service role for a random user)',
    script: `\\set u random(1, ${users})\nselect public.track_event('page_view', p_session_id => 'bench', p_user_id => ${userUuid});\n`,
    session: serviceSession,
    floor: trackEventFloor,
    bare: trackEventBare,
  },
  {
    name: trackEventFloor,
    script: `\\set u random(1, ${users})\nselect bench_floor.track_event(${userUuid});\n`,
    session: serviceSession,
  },
  {
    name: trackEventBare,
    script:
      `\\set u random(1, ${users})\n` +
      `with ${relax} ` +
      `insert into public.analytics_events (user_id, session_id, event_name, event_category, properties, correlation_id) ` +
      `select ${userUuid}, 'bench', 'page_view', 'user_action', '{}'::jsonb, null from relax;\n`,
  },
  // For reference: the same calls as PostgREST makes them (begin, role and
  // claims of a random user, call, commit; pipelined).
  {
    name: 'record_metric (as a user, request)',
    script: asRequest(`select public.record_metric('web', 'latency', 'request_duration', 12.5, 'ms');`, { users }),
  },
  {
    name: 'log_user_activity (as a user, request)',
    script: asRequest(
      `select public.log_user_activity('chat_message_send', 'chat', p_session_id => 'bench', p_request_method => 'POST', p_request_path => '/api/chat');`,
      { users },
    ),
  },
  {
    name: 'track_event (as a user, request)',
    script: asRequest(`select public.track_event('page_view', p_session_id => 'bench');`, { users }),
  },
];
