-- Observability, metrics and audit: record_metric, log_audit_event (forged
-- actors refused), the opt-in audit trigger, request and health logs,
-- correlation ids from the request, scheduled jobs.
begin;
select plan(53);
-- the throwaway test cluster may run with synchronous_commit off; start from on
set local synchronous_commit = on;

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('root', app_metadata => '{"role":"admin"}');

-- record_metric
select tests.authenticate_as('alice');
select isnt(public.record_metric(p_service_name => 'web', p_metric_type => 'latency', p_metric_name => 'page_load',
  p_value => 812.5, p_unit => 'ms', p_tags => '{"route": "/chat"}'), null, 'a user records a metric');
select is(current_setting('synchronous_commit'), 'on',
  'inside a transaction that had already written, a telemetry call keeps synchronous commit');
select throws_ok($$select public.record_metric('web', 'latency', 'x', 'NaN')$$, '22023', 'invalid value: must be a finite number', 'NaN is refused');
select throws_ok($$select public.record_metric('web', 'latency', 'x', 'Infinity')$$, '22023', 'invalid value: must be a finite number', 'infinity is refused');
select throws_ok($$select public.record_metric('web', 'latency', 'x', null)$$, '22023', 'invalid value: a finite number is required', 'a value is required');
select throws_ok($$select public.record_metric(' ', 'latency', 'x', 1)$$, '22023', 'invalid service_name: required', 'service name required');
select throws_ok($$select public.record_metric('web', repeat('t', 51), 'x', 1)$$, '22023', 'invalid metric_type: at most 50 characters', 'metric type too long');
select throws_ok($$select public.record_metric('web', 'latency', 'x', 1, p_tags => '"x"')$$, '22023', 'invalid tags: must be a JSON object', 'tags must be an object');
select throws_ok($$select public.record_metric('web', 'latency', 'x', 1, p_unit => repeat('u', 21))$$, '22023', 'invalid unit: at most 20 characters', 'unit too long');
select is_empty($$select id from public.system_metrics$$, 'users cannot read metrics');
select tests.authenticate_as_service_role();
select isnt(public.record_metric('api', 'latency', 'request_duration', 150, 'ms', '{"endpoint": "/api/trips"}'), null,
  'the service role records a metric (seed 004 example)');
select tests.authenticate_as('root');
select is((select count(*)::int from public.system_metrics), 2, 'admins read all metrics, and no bad call wrote one');
select is((select user_id from public.system_metrics where metric_name = 'page_load'), tests.get_supabase_uid('alice'),
  'the reporting user comes from the JWT');
select is((select user_id from public.system_metrics where metric_name = 'request_duration'), null, 'service metrics have no user');
select tests.clear_authentication();
select throws_ok($$select public.record_metric('web', 'latency', 'x', 1)$$, '42501', null, 'anon cannot record metrics');

-- log_audit_event: the actor of a signed-in call is the JWT's user.
select tests.authenticate_as('alice');
select isnt(public.log_audit_event('user', auth.uid()::text, 'chat_deleted', 'chat', 'c-1'), null, 'a user audits their own action');
select isnt(public.log_audit_event(null, null, 'profile_viewed', 'profile'), null, 'actor fields may be left out');
select throws_ok(format('select public.log_audit_event(%L, %L, %L, %L)', 'user', tests.get_supabase_uid('bob'), 'chat_deleted', 'chat'),
  '42501', 'cannot write an audit event as another actor', 'a user cannot audit as another user');
select throws_ok($$select public.log_audit_event('system', 'cron', 'purge', 'logs')$$, '42501', 'cannot write an audit event as another actor',
  'a user cannot pose as the system');
select throws_ok($$select public.log_audit_event('robot', null, 'x', 'y')$$, '22023', 'invalid actor_type: must be user, service or system', 'unknown actor type');
select throws_ok($$select public.log_audit_event(null, null, '', 'y')$$, '22023', 'invalid action: required', 'action required');
select throws_ok($$select public.log_audit_event(null, null, 'x', 'y', p_old_values => '[1]')$$, '22023', 'invalid old_values/new_values: must be JSON objects', 'values must be objects');
select tests.clear_authentication();
select throws_ok($$select public.log_audit_event(null, null, 'x', 'y')$$, '42501', null, 'anon cannot audit');

select tests.authenticate_as_service_role();
select tests.remember('audit', public.log_audit_event('service', 'billing-worker', 'refund', 'transaction', 't-1',
  p_old_values => '{"status": "pending", "amount": 5}', p_new_values => '{"status": "refunded", "amount": 5, "note": "dup"}'));
select isnt(public.log_audit_event(null, null, 'rotate_keys', 'service'), null, 'the service role audits without naming itself');
select tests.reset_role();
select is((select (actor_type, actor_identifier, actor_role, changed_columns)::text from public.system_audit_logs where id = tests.id('audit')),
  ('service', 'billing-worker', 'service_role', array['note', 'status'])::text, 'a service actor is recorded with the keys that changed');
select is((select (actor_type, actor_identifier)::text from public.system_audit_logs where action = 'rotate_keys'),
  ('service', 'service_role')::text, 'an unnamed service actor is the service role');
select is((select (actor_type, actor_identifier, actor_role)::text from public.system_audit_logs where action = 'chat_deleted'),
  ('user', tests.get_supabase_uid('alice')::text, 'user')::text, 'a user actor is recorded with their id and role');
select isnt(public.log_audit_event(null, null, 'migrate', 'schema'), null, 'a direct SQL session audits as the system');
select is((select (actor_type, actor_identifier)::text from public.system_audit_logs where action = 'migrate'),
  ('system', 'postgres')::text, 'as the system, named after the database user');

-- Correlation ids come from the request when not passed.
select set_config('request.headers', '{"x-correlation-id": "6f1c1a52-1d7e-4b0e-9a55-2b0c1f6a9e10"}', true);
select tests.authenticate_as('alice');
select isnt(public.log_audit_event(null, null, 'correlated', 'thing'), null, 'an audit event inside a request');
select tests.reset_role();
select is((select correlation_id from public.system_audit_logs where action = 'correlated'), '6f1c1a52-1d7e-4b0e-9a55-2b0c1f6a9e10'::uuid,
  'takes the X-Correlation-Id header');
select set_config('request.headers', '{"x-correlation-id": "not-a-uuid"}', true);
select isnt(public.log_audit_event(null, null, 'uncorrelated', 'thing'), null, 'a malformed header');
select is((select correlation_id from public.system_audit_logs where action = 'uncorrelated'), null, 'is ignored');
select set_config('request.headers', '', true);

-- Audit trail readable by admins only.
select tests.authenticate_as('alice');
select is_empty($$select id from public.system_audit_logs$$, 'users cannot read the audit trail');
select tests.authenticate_as('root');
select ok((select count(*) >= 6 from public.system_audit_logs), 'admins can');
select tests.reset_role();

-- The opt-in audit trigger.
create table private.test_audited (id uuid primary key default gen_random_uuid(), name text, noisy integer default 0);
select lives_ok($$select private.enable_audit('private.test_audited', array['noisy'])$$, 'a table opts into auditing');
insert into private.test_audited (id, name) values ('00000000-0000-0000-0000-0000000000aa', 'first');
update private.test_audited set noisy = noisy + 1;
update private.test_audited set name = 'second';
delete from private.test_audited;
select is(
  array(select (action, resource_id, changed_columns, old_values ->> 'name', new_values ->> 'name', new_values ? 'noisy')::text
          from public.system_audit_logs where resource_type = 'private.test_audited'
         order by array_position(array['insert', 'update', 'delete'], action::text)),
  array[('insert', '00000000-0000-0000-0000-0000000000aa', null::text[], null, 'first', false)::text,
        ('update', '00000000-0000-0000-0000-0000000000aa', array['name'], 'first', 'second', false)::text,
        ('delete', '00000000-0000-0000-0000-0000000000aa', null::text[], 'second', null, null)::text],
  'insert, update and delete are recorded (one each); the excluded column is left out and an update touching only it is not recorded');
select lives_ok($$select private.disable_audit('private.test_audited')$$, 'auditing can be switched off');
insert into private.test_audited (name) values ('unaudited');
select is((select count(*)::int from public.system_audit_logs where resource_type = 'private.test_audited'), 3, 'after which nothing is recorded');

-- API request logs: service role only.
select tests.authenticate_as_service_role();
select isnt(public.log_api_request('get', '/api/chat', 200, 45, p_ip_address => '198.51.100.23', p_user_id => tests.get_supabase_uid('alice')),
  null, 'the service role logs a request');
select throws_ok($$select public.log_api_request('GET', '/api/chat', 700, 1)$$, '22023', 'invalid status_code: must be 100 to 599', 'bad status');
select throws_ok($$select public.log_api_request('GET', '/api/chat', 200, -1)$$, '22023', 'invalid duration_ms/sizes: required duration, none negative', 'negative duration');
select throws_ok($$select public.log_api_request('GET', '', 200, 1)$$, '22023', 'invalid path: required', 'path required');
select tests.authenticate_as('alice');
select throws_ok($$select public.log_api_request('GET', '/x', 200, 1)$$, '42501', null, 'users cannot write request logs');
select tests.authenticate_as('root');
select is((select (method, status_code, ip_address)::text from public.api_request_logs), ('GET', 200, '198.51.100.23')::text, 'admins read them');

-- Health checks.
select tests.authenticate_as_service_role();
select isnt(public.record_health_check('database', 'healthy', 45), null, 'the service role records a health check');
select isnt(public.record_health_check('cache', 'degraded', 310, '{"error": "slow"}'), null, 'and another');
select throws_ok($$select public.record_health_check('cache', 'fine')$$, '22023', 'invalid status: must be healthy, degraded or unhealthy', 'bad status');
select tests.authenticate_as('root');
select is((select (h ->> 'status', h -> 'checks' -> 'database' ->> 'latency', h -> 'checks' -> 'cache' ->> 'status')::text from public.get_system_health() as h),
  ('degraded', '45', 'degraded')::text, 'get_system_health gives the latest per component and the overall status');
select tests.authenticate_as('alice');
select is((select h ->> 'status' from public.get_system_health() as h), 'unknown', 'users see no health data');

-- Scheduled jobs: registered by the migration, visible to admins with their last run.
select tests.authenticate_as('root');
-- (other domains add jobs of their own: check that ours are among them)
select ok(
  array(select j ->> 'jobname' from jsonb_array_elements(public.get_scheduled_jobs()) as j)
    @> array['cleanup-old-api-logs', 'cleanup-old-performance-metrics', 'partition-maintenance', 'purge-old-activity-logs', 'refresh-daily-metrics'],
  'every maintenance job is registered with pg_cron');
select ok((select bool_and(j ? 'last_status' and j ? 'last_started_at') from jsonb_array_elements(public.get_scheduled_jobs()) as j),
  'each with its last run');
select tests.authenticate_as('alice');
select throws_ok($$select public.get_scheduled_jobs()$$, '42501', 'only admins and the service role may read scheduled jobs', 'users cannot list jobs');

select * from finish();
rollback;
