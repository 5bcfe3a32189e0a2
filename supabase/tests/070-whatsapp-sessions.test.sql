-- WhatsApp sessions: E.164 validation, activity, the 24-hour window, roles.
begin;
select plan(21);

select tests.create_supabase_user('wa_alice');
select tests.create_supabase_user('wa_bob');

select tests.authenticate_as_service_role();
select is((public.update_whatsapp_session_activity('+250788123456', true, '2030-01-01 10:00+00')).message_count, 1::bigint,
  'the first activity opens a session with one message');
select is((public.update_whatsapp_session_activity('+250788123456', true, '2030-01-01 11:00+00')).message_count, 2::bigint,
  'each message counts');
select is((public.update_whatsapp_session_activity('+250788123456', false, '2030-01-01 12:00+00')).message_count, 2::bigint,
  'activity without a message does not count one');
select is((select expires_at from public.whatsapp_sessions where phone_number = '+250788123456'), '2030-01-02 12:00+00'::timestamptz,
  'the window is 24 hours from the last activity');
select is((select started_at from public.whatsapp_sessions where phone_number = '+250788123456'), '2030-01-01 10:00+00'::timestamptz,
  'the session keeps its start');
select is((public.update_whatsapp_session_activity('+250788123456', true, '2030-01-03 09:00+00')).message_count, 1::bigint,
  'after the window a new session starts, counting from one');
select is((select started_at from public.whatsapp_sessions where phone_number = '+250788123456'), '2030-01-03 09:00+00'::timestamptz,
  '... with a new start');
select is((public.update_whatsapp_session_activity('+250788123456', true, '2030-01-03 08:00+00')).last_activity_at,
  '2030-01-03 09:00+00'::timestamptz, 'a late-arriving older event does not move last activity back');

select throws_ok($$select public.update_whatsapp_session_activity('0788123456')$$, '22023',
  'invalid p_phone_number: must be an E.164 number such as +250788123456', 'a number without + is rejected');
select throws_ok($$select public.update_whatsapp_session_activity('+0788123456')$$, '22023', null, 'a country code starting with 0 is rejected');
select throws_ok($$select public.update_whatsapp_session_activity('+12345')$$, '22023', null, 'a too-short number is rejected');
select throws_ok($$select public.update_whatsapp_session_activity('+1234567890123456')$$, '22023', null, 'more than 15 digits is rejected');
select throws_ok($$select public.update_whatsapp_session_activity(null)$$, '22023', null, 'null is rejected');
select throws_ok($$select public.update_whatsapp_session_activity('+250788123456', true, 'infinity')$$, '22023', null,
  'an infinite clock is rejected (its window would never end)');
select throws_ok($$select public.update_whatsapp_session_activity('+250788123456', true, '-infinity')$$, '22023', null,
  '... and so is -infinity');
select throws_ok($$update public.whatsapp_sessions set expires_at = 'infinity' where phone_number = '+250788123456'$$, '23514', null,
  'the table refuses an infinite window, whoever writes it');

-- a linked user reads their own session
update public.whatsapp_sessions set user_id = tests.get_supabase_uid('wa_alice') where phone_number = '+250788123456';
select tests.authenticate_as('wa_alice');
select is((select count(*)::int from public.whatsapp_sessions), 1, 'a linked user reads their own session');
select throws_ok($$select public.update_whatsapp_session_activity('+250788000000')$$, '42501', null, 'users cannot record activity');
select throws_ok($$update public.whatsapp_sessions set user_id = auth.uid()$$, '42501', null, 'users cannot link a number to themselves');
select tests.authenticate_as('wa_bob');
select is_empty($$select 1 from public.whatsapp_sessions$$, 'another user reads nothing');
select tests.clear_authentication();
select throws_ok($$select 1 from public.whatsapp_sessions$$, '42501', null, 'anon reads nothing');

select * from finish();
rollback;
