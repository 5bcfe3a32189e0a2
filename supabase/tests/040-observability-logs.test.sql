-- Observability, logs: logging settings, user/agent activity and error logs
-- written through RPCs that take the actor from the JWT, toggles, IP
-- anonymisation, RLS, correlation, resolve_error, admin_config; the hot
-- writers' input checks (record_metric, log_user_activity, track_event).
begin;
select plan(116);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('root', app_metadata => '{"role":"admin"}');
select tests.remember('corr', gen_random_uuid());
-- the seeded logging settings, restored for the hot writers' section below
select set_config('test.seed_logging', (select config_data::text from public.admin_config where config_key = 'logging_settings'), true);

-- Seed data: the logging_settings row (seed 002), user and agent logging off.
select is((select config_data -> 'log_retention_days' from public.admin_config where config_key = 'logging_settings'),
  '{"error_logs": 90, "user_activity_logs": 30, "agent_activity_logs": 7}'::jsonb, 'logging_settings is seeded with seed 002''s retention');

select tests.authenticate_as('alice');
select is(public.is_user_activity_logging_enabled(), false, 'user activity logging is off by default');
select is(public.is_agent_activity_logging_enabled(), false, 'agent activity logging is off by default');
select is(public.log_user_activity('chat_create', 'chat'), null, 'with logging off nothing is recorded');
select throws_ok($$select public.log_user_activity('', 'chat')$$, '22023', 'invalid activity_type: required',
  'bad input is rejected even while logging is off');
select tests.reset_role();
select is((select count(*)::int from public.user_activity_logs), 0, 'and no row was written');

update public.admin_config
   set config_data = config_data || '{"user_activity_logging_enabled": true, "agent_activity_logging_enabled": true}'
 where config_key = 'logging_settings';

-- get_logging_config: merged over the defaults; readable by users, not by anon.
select tests.authenticate_as('alice');
select is(public.is_user_activity_logging_enabled(), true, 'the switch is read from admin_config');
select is(public.get_logging_config() -> 'privacy_settings' ->> 'anonymize_ip', 'false', 'get_logging_config returns the settings');
select tests.clear_authentication();
select throws_ok($$select public.get_logging_config()$$, '42501', null, 'anon cannot read logging settings');
select throws_ok($$select public.log_user_activity('chat_create', 'chat')$$, '42501', null, 'anon cannot log activity');

-- log_user_activity: the actor is the JWT's user.
select tests.authenticate_as('alice');
select isnt(public.log_user_activity('chat_create', 'chat', p_correlation_id => tests.id('corr'),
  p_activity_metadata => '{"chat_id": "c1"}', p_ip_address => '203.0.113.77', p_request_method => 'post',
  p_session_id => 's-1'), null, 'a signed-in user logs an activity');
select throws_ok(format('select public.log_user_activity(%L, %L, p_user_id => %L)', 'chat_view', 'chat', tests.get_supabase_uid('bob')),
  '42501', 'cannot write a log entry as another user', 'a user cannot log as someone else');
select lives_ok(format('select public.log_user_activity(%L, %L, p_user_id => %L)', 'chat_view', 'chat', tests.get_supabase_uid('alice')),
  'naming oneself is allowed');
select throws_ok($$insert into public.user_activity_logs (user_id, correlation_id, activity_type, activity_category)
                   values (auth.uid(), gen_random_uuid(), 'x', 'y')$$, '42501', null, 'direct inserts are refused');
select tests.reset_role();
select is((select (user_id, activity_type, activity_category, ip_address, request_method, session_id, activity_metadata)::text
             from public.user_activity_logs where correlation_id = tests.id('corr')),
  (tests.get_supabase_uid('alice'), 'chat_create', 'chat', '203.0.113.77', 'POST', 's-1', '{"chat_id": "c1"}'::jsonb)::text,
  'the row holds the caller as user_id and the given fields');
select is((select count(*)::int from public.user_activity_logs where user_id = tests.get_supabase_uid('bob')), 0,
  'nothing was written for bob');

-- Bad input: specific errors, nothing written.
select tests.authenticate_as('alice');
select throws_ok($$select public.log_user_activity(repeat('x', 51), 'chat')$$, '22023', 'invalid activity_type: at most 50 characters', 'activity_type too long');
select throws_ok($$select public.log_user_activity('a', null)$$, '22023', 'invalid activity_category: required', 'category required');
select throws_ok($$select public.log_user_activity('a', 'chat', p_activity_metadata => '[1]')$$, '22023', 'invalid activity_metadata: must be a JSON object', 'metadata must be an object');
select throws_ok($$select public.log_user_activity('a', 'chat', p_ip_address => 'not-an-ip')$$, '22023', 'invalid ip address: not-an-ip', 'malformed IP');
select throws_ok($$select public.log_user_activity('a', 'chat', p_ip_address => '10.0.0.0/8')$$, '22023', 'invalid ip address: 10.0.0.0/8: a host address, not a network', 'a network is not an IP');
select throws_ok($$select public.log_user_activity('a', 'chat', p_request_method => 'FETCH')$$, '22023', 'invalid request method: FETCH', 'unknown method');
select throws_ok($$select public.log_user_activity('a', 'chat', p_session_id => repeat('s', 101))$$, '22023', 'invalid session_id: at most 100 characters', 'session id too long');
select tests.reset_role();
select is((select count(*)::int from public.user_activity_logs), 2, 'no bad call wrote a row');

-- The service role logs for a named user; it must name one.
select tests.authenticate_as_service_role();
select isnt(public.log_user_activity('auth_login', 'authentication', p_user_id => tests.get_supabase_uid('bob')), null,
  'the service role logs on behalf of a user');
select throws_ok($$select public.log_user_activity('auth_login', 'authentication')$$, '22023',
  'invalid user: p_user_id is required for a service-role activity entry', 'a user activity needs a user');
select tests.reset_role();
select is((select count(*)::int from public.user_activity_logs where user_id = tests.get_supabase_uid('bob')), 1, 'bob''s row came from the service role');

-- Category toggles and anonymisation.
update public.admin_config
   set config_data = jsonb_set(jsonb_set(config_data, '{category_toggles,log_chat_events}', 'false'), '{privacy_settings,anonymize_ip}', 'true')
 where config_key = 'logging_settings';
select tests.authenticate_as('alice');
select is(public.log_user_activity('chat_view', 'chat'), null, 'a category switched off is not logged');
select isnt(public.log_user_activity('document_view', 'document', p_ip_address => '203.0.113.77', p_session_id => 'anon-v4'), null,
  'other categories still are');
select isnt(public.log_user_activity('document_view', 'document', p_ip_address => '2001:db8:abcd:12::1', p_session_id => 'anon-v6'), null,
  'IPv6 too');
select tests.reset_role();
select is((select ip_address from public.user_activity_logs where session_id = 'anon-v4'), '203.0.113.0', 'IPv4 is anonymised to /24');
select is((select ip_address from public.user_activity_logs where session_id = 'anon-v6'), '2001:db8:abcd::', 'IPv6 is anonymised to /48');
update public.admin_config
   set config_data = jsonb_set(config_data, '{category_toggles,log_auth_events}', 'false')
 where config_key = 'logging_settings';
select tests.authenticate_as('alice');
select is(public.log_user_activity('auth_logout', 'authentication'), null, 'category authentication follows log_auth_events');
select tests.reset_role();
update public.admin_config set config_data = config_data || '{"user_activity_logging_enabled": false}' where config_key = 'logging_settings';
select tests.authenticate_as('alice');
select is(public.log_user_activity('document_view', 'document'), null, 'switching user activity logging off stops all of it');
select tests.reset_role();
update public.admin_config set config_data = config_data || '{"user_activity_logging_enabled": true}' where config_key = 'logging_settings';

-- Agent activity, linked by correlation id.
select tests.authenticate_as('alice');
select isnt(public.log_agent_activity('document_agent', 'document_generation', 'generation',
  p_correlation_id => tests.id('corr'), p_model_id => 'gemini-2.5-flash', p_provider => 'google',
  p_input_tokens => 1200, p_output_tokens => 300, p_input_cost => 0.0012, p_output_cost => 0.0009,
  p_start_time => now() - interval '1 minute', p_end_time => now() - interval '57.5 seconds'), null, 'a user logs an agent operation');
select throws_ok(format('select public.log_agent_activity(%L, %L, %L, p_user_id => %L)', 'python_agent', 'code_execution', 'execution', tests.get_supabase_uid('bob')),
  '42501', 'cannot write a log entry as another user', 'not as someone else');
select throws_ok($$select public.log_agent_activity('python_agent', 'code_execution', 'execution', p_input_tokens => -1)$$,
  '22023', 'invalid agent activity: durations, token counts, costs and retry_count must not be negative', 'negative tokens');
select throws_ok($$select public.log_agent_activity('python_agent', 'code_execution', 'execution', p_start_time => now(), p_end_time => now() - interval '1 s')$$,
  '22023', 'invalid agent activity: end_time is before start_time', 'end before start');
select throws_ok($$select public.log_agent_activity('', 'code_execution', 'execution')$$, '22023', 'invalid agent_type: required', 'agent type required');
select tests.reset_role();
select is((select (user_id, total_tokens, total_cost, duration_ms)::text from public.agent_activity_logs where correlation_id = tests.id('corr')),
  (tests.get_supabase_uid('alice'), 1500, 0.002100, 2500)::text, 'totals and duration are derived when not given');
select tests.authenticate_as_service_role();
select isnt(public.log_agent_activity('chat_model_agent', 'initialization', 'setup'), null, 'the service role logs a system operation without a user');
select tests.reset_role();

-- Tracing one correlation id; RLS decides what each caller sees.
select tests.authenticate_as('alice');
select is((select (jsonb_array_length(t -> 'user_activity'), jsonb_array_length(t -> 'agent_activity'))::text
             from public.get_activity_trace(tests.id('corr')) as t), '(1,1)',
  'the user action and the agent operation it caused share a correlation id');
select is((select count(*)::int from public.user_activity_logs where user_id <> auth.uid()), 0, 'a user reads only their own activity');
select is((select count(*)::int from public.agent_activity_logs where user_id is distinct from auth.uid()), 0, 'and only their own agent operations');
select tests.authenticate_as('bob');
select is((select jsonb_array_length(t -> 'user_activity') + jsonb_array_length(t -> 'agent_activity')
             from public.get_activity_trace(tests.id('corr')) as t), 0, 'another user sees nothing of it');
select tests.authenticate_as('root');
select is((select count(*)::int from public.agent_activity_logs), 2, 'an admin reads every agent operation');
select is((select count(*)::int from public.user_activity_logs), 5, 'and every user activity');
select tests.clear_authentication();
select throws_ok($$select count(*) from public.user_activity_logs$$, '42501', null, 'anon reads no logs');

-- Agent logging switch.
select tests.reset_role();
update public.admin_config set config_data = config_data || '{"agent_activity_logging_enabled": false}' where config_key = 'logging_settings';
select tests.authenticate_as('alice');
select is(public.log_agent_activity('python_agent', 'code_execution', 'execution'), null, 'agent logging off: nothing recorded');

-- Errors.
select tests.remember('err', public.log_error('api', 'rate_limit', 'too many requests', p_error_details => '{"limit": 10}',
  p_request_path => '/api/chat', p_severity => 'warning'));
select isnt(tests.id('err'), null, 'a user logs an error');
select throws_ok($$select public.log_error('nope', 'x', 'y')$$, '22023', 'invalid error_type: must be one of auth, api, admin, app, user, permission, system', 'unknown error type');
select throws_ok($$select public.log_error('api', 'x', 'y', p_severity => 'fatal')$$, '22023', 'invalid severity: must be one of info, warning, error, critical', 'unknown severity');
select throws_ok($$select public.log_error('api', 'x', '')$$, '22023', 'invalid error_message: required, at most 10000 characters', 'empty message');
select throws_ok(format('select public.log_error(%L, %L, %L, p_user_id => %L)', 'api', 'x', 'y', tests.get_supabase_uid('bob')),
  '42501', 'cannot write a log entry as another user', 'errors cannot be logged as someone else');
select tests.authenticate_as('bob');
select is_empty($$select id from public.error_logs$$, 'another user does not see the error');
select tests.reset_role();
update public.admin_config set config_data = config_data || '{"error_logging_enabled": false}' where config_key = 'logging_settings';
select tests.authenticate_as('alice');
select is(public.log_error('app', 'render', 'boom'), null, 'error logging off: nothing recorded');
select is((select count(*)::int from public.error_logs), 1, 'exactly one error row exists, alice''s');

-- resolve_error: admins only.
select throws_ok(format('select public.resolve_error(%L, %L)', tests.id('err'), 'fixed'), '42501', 'only admins may resolve errors',
  'a user cannot resolve an error');
select tests.authenticate_as('root');
select is((select (resolved, resolved_by, resolution_notes)::text from public.resolve_error(tests.id('err'), 'raised the limit')),
  (true, tests.get_supabase_uid('root'), 'raised the limit')::text, 'an admin resolves it with notes');
select throws_ok(format('select public.resolve_error(%L)', tests.id('err')), 'PT409', format('error %s is already resolved', tests.id('err')),
  'resolving twice is a conflict');
select throws_ok($$select public.resolve_error('00000000-0000-0000-0000-000000000001')$$, 'PT404', 'error 00000000-0000-0000-0000-000000000001 not found',
  'an unknown error is not found');
select tests.authenticate_as_service_role();
select throws_ok(format('select public.resolve_error(%L)', tests.id('err')), '42501', null, 'the service role has no resolve_error (it updates the table)');

-- admin_config: admins only; updated_by from the JWT; validated; audited.
select tests.authenticate_as('alice');
select is_empty($$select id from public.admin_config$$, 'a user cannot read admin_config');
select is_empty($$update public.admin_config set config_data = '{}' returning id$$, 'nor change it');
select tests.authenticate_as('root');
select is((select count(*)::int from public.admin_config where config_key = 'logging_settings'), 1, 'an admin reads it');
update public.admin_config set config_data = config_data || '{"error_logging_enabled": true}' where config_key = 'logging_settings';
select is((select updated_by from public.admin_config where config_key = 'logging_settings'), tests.get_supabase_uid('root'),
  'updated_by is the admin in the JWT');
select throws_ok($$update public.admin_config set updated_by = null where config_key = 'logging_settings'$$, '42501', null,
  'updated_by is not writable');
select throws_ok($$update public.admin_config set config_data = jsonb_set(config_data, '{log_retention_days,error_logs}', '"90"') where config_key = 'logging_settings'$$,
  '22023', 'invalid logging_settings: log_retention_days.error_logs must be a whole number of days from 1 to 3650', 'retention must be a number of days');
select throws_ok($$update public.admin_config set config_data = config_data || '{"error_logging_enabled": "yes"}' where config_key = 'logging_settings'$$,
  '22023', 'invalid logging_settings: error_logging_enabled must be true or false', 'switches must be booleans');
select throws_ok($$insert into public.admin_config (config_key, config_data) values ('Bad Key', '{}')$$, '23514', null, 'config keys are snake_case');
select tests.reset_role();
select is((select (actor_type, actor_identifier, actor_role, action, changed_columns)::text
             from public.system_audit_logs where resource_type = 'public.admin_config' and actor_identifier = tests.get_supabase_uid('root')::text),
  ('user', tests.get_supabase_uid('root')::text, 'admin', 'update', array['config_data', 'updated_by'])::text,
  'the configuration change is in the audit trail with the admin and the changed columns');
select tests.clear_authentication();
select throws_ok($$select count(*) from public.admin_config$$, '42501', null, 'anon has no access to admin_config');

-- ---------------------------------------------------------------------------
-- The hot writers (record_metric, log_user_activity, track_event) check valid
-- input in one expression and fall back to the one-by-one checks otherwise.
-- Both paths must store the same values, raise the same first error, validate
-- before honouring a switch, and keep taking the actor from the JWT.
-- ---------------------------------------------------------------------------
select tests.reset_role();
update public.admin_config set config_data = current_setting('test.seed_logging')::jsonb || '{"user_activity_logging_enabled": true}'
 where config_key = 'logging_settings';

-- Stored values are normalised as before: labels trimmed, '' optional text
-- stored as null, the method upper-cased, missing JSON as {}.
select tests.authenticate_as('alice');
select tests.remember('m', public.record_metric('  web  ', ' latency ', ' ttfb ', 3.5, '', null));
select tests.remember('a', public.log_user_activity(' chat_view ', ' chat ', p_request_method => 'post', p_user_agent => '',
  p_request_path => '', p_session_id => '', p_error_message => '', p_resource_type => ''));
select tests.remember('e', public.track_event(' page_view ', ' nav ', p_session_id => ''));
select tests.reset_role();
select is((select row(service_name, metric_type, metric_name, value, unit, tags, user_id)::text
             from public.system_metrics where id = tests.id('m')),
  row('web', 'latency', 'ttfb', 3.5::double precision, null::text, '{}'::jsonb, tests.get_supabase_uid('alice'))::text,
  'record_metric stores trimmed labels, no unit, empty tags and the JWT''s user');
select is((select row(activity_type, activity_category, request_method, user_agent, request_path, session_id, error_message,
                      resource_type, activity_metadata, success, user_id)::text
             from public.user_activity_logs where id = tests.id('a')),
  row('chat_view', 'chat', 'POST', null::text, null::text, null::text, null::text, null::text, '{}'::jsonb, true,
      tests.get_supabase_uid('alice'))::text,
  'log_user_activity stores trimmed labels, an upper-cased method, nulls for empty text, empty metadata and the JWT''s user');
select isnt((select correlation_id from public.user_activity_logs where id = tests.id('a')), null,
  'an activity without a correlation id gets a new one');
select is((select row(event_name, event_category, session_id, properties, user_id)::text
             from public.analytics_events where id = tests.id('e')),
  row('page_view', 'nav', null::text, '{}'::jsonb, tests.get_supabase_uid('alice'))::text,
  'track_event stores trimmed labels, no session, empty properties and the JWT''s user');

-- Limits are inclusive on both paths.
select tests.authenticate_as('alice');
select isnt(public.record_metric(repeat('s', 100), repeat('t', 50), repeat('n', 200), 1, repeat('u', 20)), null,
  'record_metric: labels and unit at their maximum length are accepted');
select throws_ok($$select public.record_metric(repeat('s', 101), 'latency', 'x', 1)$$, '22023',
  'invalid service_name: at most 100 characters', 'record_metric: service name one over the limit');
select throws_ok($$select public.record_metric('web', 'latency', repeat('n', 201), 1)$$, '22023',
  'invalid metric_name: at most 200 characters', 'record_metric: metric name one over the limit');
select throws_ok($$select public.record_metric('web', 'latency', 'x', '-Infinity')$$, '22023',
  'invalid value: must be a finite number', 'record_metric: negative infinity is refused');
select isnt(public.record_metric('web', 'latency', 'x', -1e15), null, 'record_metric: the bound is inclusive');
select throws_ok($$select public.record_metric('web', 'latency', 'x', 1.7976931348623157e308)$$, '22023',
  'invalid value: must be between -1e15 and 1e15', 'record_metric: a value that would overflow a sum of two is refused');
select throws_ok($$select public.record_metric('web', 'latency', 'x', 1, p_tags => jsonb_build_object('blob', repeat('x', 20000)))$$,
  '22023', 'invalid tags: at most 16 KiB', 'record_metric: tags are bounded');
select isnt(public.log_user_activity(repeat('t', 50), repeat('c', 50), p_session_id => repeat('s', 100),
  p_user_agent => repeat('a', 1000), p_request_path => repeat('p', 500), p_resource_type => repeat('r', 50)), null,
  'log_user_activity: every field at its maximum length is accepted');
select throws_ok($$select public.log_user_activity('a', 'chat', p_user_agent => repeat('a', 1001))$$, '22023',
  'invalid user_agent: at most 1000 characters', 'log_user_activity: user agent one over the limit');
select throws_ok($$select public.log_user_activity('a', 'chat', p_request_path => repeat('p', 501))$$, '22023',
  'invalid request_path: at most 500 characters', 'log_user_activity: request path one over the limit');
select throws_ok($$select public.log_user_activity('a', 'chat', p_resource_type => repeat('r', 51))$$, '22023',
  'invalid resource_type: at most 50 characters', 'log_user_activity: resource type one over the limit');
select throws_ok($$select public.log_user_activity('a', 'chat', p_error_message => repeat('e', 10001))$$, '22023',
  'invalid error_message: at most 10000 characters', 'log_user_activity: error message one over the limit');
select throws_ok($$select public.log_user_activity('a', repeat('c', 51))$$, '22023',
  'invalid activity_category: at most 50 characters', 'log_user_activity: category one over the limit');
select throws_ok($$select public.log_user_activity('a', 'chat', p_activity_metadata => jsonb_build_object('blob', repeat('x', 20000)))$$,
  '22023', 'invalid activity_metadata: at most 16 KiB', 'log_user_activity: metadata is bounded');
select isnt(public.track_event(repeat('n', 100), repeat('c', 50), p_session_id => repeat('s', 100)), null,
  'track_event: every field at its maximum length is accepted');
select throws_ok($$select public.track_event(repeat('n', 101))$$, '22023', 'invalid event_name: at most 100 characters',
  'track_event: event name one over the limit');
select throws_ok($$select public.track_event('x', ' ')$$, '22023', 'invalid event_category: required',
  'track_event: a blank category is refused');

-- With several bad inputs, the first error is the one the old writers raised.
select throws_ok($$select public.record_metric('', 'latency', 'x', 'NaN')$$, '22023', 'invalid value: must be a finite number',
  'record_metric: the value is checked before the labels');
select throws_ok($$select public.record_metric('web', '', '', 1, p_unit => repeat('u', 21))$$, '22023', 'invalid metric_type: required',
  'record_metric: labels in order, before the unit');
select throws_ok($$select public.log_user_activity('', '')$$, '22023', 'invalid activity_category: required',
  'log_user_activity: the category is checked before the type');
select throws_ok($$select public.log_user_activity('a', 'chat', p_ip_address => 'bad', p_user_agent => repeat('a', 1001))$$, '22023',
  'invalid ip address: bad', 'log_user_activity: the IP is checked before the user agent');
select throws_ok($$select public.log_user_activity('a', 'chat', p_request_method => 'FETCH', p_session_id => repeat('s', 101))$$, '22023',
  'invalid request method: FETCH', 'log_user_activity: the method is checked before the session id');
select throws_ok($$select public.track_event('', p_session_id => repeat('s', 101))$$, '22023', 'invalid session_id: at most 100 characters',
  'track_event: the session id is checked before the name');
select throws_ok(format('select public.log_user_activity(%L, %L, p_user_id => %L)', '', 'chat', tests.get_supabase_uid('bob')),
  '42501', 'cannot write a log entry as another user', 'log_user_activity: a forged actor is refused before anything else');
select throws_ok(format('select public.log_user_activity(%L, %L, p_user_id => %L)', 'a', '', tests.get_supabase_uid('bob')),
  '42501', 'cannot write a log entry as another user', 'log_user_activity: a forged actor is refused before the category is checked');
select throws_ok(format('select public.track_event(%L, p_user_id => %L)', '', tests.get_supabase_uid('bob')),
  '42501', 'cannot write a log entry as another user', 'track_event: a forged actor is refused before anything else');
select lives_ok(format('select public.track_event(%L, p_user_id => %L)', 'page_view', tests.get_supabase_uid('alice')),
  'track_event: a user may name themselves');

-- A JWT with the authenticated role but no user is refused.
select set_config('request.jwt.claims', '{"role": "authenticated"}', true);
select throws_ok($$select public.record_metric('web', 'latency', 'x', 1)$$, '42501', 'you must be signed in to write a log entry',
  'record_metric: an authenticated role without a user is refused');
select throws_ok($$select public.track_event('page_view')$$, '42501', 'you must be signed in to write a log entry',
  'track_event: an authenticated role without a user is refused');
select throws_ok($$select public.log_user_activity('a', 'chat')$$, '42501', 'you must be signed in to write a log entry',
  'log_user_activity: an authenticated role without a user is refused');

-- Input is validated before the switches are honoured, on both paths.
select tests.reset_role();
update public.admin_config set config_data = config_data || '{"user_activity_logging_enabled": false}'
 where config_key = 'logging_settings';
select tests.authenticate_as('alice');
select throws_ok($$select public.log_user_activity('a', 'chat', p_ip_address => 'bad')$$, '22023', 'invalid ip address: bad',
  'with logging off a bad IP is still refused');
select throws_ok($$select public.log_user_activity('a', 'chat', p_request_method => 'FETCH')$$, '22023', 'invalid request method: FETCH',
  'with logging off a bad method is still refused');
select is(public.log_user_activity('a', 'chat', p_ip_address => '203.0.113.9'), null, 'with logging off a valid call with an IP writes nothing');
select tests.reset_role();
delete from public.admin_config where config_key = 'logging_settings';
select tests.authenticate_as('alice');
select is(public.log_user_activity('a', 'chat'), null, 'without a settings row user activity is not logged (the default is off)');
select tests.reset_role();
insert into public.admin_config (config_key, config_data) values ('logging_settings', '{"user_activity_logging_enabled": true}');
select tests.authenticate_as('alice');
select isnt(public.log_user_activity('a', ' Authentication '), null, 'a settings row without toggles logs every category');

-- Correlation ids from the request, as private.current_correlation_id().
select set_config('request.headers', '{"x-request-id": "0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f"}', true);
select tests.remember('a2', public.log_user_activity('b', 'chat'));
select tests.remember('e2', public.track_event('corr_event'));
select set_config('app.correlation_id', 'not-a-uuid', true);
select tests.remember('m2', public.record_metric('web', 'latency', 'corr_metric', 1));
select tests.remember('a3', public.log_user_activity('c', 'chat'));
select set_config('app.correlation_id', '', true);
select set_config('request.headers', '{"x-correlation-id": "1c1c1c1c-2d2d-4e4e-8f8f-a0a0a0a0a0a0", "x-request-id": "0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f"}', true);
select tests.remember('m3', public.record_metric('web', 'latency', 'corr_metric', 2));
select tests.reset_role();
select is((select correlation_id from public.user_activity_logs where id = tests.id('a2')),
  '0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f'::uuid, 'log_user_activity takes X-Request-Id when there is no X-Correlation-Id');
select is((select correlation_id from public.analytics_events where id = tests.id('e2')),
  '0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f'::uuid, 'track_event takes X-Request-Id when there is no X-Correlation-Id');
select is((select correlation_id from public.system_metrics where id = tests.id('m2')), null,
  'record_metric: an app.correlation_id that is not a uuid gives none (the headers are not consulted)');
select ok((select correlation_id not in ('0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f'::uuid)
             from public.user_activity_logs where id = tests.id('a3')),
  'log_user_activity: an app.correlation_id that is not a uuid gives a new id, not the header''s');
select is((select correlation_id from public.system_metrics where id = tests.id('m3')),
  '1c1c1c1c-2d2d-4e4e-8f8f-a0a0a0a0a0a0'::uuid, 'X-Correlation-Id wins over X-Request-Id');


select * from finish();
rollback;
