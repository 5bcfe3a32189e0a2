-- Observability, the writer of each correlation id (private.correlation_writers):
-- kept by every insert under an id into the seven tables that carry one, read
-- by the ownership check in one probe, closed by anyone else's entry, left
-- untouched by the owner's repeat, and purged after the longest retention.
begin;
select plan(26);

select tests.create_supabase_user('dave');
select tests.create_supabase_user('erin');
select tests.remember('c_event', gen_random_uuid());
select tests.remember('c_error', gen_random_uuid());
select tests.remember('c_metric', gen_random_uuid());
select tests.remember('c_activity', gen_random_uuid());
select tests.remember('c_agent', gen_random_uuid());
select tests.remember('c_audit', gen_random_uuid());
select tests.remember('c_request', gen_random_uuid());
update public.admin_config
   set config_data = config_data || '{"user_activity_logging_enabled": true, "agent_activity_logging_enabled": true}'
 where config_key = 'logging_settings';

select ok((select relrowsecurity from pg_class where oid = 'private.correlation_writers'::regclass), 'the writers table has RLS on');
select is_empty($$
  select r from unnest(array['anon', 'authenticated', 'service_role']) as r,
                unnest(array['select', 'insert', 'update', 'delete']) as p
   where has_table_privilege(r, 'private.correlation_writers', p)
$$, 'and no API role may read or write it');

-- ---------------------------------------------------------------------------
-- Each of the seven tables records its writer.
-- ---------------------------------------------------------------------------
select tests.authenticate_as('dave');
select public.track_event('chat_opened', p_correlation_id => tests.id('c_event'));
select public.log_error('app', 'render', 'boom', p_correlation_id => tests.id('c_error'));
select public.record_metric('web', 'latency', 'page_load', 12, p_correlation_id => tests.id('c_metric'));
select public.log_user_activity('page_view', 'navigation', tests.id('c_activity'));
select public.log_agent_activity('chat', 'completion', 'llm', tests.id('c_agent'));
select public.log_audit_event(null, null, 'profile.viewed', 'profile', p_correlation_id => tests.id('c_audit'));
select public.track_event('no_trace');
select tests.authenticate_as_service_role();
select public.log_api_request('GET', '/rest/v1/x', 200, 5, p_correlation_id => tests.id('c_request'), p_user_id => tests.get_supabase_uid('dave'));
select tests.reset_role();

select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_event')), tests.get_supabase_uid('dave'), 'analytics_events: the user''s');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_error')), tests.get_supabase_uid('dave'), 'error_logs: the user''s');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_metric')), tests.get_supabase_uid('dave'), 'system_metrics: the user''s');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_activity')), tests.get_supabase_uid('dave'), 'user_activity_logs: the user''s');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_agent')), tests.get_supabase_uid('dave'), 'agent_activity_logs: the user''s');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_audit')), tests.get_supabase_uid('dave'), 'system_audit_logs: the user actor''s');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_request')), tests.get_supabase_uid('dave'), 'api_request_logs: the user the service role wrote for');
select is((select count(*)::int from private.correlation_writers), 7, 'an entry without a correlation id records nothing');

-- ---------------------------------------------------------------------------
-- The owner's repeat leaves the row untouched; anyone else closes the id.
-- ---------------------------------------------------------------------------
create temp table event_writer_version on commit drop as
  select ctid::text || xmax::text as version from private.correlation_writers where correlation_id = tests.id('c_event');
select tests.authenticate_as('dave');
select public.track_event('chat_opened', p_correlation_id => tests.id('c_event'));
select public.record_metric('web', 'latency', 'page_load', 13, p_correlation_id => tests.id('c_event'));
select tests.reset_role();
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_event')), tests.get_supabase_uid('dave'),
  'the owner''s repeat keeps the id theirs');
select is((select ctid::text || xmax::text from private.correlation_writers where correlation_id = tests.id('c_event')), (select version from event_writer_version),
  'and neither rewrites nor locks the row');

select tests.authenticate_as_service_role();
select public.track_event('worker_step', 'batch', p_correlation_id => tests.id('c_metric'));
select public.track_event('worker_step', 'batch', p_correlation_id => tests.id('c_activity'), p_user_id => tests.get_supabase_uid('erin'));
select public.log_audit_event('system', 'cron', 'nightly.export', 'export', p_correlation_id => tests.id('c_agent'));
select public.log_error('app', 'render', 'boom', p_correlation_id => tests.id('c_error'), p_user_id => tests.get_supabase_uid('dave'));
select tests.reset_role();
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_metric')), null, 'a service write without a user closes the id');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_activity')), null, 'another user''s entry closes it');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_agent')), null, 'a system audit actor closes it');
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_error')), tests.get_supabase_uid('dave'),
  'the service role writing for the owner keeps it theirs');

select tests.authenticate_as('dave');
select throws_ok(format('select public.track_event(%L, p_correlation_id => %L)', 'x', tests.id('c_metric')),
  '42501', format('correlation id %s belongs to another user''s trace', tests.id('c_metric')), 'the owner is refused a closed id');
select tests.authenticate_as('erin');
select throws_ok(format('select public.track_event(%L, p_correlation_id => %L)', 'x', tests.id('c_event')),
  '42501', null, 'another user is refused the owner''s id');
select tests.reset_role();
select is((select user_id from private.correlation_writers where correlation_id = tests.id('c_metric')), null, 'a closed id stays closed');

-- ---------------------------------------------------------------------------
-- Purge: past the longest retention (400 days, plus a month and a day).
-- ---------------------------------------------------------------------------
update private.correlation_writers set last_written_at = now() - interval '500 days'
 where correlation_id in (tests.id('c_event'), tests.id('c_error'), tests.id('c_agent'));
update private.correlation_writers set last_written_at = now() - interval '420 days'
 where correlation_id = tests.id('c_audit');

update private.partitioned_tables set retention = null where parent = 'public.analytics_events'::regclass;
select is(private.purge_correlation_writers(now()), 0::bigint, 'nothing is purged while a table keeps its rows forever');
update private.partitioned_tables set retention = interval '400 days' where parent = 'public.analytics_events'::regclass;

select tests.authenticate_as_service_role();
select lives_ok($$select * from public.purge_old_activity_logs()$$, 'the daily purge runs');
select tests.reset_role();
select is((select array_agg(correlation_id order by correlation_id) from private.correlation_writers
            where correlation_id in (tests.id('c_event'), tests.id('c_agent'))), null,
  'it removes the writers of ids not written for longer than the longest retention');
select is((select count(*)::int from private.correlation_writers where correlation_id = tests.id('c_audit')), 1,
  'not those within a month and a day of it');
select is((select count(*)::int from private.correlation_writers where correlation_id = tests.id('c_error')), 1,
  'nor those an error log still carries');
select is((select count(*)::int from private.correlation_writers where correlation_id = tests.id('c_request')), 1,
  'nor recent ones');

select tests.authenticate_as('erin');
select isnt(public.track_event('x', p_correlation_id => tests.id('c_event')), null, 'a purged id may be used again');

select * from finish();
rollback;
