// Observability: the cost of writing one telemetry row through the RPCs
// (actor from the JWT, settings, validation, insert into a monthly partition
// with its indexes), as a ratio to `select 1`.
//
// Targeted cases are server-side calls: one `select public.fn(...)` per
// transaction, like `select 1`, with role and claims set once per connection.
// record_metric has no user parameter, so it runs as one signed-in user (its
// table has no foreign key to contend on). log_user_activity and track_event
// write rows that reference auth.users: with one user for all clients every
// insert would lock the same auth.users row (the foreign-key check), which no
// real workload does, so they run as the service role for a random user
// (p_user_id), as a server that logs on behalf of its users does. The
// request-shaped cases (begin, role and claims, call, commit) are kept for
// reference, and the floors show what one INSERT per transaction costs with
// no function at all.
import { asRequest, benchUserSession, benchUserUuidOf, serviceSession } from '../harness.mjs';

export const name = 'observability';

const users = 10_000;
const userUuid = benchUserUuidOf('u');
// bench user 1 (claims without aud, as measured so far)
const oneUser = benchUserSession(1, { aud: false });
// One statement that relaxes the commit for its own transaction, as the RPCs do.
const asyncInsert = (insert) => `with relax as (select set_config('synchronous_commit', 'off', true)) ${insert}`;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  // log_user_activity records nothing while user activity logging is off (the seed default)
  ctx.sql(`update public.admin_config
              set config_data = config_data || '{"user_activity_logging_enabled": true, "agent_activity_logging_enabled": true}'
            where config_key = 'logging_settings'`);
  // Tables that already hold rows, as in production (and warm caches, so the
  // first case measured is not penalised for coming first).
  ctx.sqlAsBenchUser(1, `
    select count(public.log_user_activity('chat_message_send', 'chat', p_session_id => 'warm')) from generate_series(1, 20000);
    select count(public.record_metric('web', 'latency', 'request_duration', n, 'ms')) from generate_series(1, 20000) as n;
    select count(public.track_event('page_view', p_session_id => 'warm')) from generate_series(1, 20000);`);
}

export const cases = [
  {
    name: 'record_metric (server-side call as a user)',
    script: `select public.record_metric('web', 'latency', 'request_duration', 12.5, 'ms');\n`,
    session: oneUser,
    target: 0.3,
  },
  {
    name: 'log_user_activity (server-side call, service role for a random user)',
    script:
      `\\set u random(1, ${users})\n` +
      `select public.log_user_activity('chat_message_send', 'chat', p_session_id => 'bench', p_request_method => 'POST', ` +
      `p_request_path => '/api/chat', p_user_id => ${userUuid});\n`,
    session: serviceSession,
    target: 0.3,
  },
  {
    name: 'track_event (server-side call, service role for a random user)',
    script: `\\set u random(1, ${users})\nselect public.track_event('page_view', p_session_id => 'bench', p_user_id => ${userUuid});\n`,
    session: serviceSession,
  },
  // Floors: one INSERT per transaction, asynchronous commit, no function, no
  // JWT, no validation (as postgres). No RPC writing these rows can beat them.
  {
    name: 'floor: bare INSERT into system_metrics (async commit)',
    script: asyncInsert(
      `insert into public.system_metrics (service_name, metric_type, metric_name, value, unit) ` +
        `select 'web', 'latency', 'request_duration', 12.5, 'ms' from relax;\n`,
    ),
  },
  {
    name: 'floor: bare INSERT into user_activity_logs for a random user (async commit)',
    script:
      `\\set u random(1, ${users})\n` +
      asyncInsert(
        `insert into public.user_activity_logs (user_id, correlation_id, activity_type, activity_category, session_id, request_method, request_path) ` +
          `select ${userUuid}, gen_random_uuid(), 'chat_message_send', 'chat', 'bench', 'POST', '/api/chat' from relax;\n`,
      ),
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
