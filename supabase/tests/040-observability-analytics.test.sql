-- Observability, analytics: track_event with sessions, daily_metrics
-- (materialized, private) refreshed to match a direct aggregate, the
-- security-invoker summary views, get_daily_metrics.
begin;
select plan(30);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('root', app_metadata => '{"role":"admin"}');

-- track_event
select tests.authenticate_as('alice');
select isnt(public.track_event(p_event_name => 'trip_requested', p_event_category => 'user_action',
  p_properties => '{"origin": "Downtown", "destination": "Airport"}', p_session_id => 'session-123'), null,
  'a user tracks an event (seed 004 example)');
select isnt(public.track_event('page_view', p_session_id => 'session-123'), null, 'the category defaults to user_action');
select throws_ok(format('select public.track_event(%L, p_user_id => %L)', 'page_view', tests.get_supabase_uid('bob')),
  '42501', 'cannot write a log entry as another user', 'a user cannot track events as someone else');
select throws_ok($$select public.track_event('')$$, '22023', 'invalid event_name: required', 'event name required');
select throws_ok($$select public.track_event('x', repeat('c', 51))$$, '22023', 'invalid event_category: at most 50 characters', 'category too long');
select throws_ok($$select public.track_event('x', p_properties => '[]')$$, '22023', 'invalid properties: must be a JSON object', 'properties must be an object');
select throws_ok($$select public.track_event('x', p_properties => jsonb_build_object('blob', repeat('x', 20000)))$$, '22023', 'invalid properties: at most 16 KiB',
  'properties are bounded');
select throws_ok($$select public.track_event('x', p_session_id => repeat('s', 101))$$, '22023', 'invalid session_id: at most 100 characters', 'session id bounded');
select throws_ok($$insert into public.analytics_events (event_name, event_category) values ('x', 'y')$$, '42501', null, 'no direct inserts');
select tests.clear_authentication();
select throws_ok($$select public.track_event('page_view')$$, '42501', null, 'anon cannot track');
select tests.authenticate_as_service_role();
select isnt(public.track_event('signup_completed', 'lifecycle', p_user_id => tests.get_supabase_uid('bob'), p_session_id => 'b-1'), null,
  'the service role tracks for a user');
select isnt(public.track_event('nightly_export', 'system'), null, 'or a system event without a user');
select tests.reset_role();
select is((select (user_id, session_id, properties ->> 'destination')::text from public.analytics_events where event_name = 'trip_requested'),
  (tests.get_supabase_uid('alice'), 'session-123', 'Airport')::text, 'the event holds the caller, the session and the properties');

-- History over several days, users and sessions.
insert into public.analytics_events (user_id, session_id, event_name, event_category, created_at)
select case when n % 3 = 0 then tests.get_supabase_uid('bob') else tests.get_supabase_uid('alice') end,
       's' || (n % 4), case when n % 2 = 0 then 'page_view' else 'message_sent' end, 'user_action',
       timestamptz '2026-10-01 08:00+00' + (n % 5) * interval '1 day' + n * interval '1 minute'
  from generate_series(1, 60) as n;
insert into public.user_activity_logs (user_id, correlation_id, activity_type, activity_category, session_id, success, created_at)
select tests.get_supabase_uid('alice'), gen_random_uuid(), 'chat_message_send', 'chat', 'u' || (n % 2), n % 4 <> 0,
       timestamptz '2026-10-02 09:00+00' + (n % 2) * interval '1 day'
  from generate_series(1, 10) as n;
insert into public.agent_activity_logs (user_id, correlation_id, agent_type, operation_type, operation_category, total_tokens, total_cost, success, created_at)
select tests.get_supabase_uid('bob'), gen_random_uuid(), 'chat_model_agent', 'streaming', 'generation', 100 * n, 0.001 * n, n <> 3,
       timestamptz '2026-10-03 10:00+00'
  from generate_series(1, 5) as n;

-- refresh_daily_metrics: operators only; the result equals a direct aggregate.
select tests.authenticate_as('alice');
select throws_ok($$select public.refresh_daily_metrics()$$, '42501', 'only admins and the service role may refresh daily metrics', 'a user cannot refresh');
select tests.authenticate_as_service_role();
select ok(public.refresh_daily_metrics() > 0, 'the service role refreshes daily_metrics');
select tests.reset_role();
select bag_eq(
  $$select day, category, name, event_count, unique_users, unique_sessions from private.daily_metrics where source = 'analytics'$$,
  $$select (created_at at time zone 'UTC')::date as day, event_category::text as category, event_name::text as name, count(*) as event_count,
            count(distinct user_id) as unique_users, count(distinct session_id) as unique_sessions
      from public.analytics_events group by 1, 2, 3$$,
  'analytics rows match a direct aggregate of analytics_events');
select bag_eq(
  $$select day, category, name, event_count, failures from private.daily_metrics where source = 'user_activity'$$,
  $$select (created_at at time zone 'UTC')::date as day, activity_category::text as category, activity_type::text as name, count(*) as event_count,
            count(*) filter (where not success) as failures
      from public.user_activity_logs group by 1, 2, 3$$,
  'user activity rows match a direct aggregate, failures included');
select is((select (event_count, failures, total_tokens, total_cost)::text from private.daily_metrics where source = 'agent_activity' and day = '2026-10-03'),
  (5, 1, 1500, 0.015000)::text, 'agent rows carry operations, failures, tokens and cost');
select set_config('test.dm_rows', (select count(*) from private.daily_metrics where source = 'analytics' and day between '2026-10-01' and '2026-10-05')::text, true);
select tests.authenticate_as('root');
select lives_ok($$select public.refresh_daily_metrics()$$, 'an admin may refresh too');

-- get_daily_metrics: admin analytics.
select is(jsonb_array_length(public.get_daily_metrics('2026-10-01', '2026-10-05', 'analytics')),
  current_setting('test.dm_rows')::int,
  'get_daily_metrics returns the rows of the range and source');
select throws_ok($$select public.get_daily_metrics('2026-10-05', '2026-10-01')$$, '22023', 'invalid date range: p_from is after p_to', 'reversed range');
select tests.authenticate_as('alice');
select throws_ok($$select public.get_daily_metrics()$$, '42501', 'only admins and the service role may read daily metrics', 'users cannot read them');
select throws_ok($$select * from private.daily_metrics$$, '42501', null, 'nor the materialized view itself');

-- The summary views run with the caller's rights.
select is((select sum(total_events)::int from public.analytics_summary),
  (select count(*)::int from public.analytics_events where user_id = tests.get_supabase_uid('alice')),
  'analytics_summary counts only the user''s own events');
select is(array(select user_id from public.user_engagement_metrics), array[tests.get_supabase_uid('alice')],
  'user_engagement_metrics shows a user only their own row');
select tests.reset_role();
select is((select (total_events, total_sessions, active_days)::text from public.user_engagement_metrics where user_id = tests.get_supabase_uid('alice')),
  (select (count(*), count(distinct session_id), count(distinct (created_at at time zone 'UTC')::date))::text
     from public.analytics_events where user_id = tests.get_supabase_uid('alice')),
  'engagement counts events, sessions and active days');
select tests.authenticate_as('root');
select is((select count(*)::int from public.user_engagement_metrics), 2, 'an admin sees every user''s engagement');
select is((select sum(total_events)::int from public.analytics_summary), (select count(*)::int from public.analytics_events), 'and every event');
select tests.clear_authentication();
select throws_ok($$select * from public.analytics_summary$$, '42501', null, 'anon reads no analytics');
select tests.reset_role();
select is(
  array(select c.relname::text from pg_class as c where c.oid in ('public.analytics_summary'::regclass, 'public.user_engagement_metrics'::regclass)
           and 'security_invoker=true' = any (c.reloptions) order by 1),
  array['analytics_summary', 'user_engagement_metrics'], 'both views are security invoker');

select * from finish();
rollback;
