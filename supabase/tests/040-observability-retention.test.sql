-- Observability, partitions and retention: every log table partitioned by
-- month with partitions ahead and a default, inserts far in the past or future
-- never fail, purge/cleanup drop exactly the expired partitions and report
-- exact counts. The clock is p_now throughout, which only the service role
-- (and SQL sessions) may pass: admins purge at the real time.
begin;
select plan(37);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('root', app_metadata => '{"role":"admin"}');

-- Registered, partitioned, partitions ahead, kept out of the API schema.
select ok(
  array(select parent::text from private.partitioned_tables as t
         where (select relnamespace from pg_class where oid = t.parent) = 'public'::regnamespace)
    @> array['agent_activity_logs', 'analytics_events', 'api_request_logs', 'system_audit_logs',
             'system_health_logs', 'system_metrics', 'user_activity_logs'],
  'every high-volume log table is registered for monthly maintenance');
select is_empty($$
  select t.parent::text from private.partitioned_tables as t
   where (select relnamespace from pg_class where oid = t.parent) = 'public'::regnamespace
     and (select count(*) from private.list_partitions(t.parent) as l
           where l.range_from >= private.month_start(now()) and l.range_from <= private.month_start(now()) + interval '3 months') <> 4
$$, 'each has partitions for this month and the three ahead');
select is_empty($$
  select t.parent::text from private.partitioned_tables as t
   where (select relnamespace from pg_class where oid = t.parent) = 'public'::regnamespace
     and not exists (select 1 from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
                      where i.inhparent = t.parent and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT')
$$, 'each has a default partition');
select is_empty($$
  select c.oid::regclass::text from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relispartition
$$, 'no partition lives in the exposed schema (they are in private)');
select is(private.ensure_partitions('public.system_metrics', 0, '2031-05-01'), 1, 'maintenance creates a missing month');
select is((select relnamespace::regnamespace::text from pg_class where oid = 'private.system_metrics_p203105'::regclass), 'private',
  'in private');

-- Inserts for any date succeed.
select lives_ok(format($$insert into public.user_activity_logs (user_id, correlation_id, activity_type, activity_category, created_at)
  values (%L, gen_random_uuid(), 'ancient', 'test', '1999-01-01'), (%L, gen_random_uuid(), 'future', 'test', '2199-01-01')$$,
  tests.get_supabase_uid('alice'), tests.get_supabase_uid('alice')), 'rows far in the past and future are accepted');
select is((select count(*)::int from private.user_activity_logs_default), 2, 'they wait in the default partition');

-- A past layout: Jan-Apr 2025 partitions of the activity tables.
select private.ensure_partitions('public.user_activity_logs', 3, '2025-01-10');
select private.ensure_partitions('public.agent_activity_logs', 3, '2025-01-10');
insert into public.user_activity_logs (user_id, correlation_id, activity_type, activity_category, created_at)
select tests.get_supabase_uid('alice'), gen_random_uuid(), 'seeded', 'test', d
  from unnest(array['2025-01-03', '2025-01-20', '2025-01-31 23:59:59+00', '2025-02-14', '2025-02-28',
                    '2025-03-02', '2025-03-20', '2025-03-30', '2025-03-31', '2025-04-02']::timestamptz[]) as d;
insert into public.agent_activity_logs (user_id, correlation_id, agent_type, operation_type, operation_category, created_at)
select tests.get_supabase_uid('alice'), gen_random_uuid(), 'python_agent', 'code_execution', 'execution', d
  from unnest(array['2025-01-05', '2025-02-05', '2025-02-06', '2025-03-05', '2025-04-01']::timestamptz[]) as d;
insert into public.error_logs (error_type, error_category, error_message, resolved, resolved_at, created_at) values
  ('api', 'old', 'resolved long ago', true, '2025-01-02', '2025-01-01'),
  ('api', 'old', 'resolved long ago', true, '2025-01-03', '2025-01-02'),
  ('api', 'old', 'never resolved', false, null, '2025-01-01'),
  ('api', 'recent', 'resolved recently', true, '2025-04-01', '2025-03-30');

-- Who may purge.
select tests.authenticate_as('alice');
select throws_ok($$select * from public.purge_old_activity_logs('2025-04-10')$$, '42501', 'only admins and the service role may purge logs',
  'a user cannot purge');
select tests.clear_authentication();
select throws_ok($$select * from public.purge_old_activity_logs('2025-04-10')$$, '42501', null, 'anon cannot purge');

-- Purge at 2025-04-10: user logs 30 days (cutoff 2025-03-11), agent logs 7
-- days (cutoff 2025-04-03), resolved errors 90 days (cutoff 2025-01-10).
select tests.authenticate_as('root');
select throws_ok($$select * from public.purge_old_activity_logs('2025-04-10')$$, '42501', 'only the service role may pass p_now',
  'an admin cannot inject the purge clock');
select throws_ok($$select * from public.purge_old_activity_logs('infinity')$$, '42501', 'only the service role may pass p_now',
  'not even infinity');
select tests.authenticate_as_service_role();
select throws_ok($$select * from public.purge_old_activity_logs('infinity')$$, '22023', null,
  'the service role''s clock is finite');
select throws_ok($$select * from public.purge_old_activity_logs(now() + interval '1 day')$$, '22023', null,
  'and not ahead of the real clock');
select is((select (user_logs_deleted, agent_logs_deleted, error_logs_deleted)::text from public.purge_old_activity_logs('2025-04-10')),
  '(6,4,2)', 'the service role purges at its clock: exact counts of the rows removed');
select tests.reset_role();
select is(
  array(select to_char(range_from at time zone 'UTC', 'YYYY-MM') from private.list_partitions('public.user_activity_logs') where range_from < '2026-01-01'),
  array['2025-03', '2025-04'], 'user activity: January and February (ended before the cutoff) were dropped, March (straddling it) kept');
select is((select count(*)::int from public.user_activity_logs where activity_type = 'seeded'), 5, 'with all of their rows and none of the others');
select is((select count(*)::int from private.user_activity_logs_default), 1, 'the ancient row in the default was deleted, the future one kept');
select is(
  array(select to_char(range_from at time zone 'UTC', 'YYYY-MM') from private.list_partitions('public.agent_activity_logs') where range_from < '2026-01-01'),
  array['2025-04'], 'agent activity: everything before April dropped');
select is((select count(*)::int from public.agent_activity_logs), 1, 'one agent row left');
select is(array(select error_message::text from public.error_logs order by created_at), array['never resolved', 'resolved recently'],
  'only resolved errors past retention were deleted');
select is((select count(*)::int from public.purge_old_activity_logs('2025-04-10') where (user_logs_deleted, agent_logs_deleted, error_logs_deleted) = (0, 0, 0)), 1,
  'a second purge finds nothing');

-- Retention follows the settings, and the registry follows too.
update public.admin_config set config_data = jsonb_set(config_data, '{log_retention_days,user_activity_logs}', '400')
 where config_key = 'logging_settings';
select tests.authenticate_as_service_role();
select is((select user_logs_deleted from public.purge_old_activity_logs('2025-05-10')), 0::bigint, 'a longer retention keeps March (service role)');
select tests.reset_role();
select is((select retention from private.partitioned_tables where parent = 'public.user_activity_logs'::regclass), interval '400 days',
  'the maintenance registry carries the retention from the settings');

-- Seed 001 cleanups.
select private.ensure_partitions('public.system_metrics', 3, '2025-01-10');
select private.ensure_partitions('public.api_request_logs', 3, '2025-01-10');
insert into public.system_metrics (service_name, metric_type, metric_name, value, recorded_at)
select 'api', 'latency', 'request_duration', n, d
  from unnest(array['2025-01-10', '2025-02-10', '2025-02-11', '2025-03-20', '2025-04-20']::timestamptz[]) with ordinality as t(d, n);
insert into public.api_request_logs (method, path, status_code, duration_ms, created_at)
select 'GET', '/api/chat', 200, 10, d
  from unnest(array['2025-01-10', '2025-02-10', '2025-03-10', '2025-04-01', '2025-04-20']::timestamptz[]) as d;
select tests.authenticate_as('alice');
select throws_ok($$select public.cleanup_old_performance_metrics('2025-06-15')$$, '42501', 'only admins and the service role may clean up logs', 'a user cannot clean up');
select tests.authenticate_as_service_role();
-- 90 days before 2025-06-15 is 2025-03-17: January and February go.
select is(public.cleanup_old_performance_metrics('2025-06-15'), 3::bigint, 'cleanup_old_performance_metrics removes the 3 metrics of the months past 90 days');
-- 30 days before 2025-04-25 is 2025-03-26: January and February go; March
-- straddles the cutoff and stays.
select is(public.cleanup_old_api_logs('2025-04-25'), 2::bigint, 'cleanup_old_api_logs removes the 2 requests of the months past 30 days');
select tests.reset_role();
select is((select count(*)::int from public.system_metrics where recorded_at < '2026-01-01'), 2, 'the newer metrics stay');
select is((select count(*)::int from public.api_request_logs where created_at < '2026-01-01'), 3, 'the newer requests stay');
-- The daily partition-maintenance job applies the same registered retention.
select tests.reset_role();
select is((select dropped from private.run_partition_maintenance('2025-06-15') where parent = 'public.api_request_logs'::regclass), 2,
  'run_partition_maintenance drops api_request_logs partitions past the registered 30 days');
select is(
  array(select to_char(range_from at time zone 'UTC', 'YYYY-MM') from private.list_partitions('public.api_request_logs') where range_from < '2025-12-01'),
  array['2025-06', '2025-07', '2025-08', '2025-09'], 'leaving the month of p_now and three ahead');

-- Admins purge and clean up at the real time only.
insert into public.api_request_logs (method, path, status_code, duration_ms, created_at)
values ('GET', '/api/old', 200, 10, now() - interval '40 days'), ('GET', '/api/new', 200, 10, now() - interval '1 hour');
select tests.authenticate_as('root');
select throws_ok($$select public.cleanup_old_api_logs('2025-04-25')$$, '42501', 'only the service role may pass p_now',
  'an admin cannot inject the cleanup clock');
select throws_ok($$select public.cleanup_old_performance_metrics('infinity')$$, '42501', 'only the service role may pass p_now',
  'on any cleanup');
select is(public.cleanup_old_api_logs(), 1::bigint, 'an admin cleans up at the real time by the registered retention');
select ok((select count(*) from public.purge_old_activity_logs()) = 1, 'and purges the activity logs the same way');
select tests.reset_role();
select is_empty($$
  select t.parent::text from private.partitioned_tables as t
   where (select relnamespace from pg_class where oid = t.parent) = 'public'::regnamespace
     and not exists (select 1 from private.list_partitions(t.parent) as l where l.range_from = private.month_start(now()))
$$, 'every table keeps its current month''s partition');
select is((select array_agg(path order by path) from public.api_request_logs where created_at > now() - interval '1 year'), array['/api/new']::varchar[],
  'and the current rows');

select * from finish();
rollback;
