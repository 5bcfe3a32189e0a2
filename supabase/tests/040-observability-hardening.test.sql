-- Observability, bounds on what users write: the telemetry quota on every
-- user-callable writer, the reserved system namespace, correlation ids that
-- belong to whoever wrote under them first (and the trace showing who wrote
-- each entry), finite numbers and times, and table grants no wider than the
-- RPCs. Each rule is tried as the role that would break it.
begin;
select plan(67);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('carol');
select tests.create_supabase_user('root', app_metadata => '{"role":"admin"}');
select tests.remember('corr_a', gen_random_uuid());
select tests.remember('corr_b', gen_random_uuid());
select tests.remember('corr_sys', gen_random_uuid());
update public.admin_config
   set config_data = config_data || '{"user_activity_logging_enabled": true, "agent_activity_logging_enabled": true}'
 where config_key = 'logging_settings';

-- ---------------------------------------------------------------------------
-- The reserved namespace: admin, system, service, and admin.*, system.*,
-- service.*, auth.* names are the system's.
-- ---------------------------------------------------------------------------
select tests.authenticate_as('alice');
select throws_ok(format('select public.log_audit_event(null, null, %L, %L, %L)', 'admin.role_granted', 'user', tests.get_supabase_uid('bob')),
  '42501', 'invalid action: admin.role_granted is reserved for the system', 'a user cannot write admin.role_granted about anyone');
select throws_ok($$select public.log_audit_event(null, null, 'update', 'public.documents', 'd-1')$$,
  '42501', 'invalid action: update is reserved for the system', 'nor forge the audit trigger''s row-change records');
select throws_ok($$select public.log_audit_event(null, null, 'SYSTEM:Restart', 'server')$$,
  '42501', 'invalid action: SYSTEM:Restart is reserved for the system', 'the namespace ignores case and takes '':''');
select throws_ok($$select public.log_audit_event(null, null, 'viewed', 'service')$$,
  '42501', 'invalid resource_type: service is reserved for the system', 'resource types too');
select throws_ok($$select public.track_event('auth.login_succeeded')$$,
  '42501', 'invalid event_name: auth.login_succeeded is reserved for the system', 'track_event: reserved event name');
select throws_ok($$select public.track_event('shutdown', 'system')$$,
  '42501', 'invalid event_category: system is reserved for the system', 'track_event: reserved category');
select throws_ok($$select public.log_user_activity('admin.user_banned', 'moderation')$$,
  '42501', 'invalid activity_type: admin.user_banned is reserved for the system', 'log_user_activity: reserved activity type');
select throws_ok($$select public.log_user_activity('x', ' Admin ')$$,
  '42501', 'invalid activity_category: Admin is reserved for the system', 'log_user_activity: reserved category');
select throws_ok($$select public.log_error('system', 'db', 'disk full')$$,
  '42501', 'invalid error_type: system is reserved for the system', 'log_error: the system error type');
select throws_ok($$select public.log_error('api', 'service.billing', 'x')$$,
  '42501', 'invalid error_category: service.billing is reserved for the system', 'log_error: reserved category');
select throws_ok($$select public.log_agent_activity('system', 'x', 'y')$$,
  '42501', 'invalid agent_type: system is reserved for the system', 'log_agent_activity: reserved agent type');
select throws_ok($$select public.record_metric('system', 'gauge', 'cpu', 1)$$,
  '42501', 'invalid service_name: system is reserved for the system', 'record_metric: reserved service name');
select throws_ok($$select public.record_metric('web', 'gauge', 'admin.sessions', 1)$$,
  '42501', 'invalid metric_name: admin.sessions is reserved for the system', 'record_metric: reserved metric name');
select lives_ok($$select public.log_user_activity('login', 'authentication'), public.track_event('authorized_app', 'administration')$$,
  'names that merely start with the words are the user''s');
select tests.authenticate_as('root');
select throws_ok($$select public.log_audit_event(null, null, 'admin.role_granted', 'user')$$,
  '42501', 'invalid action: admin.role_granted is reserved for the system', 'an admin cannot write it by hand either');
select tests.authenticate_as_service_role();
select isnt(public.log_audit_event(null, null, 'admin.role_granted', 'user', tests.get_supabase_uid('bob')::text), null,
  'the service role writes system events');
select isnt(public.track_event('system.maintenance', 'system'), null, 'and system analytics');
select tests.reset_role();
select is((select count(*)::int from public.system_audit_logs where action = 'admin.role_granted'), 1,
  'the only admin.role_granted entry is the service role''s');

-- ---------------------------------------------------------------------------
-- Correlation ids: a user writes under a new one or one only they wrote under.
-- ---------------------------------------------------------------------------
select tests.authenticate_as('alice');
select isnt(public.track_event('chat_opened', p_correlation_id => tests.id('corr_a')), null, 'alice starts a trace');
select isnt(public.log_error('app', 'render', 'boom', p_correlation_id => tests.id('corr_a')), null, 'and adds to her own trace');
select tests.authenticate_as('bob');
select throws_ok(format('select public.log_error(%L, %L, %L, p_correlation_id => %L)', 'app', 'x', 'y', tests.id('corr_a')),
  '42501', format('correlation id %s belongs to another user''s trace', tests.id('corr_a')), 'bob cannot append an error to alice''s trace');
select throws_ok(format('select public.track_event(%L, p_correlation_id => %L)', 'x', tests.id('corr_a')),
  '42501', null, 'nor an event');
select throws_ok(format('select public.record_metric(%L, %L, %L, 1, p_correlation_id => %L)', 'web', 'latency', 'x', tests.id('corr_a')),
  '42501', null, 'nor a metric');
select throws_ok(format('select public.log_user_activity(%L, %L, %L)', 'x', 'chat', tests.id('corr_a')),
  '42501', null, 'nor an activity');
select throws_ok(format('select public.log_agent_activity(%L, %L, %L, %L)', 'a', 'b', 'c', tests.id('corr_a')),
  '42501', null, 'nor an agent operation');
select throws_ok(format('select public.log_audit_event(null, null, %L, %L, p_correlation_id => %L)', 'x', 'y', tests.id('corr_a')),
  '42501', null, 'nor an audit event');
select set_config('request.headers', format('{"x-correlation-id": "%s"}', tests.id('corr_a')), true);
select throws_ok($$select public.track_event('x')$$, '42501', null, 'nor through the X-Correlation-Id header');
select set_config('request.headers', '', true);
select isnt(public.log_error('app', 'x', 'y', p_correlation_id => tests.id('corr_b')), null, 'bob starts his own trace');
select isnt(public.track_event('x', p_correlation_id => tests.id('corr_b')), null, 'and adds to it');
select tests.authenticate_as_service_role();
select isnt(public.track_event('nightly_export', 'batch', p_correlation_id => tests.id('corr_sys')), null,
  'the service role writes under any correlation id');
select isnt(public.track_event('worker_step', 'batch', p_correlation_id => tests.id('corr_a')), null, 'alice''s included');
select tests.authenticate_as('alice');
select throws_ok(format('select public.track_event(%L, p_correlation_id => %L)', 'x', tests.id('corr_sys')),
  '42501', null, 'a trace with an entry by the system alone is not a user''s');
-- The audit trigger records a user's change, without a foreign correlation id.
select tests.authenticate_as('root');
select set_config('request.headers', format('{"x-correlation-id": "%s"}', tests.id('corr_a')), true);
update public.admin_config set config_data = config_data || '{"error_logging_enabled": true}' where config_key = 'logging_settings';
select set_config('request.headers', '', true);
select tests.reset_role();
select is((select correlation_id from public.system_audit_logs
            where resource_type = 'public.admin_config' and actor_identifier = tests.get_supabase_uid('root')::text), null,
  'an audited change made under someone else''s correlation id is recorded without it');
select is((select count(*)::int from public.analytics_events where correlation_id = tests.id('corr_a') and user_id = tests.get_supabase_uid('bob')), 0,
  'nothing of bob''s is in alice''s trace');

select is_empty($$
  select t::regclass::text from unnest(array['public.user_activity_logs', 'public.agent_activity_logs', 'public.error_logs',
           'public.api_request_logs', 'public.analytics_events', 'public.system_metrics', 'public.system_audit_logs']) as t
   where not exists (select 1 from pg_index as i
                      where i.indrelid = t::regclass
                        and i.indkey[0] = (select attnum from pg_attribute where attrelid = t::regclass and attname = 'correlation_id'))
$$, 'every table get_activity_trace reads has an index on correlation_id');

-- The trace shows who wrote each entry.
select tests.authenticate_as('alice');
select is((select t -> 'events' -> 0 -> 'written_by' from public.get_activity_trace(tests.id('corr_a')) as t),
  jsonb_build_object('type', 'user', 'id', tests.get_supabase_uid('alice')), 'each entry carries its writer');
select is((select jsonb_array_length(t -> 'events') from public.get_activity_trace(tests.id('corr_a')) as t), 1,
  'a user sees only their own entries');
select tests.authenticate_as('root');
select is((select jsonb_agg(e -> 'written_by' ->> 'type' order by e ->> 'created_at', e ->> 'event_name')
             from public.get_activity_trace(tests.id('corr_a')) as t, jsonb_array_elements(t -> 'events') as e),
  '["user", "system"]'::jsonb, 'an admin sees the service role''s entry marked as the system''s');

-- ---------------------------------------------------------------------------
-- Numbers and times.
-- ---------------------------------------------------------------------------
select tests.authenticate_as('alice');
select throws_ok($$select public.log_agent_activity('a', 'b', 'c', p_input_cost => 'NaN')$$,
  '22023', 'invalid input_cost: must be a finite number', 'agent cost: NaN');
select throws_ok($$select public.log_agent_activity('a', 'b', 'c', p_total_cost => '-Infinity')$$,
  '22023', 'invalid total_cost: must be a finite number', 'agent cost: -Infinity');
select throws_ok($$select public.log_agent_activity('a', 'b', 'c', p_start_time => '-infinity')$$,
  '22023', null, 'agent start time: -infinity');
select throws_ok($$select public.log_agent_activity('a', 'b', 'c', p_end_time => 'infinity')$$,
  '22023', null, 'agent end time: infinity');
select throws_ok($$select public.log_agent_activity('a', 'b', 'c', p_start_time => now() - interval '2 days')$$,
  '22023', null, 'agent start time: more than a day ago');
select throws_ok($$select public.log_agent_activity('a', 'b', 'c', p_end_time => now() + interval '1 hour')$$,
  '22023', null, 'agent end time: ahead of the clock');
select throws_ok($$select public.record_metric('web', 'latency', 'x', 1e16)$$,
  '22023', 'invalid value: must be between -1e15 and 1e15', 'metric value: beyond the bound');
select tests.reset_role();
select throws_ok($$insert into public.system_metrics (service_name, metric_type, metric_name, value) values ('a', 'b', 'c', 'NaN')$$,
  '23514', null, 'system_metrics.value: no NaN in the table either');
select throws_ok($$insert into public.system_metrics (service_name, metric_type, metric_name, value) values ('a', 'b', 'c', 1e300)$$,
  '23514', null, 'nor a value a sum would overflow on');
select throws_ok(format($$insert into public.agent_activity_logs (user_id, correlation_id, agent_type, operation_type, operation_category, total_cost)
  values (%L, gen_random_uuid(), 'a', 'b', 'c', 'NaN')$$, tests.get_supabase_uid('alice')), '23514', null, 'agent_activity_logs costs: no NaN');
select throws_ok(format($$insert into public.agent_activity_logs (user_id, correlation_id, agent_type, operation_type, operation_category, start_time)
  values (%L, gen_random_uuid(), 'a', 'b', 'c', '-infinity')$$, tests.get_supabase_uid('alice')), '23514', null, 'agent_activity_logs times: finite');
select throws_ok(format($$insert into public.analytics_events (user_id, event_name, event_category, created_at)
  values (%L, 'x', 'y', 'infinity')$$, tests.get_supabase_uid('alice')), '23514', null,
  'no log table stores an infinite time, so no aggregate over one meets it');
select tests.authenticate_as('root');
select throws_ok($$select public.get_daily_metrics('-infinity', 'infinity')$$, '22023',
  'invalid date range: p_from and p_to must be finite dates', 'get_daily_metrics: finite dates');
select tests.reset_role();

-- ---------------------------------------------------------------------------
-- The telemetry quota (basic plan: 120 a minute), shared by every writer.
-- ---------------------------------------------------------------------------
select tests.authenticate_as('carol');
select is((select count(public.track_event('page_view')) from generate_series(1, 120))::int, 120, 'a basic user writes 120 a minute');
select throws_ok($$select public.track_event('page_view')$$, 'PT429', null, 'the 121st is refused');
select throws_like($$select public.record_metric('web', 'latency', 'x', 1)$$, 'rate limit exceeded for telemetry: try again in % seconds',
  'record_metric shares the quota');
select throws_ok($$select public.log_error('app', 'x', 'y')$$, 'PT429', null, 'log_error too');
select throws_ok($$select public.log_user_activity('x', 'chat')$$, 'PT429', null, 'log_user_activity too');
select throws_ok($$select public.log_agent_activity('a', 'b', 'c')$$, 'PT429', null, 'log_agent_activity too');
select throws_ok($$select public.log_audit_event(null, null, 'x', 'y')$$, 'PT429', null, 'log_audit_event too');
select tests.authenticate_as_service_role();
select isnt(public.track_event('page_view', p_user_id => tests.get_supabase_uid('carol')), null, 'the service role is not limited');
select tests.reset_role();
select is((select count(*)::int from public.analytics_events where user_id = tests.get_supabase_uid('carol')), 121,
  'nothing over the quota was written');

-- ---------------------------------------------------------------------------
-- Table grants: the API roles write no log table directly (only the RPCs do);
-- the service role appends to the audit trail and never rewrites it.
-- ---------------------------------------------------------------------------
select is_empty($$
  select c.relname || ' ' || r.rolname || ' ' || p.priv
    from pg_class as c
    cross join (values ('anon'), ('authenticated')) as r(rolname)
    cross join (values ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) as p(priv)
   where c.oid in ('public.error_logs'::regclass, 'public.user_activity_logs'::regclass, 'public.agent_activity_logs'::regclass,
                   'public.api_request_logs'::regclass, 'public.system_health_logs'::regclass, 'public.system_metrics'::regclass,
                   'public.analytics_events'::regclass, 'public.system_audit_logs'::regclass)
     and (has_table_privilege(r.rolname, c.oid, p.priv)
          or p.priv in ('INSERT', 'UPDATE') and has_any_column_privilege(r.rolname, c.oid, p.priv))
$$, 'anon and authenticated hold no insert, update, delete or truncate on any log table, not even on a column');
select is_empty($$
  select p.priv from (values ('UPDATE'), ('DELETE'), ('TRUNCATE')) as p(priv)
   where has_table_privilege('service_role', 'public.system_audit_logs', p.priv)
$$, 'the audit trail is append-only for the service role');
select tests.authenticate_as('alice');
select throws_ok($$insert into public.error_logs (error_type, error_category, error_message) values ('api', 'x', 'forged')$$,
  '42501', null, 'a user cannot insert an error row directly');
select throws_ok($$insert into public.system_audit_logs (actor_type, actor_identifier, action, resource_type) values ('system', 'cron', 'admin.role_granted', 'user')$$,
  '42501', null, 'nor an audit row');
select throws_ok($$update public.analytics_events set event_name = 'x'$$, '42501', null, 'nor rewrite their events');
select throws_ok($$delete from public.error_logs$$, '42501', null, 'nor delete their errors');
select tests.authenticate_as('root');
select throws_ok($$delete from public.system_audit_logs$$, '42501', null, 'not even an admin deletes audit rows directly');

select * from finish();
rollback;
