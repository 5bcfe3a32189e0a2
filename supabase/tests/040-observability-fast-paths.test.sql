-- Observability, the flattened writers (20261123030000): record_metric,
-- log_user_activity and track_event check valid input in one expression and
-- fall back to the one-by-one checks otherwise. Both paths must store the same
-- values, raise the same first error, validate before honouring a switch, and
-- keep taking the actor from the JWT.
begin;
select plan(43);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
update public.admin_config set config_data = config_data || '{"user_activity_logging_enabled": true}'
 where config_key = 'logging_settings';

-- Stored values are normalised as before: labels trimmed, '' optional text
-- stored as null, the method upper-cased, missing JSON as {}.
select tests.authenticate_as('alice');
select set_config('test.m', public.record_metric('  web  ', ' latency ', ' ttfb ', 3.5, '', null)::text, true);
select set_config('test.a', public.log_user_activity(' chat_view ', ' chat ', p_request_method => 'post', p_user_agent => '',
  p_request_path => '', p_session_id => '', p_error_message => '', p_resource_type => '')::text, true);
select set_config('test.e', public.track_event(' page_view ', ' nav ', p_session_id => '')::text, true);
select tests.reset_role();
select is((select row(service_name, metric_type, metric_name, value, unit, tags, user_id)::text
             from public.system_metrics where id = current_setting('test.m')::uuid),
  row('web', 'latency', 'ttfb', 3.5::double precision, null::text, '{}'::jsonb, tests.get_supabase_uid('alice'))::text,
  'record_metric stores trimmed labels, no unit, empty tags and the JWT''s user');
select is((select row(activity_type, activity_category, request_method, user_agent, request_path, session_id, error_message,
                      resource_type, activity_metadata, success, user_id)::text
             from public.user_activity_logs where id = current_setting('test.a')::uuid),
  row('chat_view', 'chat', 'POST', null::text, null::text, null::text, null::text, null::text, '{}'::jsonb, true,
      tests.get_supabase_uid('alice'))::text,
  'log_user_activity stores trimmed labels, an upper-cased method, nulls for empty text, empty metadata and the JWT''s user');
select isnt((select correlation_id from public.user_activity_logs where id = current_setting('test.a')::uuid), null,
  'an activity without a correlation id gets a new one');
select is((select row(event_name, event_category, session_id, properties, user_id)::text
             from public.analytics_events where id = current_setting('test.e')::uuid),
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
  'invalid value: a finite number is required', 'record_metric: negative infinity is refused');
select isnt(public.record_metric('web', 'latency', 'x', 1.7976931348623157e308), null, 'record_metric: the largest finite value is accepted');
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
select throws_ok($$select public.record_metric('', 'latency', 'x', 'NaN')$$, '22023', 'invalid value: a finite number is required',
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
select set_config('test.a2', public.log_user_activity('b', 'chat')::text, true);
select set_config('test.e2', public.track_event('corr_event')::text, true);
select set_config('app.correlation_id', 'not-a-uuid', true);
select set_config('test.m2', public.record_metric('web', 'latency', 'corr_metric', 1)::text, true);
select set_config('test.a3', public.log_user_activity('c', 'chat')::text, true);
select set_config('app.correlation_id', '', true);
select set_config('request.headers', '{"x-correlation-id": "1c1c1c1c-2d2d-4e4e-8f8f-a0a0a0a0a0a0", "x-request-id": "0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f"}', true);
select set_config('test.m3', public.record_metric('web', 'latency', 'corr_metric', 2)::text, true);
select tests.reset_role();
select is((select correlation_id from public.user_activity_logs where id = current_setting('test.a2')::uuid),
  '0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f'::uuid, 'log_user_activity takes X-Request-Id when there is no X-Correlation-Id');
select is((select correlation_id from public.analytics_events where id = current_setting('test.e2')::uuid),
  '0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f'::uuid, 'track_event takes X-Request-Id when there is no X-Correlation-Id');
select is((select correlation_id from public.system_metrics where id = current_setting('test.m2')::uuid), null,
  'record_metric: an app.correlation_id that is not a uuid gives none (the headers are not consulted)');
select ok((select correlation_id not in ('0b7c3f1e-5a2d-4c6b-8e9f-1a2b3c4d5e6f'::uuid)
             from public.user_activity_logs where id = current_setting('test.a3')::uuid),
  'log_user_activity: an app.correlation_id that is not a uuid gives a new id, not the header''s');
select is((select correlation_id from public.system_metrics where id = current_setting('test.m3')::uuid),
  '1c1c1c1c-2d2d-4e4e-8f8f-a0a0a0a0a0a0'::uuid, 'X-Correlation-Id wins over X-Request-Id');

select * from finish();
rollback;
