// Observability: the per-request cost of writing a log row through the RPCs
// (actor from the JWT, settings read, validation, insert into a monthly
// partition with its indexes), as a ratio to `select 1`.
import { asRequest } from '../harness.mjs';

export const name = 'observability';

const users = 10_000;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  // log_user_activity records nothing while user activity logging is off (the seed default)
  ctx.sql(`update public.admin_config
              set config_data = config_data || '{"user_activity_logging_enabled": true, "agent_activity_logging_enabled": true}'
            where config_key = 'logging_settings'`);
  // Tables that already hold rows, as in production (and warm caches, so the
  // first case measured is not penalised for coming first).
  ctx.sql(`begin;
    select set_config('role', 'authenticated', true),
           set_config('request.jwt.claims', '{"role":"authenticated","sub":"00000000-0000-4000-8000-000000000001"}', true);
    select count(public.log_user_activity('chat_message_send', 'chat', p_session_id => 'warm')) from generate_series(1, 20000);
    select count(public.record_metric('web', 'latency', 'request_duration', n, 'ms')) from generate_series(1, 20000) as n;
    select count(public.track_event('page_view', p_session_id => 'warm')) from generate_series(1, 20000);
    commit;`);
}

export const cases = [
  {
    name: 'record_metric (as a user)',
    script: asRequest(`select public.record_metric('web', 'latency', 'request_duration', 12.5, 'ms');`, { users }),
    target: 0.3,
  },
  {
    name: 'track_event (as a user)',
    script: asRequest(`select public.track_event('page_view', p_session_id => 'bench');`, { users }),
  },
  {
    name: 'log_user_activity (as a user)',
    script: asRequest(
      `select public.log_user_activity('chat_message_send', 'chat', p_session_id => 'bench', p_request_method => 'POST', p_request_path => '/api/chat');`,
      { users },
    ),
    target: 0.3,
  },
  {
    // The ceiling for any RPC above: the same kind of row written with a bare
    // INSERT (as postgres, asynchronous commit, no JWT, no validation).
    name: 'reference: bare INSERT into system_metrics',
    script:
      "\\startpipeline\nbegin;\nset local synchronous_commit = off;\n" +
      "insert into public.system_metrics (service_name, metric_type, metric_name, value, unit) values ('web', 'latency', 'request_duration', 12.5, 'ms');\n" +
      'commit;\n\\endpipeline\n',
  },
];
