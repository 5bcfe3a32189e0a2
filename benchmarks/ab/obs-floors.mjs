// A/B: each observability target against its function floor (the suite's
// bench_floor functions), interleaved in the same run, for ratios steadier
// than one suite run gives on a noisy machine; and, for record_metric, the
// floor with the real quota call (private.consume_quota('telemetry')) in
// place of its bare rate_limit_state update, which isolates what the quota
// costs from what record_metric's own logic costs; and the same for
// track_event as the service role, for whom consume_quota does nothing but
// is still called.
//   node benchmarks/ab.mjs benchmarks/ab/obs-floors.mjs
import { benchUserId, benchUserSession, benchUserUuidOf, serviceSession } from '../harness.mjs';

export const suites = ['observability'];
export const setup = `
create or replace function bench_floor.record_metric_quota_writer(p_user_id uuid) returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare v_id uuid;
begin
  insert into public.system_metrics (service_name, metric_type, metric_name, value, unit, tags, correlation_id, user_id)
  values ('web', 'latency', 'request_duration', 12.5, 'ms', '{}'::jsonb, null, p_user_id)
  returning id into v_id;
  return v_id;
end $$;
create or replace function bench_floor.record_metric_quota(p_user_id uuid) returns uuid
language plpgsql volatile security invoker set search_path = '' as $$
declare v_ignored text;
begin
  v_ignored := pg_catalog.set_config('synchronous_commit', 'off', true);
  perform private.consume_quota('telemetry');
  return bench_floor.record_metric_quota_writer(p_user_id);
end $$;
create or replace function bench_floor.track_event_quota(p_user_id uuid) returns uuid
language plpgsql volatile security invoker set search_path = '' as $$
declare v_ignored text;
begin
  v_ignored := pg_catalog.set_config('synchronous_commit', 'off', true);
  perform private.consume_quota('telemetry');
  return bench_floor.track_event_writer(p_user_id);
end $$;
grant execute on all functions in schema bench_floor to authenticated, service_role;
`;

const users = 10_000;
const u = benchUserUuidOf('u');
const oneUser = benchUserSession(1, { aud: false });
const floor = (fn, arg) => `select bench_floor.${fn}(${arg});\n`;

export const cases = [
  { name: 'record_metric', script: `select public.record_metric('web', 'latency', 'request_duration', 12.5, 'ms');\n`, session: oneUser },
  { name: 'record_metric function floor', script: floor('record_metric', `'${benchUserId(1)}'`), session: oneUser },
  { name: 'record_metric function floor with consume_quota', script: floor('record_metric_quota', `'${benchUserId(1)}'`), session: oneUser },
  { name: 'record_metric function floor ', script: floor('record_metric', `'${benchUserId(1)}'`), session: oneUser },
  {
    name: 'log_user_activity',
    script:
      `\\set u random(1, ${users})\nselect public.log_user_activity('chat_message_send', 'chat', p_session_id => 'bench', ` +
      `p_request_method => 'POST', p_request_path => '/api/chat', p_user_id => ${u});\n`,
    session: serviceSession,
  },
  { name: 'log_user_activity function floor', script: `\\set u random(1, ${users})\n${floor('log_user_activity', u)}`, session: serviceSession },
  {
    name: 'track_event',
    script: `\\set u random(1, ${users})\nselect public.track_event('page_view', p_session_id => 'bench', p_user_id => ${u});\n`,
    session: serviceSession,
  },
  { name: 'track_event function floor', script: `\\set u random(1, ${users})\n${floor('track_event', u)}`, session: serviceSession },
  {
    name: 'track_event function floor with consume_quota (service role: returns at once)',
    script: `\\set u random(1, ${users})\n${floor('track_event_quota', u)}`,
    session: serviceSession,
  },
  { name: 'track_event function floor ', script: `\\set u random(1, ${users})\n${floor('track_event', u)}`, session: serviceSession },
];
