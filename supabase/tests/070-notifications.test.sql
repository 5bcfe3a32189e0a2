-- Notifications: creation per channel, claims with leases, retries with
-- backoff, failure after the last attempt, read marks, RLS per role.
begin;
select plan(49);

select tests.create_supabase_user('ntf_alice');
select tests.create_supabase_user('ntf_bob');
select tests.create_supabase_user('ntf_admin', app_metadata => '{"role":"admin"}');


-- ---------------------------------------------------------------------------
-- Service role creates
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select tests.remember('inapp', (public.create_notification(tests.get_supabase_uid('ntf_alice'), 'in_app', 'Welcome!', p_title => 'Hi')).id);
select tests.remember('sms_low', (public.create_notification(tests.get_supabase_uid('ntf_alice'), 'sms', 'low', p_priority => 1, p_max_attempts => 2)).id);
select tests.remember('sms_high', (public.create_notification(tests.get_supabase_uid('ntf_alice'), 'sms', 'high', p_priority => 9)).id);
select tests.remember('sms_later', (public.create_notification(tests.get_supabase_uid('ntf_bob'), 'sms', 'later', p_send_at => now() + interval '5 years')).id);
select tests.remember('email', (public.create_notification(tests.get_supabase_uid('ntf_bob'), 'email', 'mail')).id);

select is((select status from public.notifications where id = tests.id('inapp')), 'sent',
  'an in-app notification is sent once stored');
select is((select status from public.notifications where id = tests.id('sms_low')), 'pending',
  'an SMS waits for a sender');

select throws_ok(format($$select public.create_notification(%L, 'pigeon', 'x')$$, tests.get_supabase_uid('ntf_alice')),
  '22023', 'invalid p_channel: must be one of in_app, push, email, sms, whatsapp', 'an unknown channel is rejected');
select throws_ok(format($$select public.create_notification(%L, 'sms', '')$$, tests.get_supabase_uid('ntf_alice')),
  '22023', 'invalid p_body: 1 to 4000 characters', 'an empty body is rejected');
select throws_ok(format($$select public.create_notification(%L, 'sms', 'x', p_priority => 11)$$, tests.get_supabase_uid('ntf_alice')),
  '22023', 'invalid p_priority: 1 to 10', 'priority above 10 is rejected');
select throws_ok(format($$select public.create_notification(%L, 'sms', 'x', p_data => '[1]')$$, tests.get_supabase_uid('ntf_alice')),
  '22023', 'invalid p_data: a JSON object of at most 16 KiB', 'array data is rejected');
select throws_ok(format($$select public.create_notification(%L, 'sms', 'x', p_max_attempts => 0)$$, tests.get_supabase_uid('ntf_alice')),
  '22023', 'invalid p_max_attempts: 1 to 20', 'zero attempts is rejected');
select throws_ok(format($$select public.create_notification(%L, 'sms', 'x')$$, gen_random_uuid()),
  '23503', null, 'an unknown user is rejected');
select is((select count(*)::int from public.notifications where user_id in (tests.get_supabase_uid('ntf_alice'), tests.get_supabase_uid('ntf_bob'))),
  5, 'rejected notifications wrote nothing');

-- ---------------------------------------------------------------------------
-- Claims: priority, schedule, leases, retries, dead after the last attempt
-- ---------------------------------------------------------------------------
select results_eq($$select body::text from public.claim_notifications('sms', 10, 60, now())$$,
  $$values ('high'::text), ('low')$$, 'claims take due notifications of the channel, highest priority first; scheduled ones wait');
select is_empty($$select 1 from public.claim_notifications('sms', 10, 60, now())$$, 'claimed ones are not handed out twice');
select is((select attempts from public.notifications where id = tests.id('sms_low')), 1, 'a claim counts an attempt');

select is((public.record_notification_result(tests.id('sms_high'), true)).status, 'sent', 'success -> sent');
select throws_ok(format($$select public.record_notification_result(%L, true)$$, tests.id('sms_high')),
  'PT409', null, 'a result for a notification not being sent is refused');

select is((public.record_notification_result(tests.id('sms_low'), false, 'carrier down', p_now => '2030-01-01 00:00:00+00')).status,
  'pending', 'a failure with attempts left -> pending again');
select is((select next_attempt_at::timestamptz from public.notifications where id = tests.id('sms_low')),
  '2030-01-01 00:00:30+00'::timestamptz, 'first retry after 30 s');
select is((select last_error from public.notifications where id = tests.id('sms_low')), 'carrier down', 'the error is kept');
select is_empty($$select 1 from public.claim_notifications('sms', 10, 60, '2030-01-01 00:00:29+00')$$, 'not before the backoff');
select is((select count(*)::int from public.claim_notifications('sms', 10, 60, '2030-01-01 00:00:30+00')), 1, 'claimable once it is due');
-- the sender crashes: the lease (60 s) expires on the last attempt
select is((select count(*)::int from public.claim_notifications('sms', 10, 60, '2030-01-01 00:02:00+00')), 0,
  'an expired lease on the last attempt is not handed out again ...');
select is((select status from public.notifications where id = tests.id('sms_low')), 'failed',
  '... the notification is failed');

select is((select count(*)::int from public.claim_notifications('email', 10, 30, now())), 1, 'an email is claimed');
select is((select count(*)::int from public.claim_notifications('email', 10, 30, now() + interval '31 seconds')), 1,
  'a lease that expired with attempts left is claimed again');
select is((select attempts from public.notifications where id = tests.id('email')), 2, '... as a new attempt');
select is((public.record_notification_result(tests.id('email'), false, 'bad address', p_retryable => false)).status,
  'failed', 'a non-retryable failure fails at once');

select is(private.retry_backoff(5, interval '30 seconds', interval '1 hour'), interval '8 minutes', 'backoff doubles: 30 s * 2^4');
select is(private.retry_backoff(20, interval '30 seconds', interval '1 hour'), interval '1 hour', 'backoff is capped');
select throws_ok($$select public.claim_notifications('in_app')$$, '22023', null, 'in-app notifications are not claimed');
select throws_ok($$select public.claim_notifications('sms', 0)$$, '22023', 'invalid p_limit: 1 to 1000', 'a zero limit is rejected');

-- Times: a send time and an injected clock are finite and near now.
select throws_ok(format($$select public.create_notification(%L, 'sms', 'x', p_send_at => '-infinity')$$, tests.get_supabase_uid('ntf_alice')),
  '22023', null, 'a send time of -infinity (ahead of every queue) is refused');
select throws_ok(format($$select public.create_notification(%L, 'sms', 'x', p_send_at => now() + interval '11 years')$$, tests.get_supabase_uid('ntf_alice')),
  '22023', null, 'a send time beyond 10 years is refused');
select throws_ok($$select public.claim_notifications('sms', p_now => 'infinity')$$, '22023', null,
  'claim_notifications refuses an infinite clock');
select throws_ok(format($$select public.record_notification_result(%L, false, p_now => 'infinity')$$, tests.id('sms_high')),
  '22023', null, 'record_notification_result refuses an infinite clock');
select throws_ok(format($$insert into public.notifications (user_id, channel, body, next_attempt_at) values (%L, 'sms', 'x', '-infinity')$$,
                        tests.get_supabase_uid('ntf_alice')),
  '23514', null, 'the table refuses an infinite next_attempt_at, whoever writes it');

-- ---------------------------------------------------------------------------
-- Users
-- ---------------------------------------------------------------------------
select tests.authenticate_as('ntf_alice');
select is((select count(*)::int from public.notifications), 3, 'a user reads only their own notifications');
select is(public.mark_notifications_read(array[tests.id('inapp'), tests.id('email')]), 1,
  'mark_notifications_read marks the listed own ones; another user''s id is ignored');
select is(public.mark_notifications_read(), 2, 'with no list it marks all the rest');
select is(public.mark_notifications_read(), 0, 'and again nothing');
select throws_ok($$update public.notifications set body = 'edited'$$, '42501', null, 'a user cannot edit a notification');
select throws_ok($$update public.notifications set read_at = null$$, '42501', null,
  'nor un-read one through the table: read_at is set only by mark_notifications_read');
select throws_ok($$update public.notifications set read_at = 'infinity'$$, '42501', null, 'nor set read_at to a time of their choosing');
select throws_ok(format($$insert into public.notifications (user_id, channel, body) values (%L, 'in_app', 'fake')$$, tests.get_supabase_uid('ntf_alice')),
  '42501', null, 'nor insert one');
select throws_ok($$delete from public.notifications$$, '42501', null, 'nor delete one');
select throws_ok($$select public.create_notification(auth.uid(), 'sms', 'spam')$$, '42501', null, 'users cannot create notifications');
select throws_ok($$select public.claim_notifications('sms')$$, '42501', null, 'users cannot claim notifications');

select tests.authenticate_as('ntf_bob');
select is((select read_at from public.notifications where id = tests.id('email')), null,
  'bob''s notification stayed unread');
select is(public.mark_notifications_read(array[tests.id('sms_low')]), 0, 'bob cannot mark alice''s notification read');

select tests.authenticate_as('ntf_admin');
select cmp_ok((select count(*)::int from public.notifications), '>=', 5, 'an admin reads every notification');

select tests.clear_authentication();
select throws_ok($$select 1 from public.notifications$$, '42501', null, 'anon reads nothing');

select * from finish();
rollback;
