-- The outbound WhatsApp queue: validation, priority, scheduled send, one claim
-- per message, retries with exponential backoff, dead after the last attempt,
-- dedupe, roles. Parallel senders are in tests/integrations.test.ts.
begin;
select plan(35);

select tests.create_supabase_user('waq_alice');

select tests.authenticate_as_service_role();
-- nothing else of the whatsapp queue may interfere: park what is there
select tests.reset_role();
update private.jobs set run_at = now() + interval '50 years' where queue_name = 'whatsapp' and status = 'queued';
select tests.authenticate_as_service_role();

select tests.remember('low', (public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"low"}', 2, p_now => '2030-01-01 00:00+00')).id);
select tests.remember('high', (public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"high"}', 9, p_now => '2030-01-01 00:00+00')).id);
select tests.remember('later', (public.enqueue_whatsapp_message('+250788000001', 'template', '{"name":"reminder","language":"en"}', 5,
                                  p_send_at => '2030-01-01 06:00+00', p_now => '2030-01-01 00:00+00')).id);

select is((select status from public.whatsapp_message_queue where id = tests.bigint_id('low')), 'queued', 'a message is queued');
select is((select recipient_phone from public.whatsapp_message_queue where id = tests.bigint_id('low')), '+250788123456',
  'the view shows the recipient');
select is((select message_payload from public.whatsapp_message_queue where id = tests.bigint_id('low')), '{"text":"low"}'::jsonb,
  'and the payload');
select is((select max_attempts from public.whatsapp_message_queue where id = tests.bigint_id('low')), 5, 'five attempts by default');
select is((public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"once"}', p_dedupe_key => 'order-7', p_now => '2030-01-01 00:00+00')).id,
  (public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"once"}', p_dedupe_key => 'order-7', p_now => '2030-01-01 00:00+00')).id,
  'the same dedupe key queues one message');
select tests.reset_role();
update private.jobs set run_at = now() + interval '50 years' where queue_name = 'whatsapp' and dedupe_key = 'order-7';
select tests.authenticate_as_service_role();

-- validation
select throws_ok($$select public.enqueue_whatsapp_message('0788123456', 'text', '{"text":"x"}')$$, '22023',
  'invalid p_recipient_phone: must be an E.164 number such as +250788123456', 'a non-E.164 recipient is rejected');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'fax', '{}')$$, '22023',
  'invalid p_message_type: must be one of text, template, image, document, audio, video, location, interactive', 'an unknown type is rejected');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'text', '{"body":"x"}')$$, '22023',
  'invalid p_message_payload: a text message needs "text", 1 to 4096 characters', 'a text message without text is rejected');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'template', '{}')$$, '22023',
  'invalid p_message_payload: a template message needs "name"', 'a template without a name is rejected');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'image', '[]')$$, '22023',
  'invalid p_message_payload: must be a JSON object', 'an array payload is rejected');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"x"}', 11)$$, '22023',
  'invalid p_priority: 1 to 10 (higher is sent first)', 'priority 11 is rejected');
select is((select count(*)::int from public.whatsapp_message_queue where recipient_phone = '+250788123456' and scheduled_at < now() + interval '10 years'), 2,
  'rejected messages were not queued');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"x"}', p_send_at => '-infinity')$$, '22023',
  null, 'a send time of -infinity (ahead of every message) is rejected');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"x"}', p_send_at => now() + interval '11 years')$$, '22023',
  null, 'a send time more than 10 years ahead is rejected');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"x"}', p_now => 'infinity')$$, '22023',
  null, 'an infinite clock is rejected');

-- claims
select results_eq($$select message_payload ->> 'text' from public.claim_whatsapp_messages('sender-1', 10, '2030-01-01 00:00:01+00')$$,
  $$values ('high'), ('low')$$, 'due messages are claimed highest priority first; the scheduled one waits');
select is_empty($$select 1 from public.claim_whatsapp_messages('sender-2', 10, '2030-01-01 00:00:02+00')$$,
  'a claimed message is not handed to a second sender');
select is((select locked_by from public.whatsapp_message_queue where id = tests.bigint_id('high')), 'sender-1',
  'the claim is leased to its sender');
select is((public.complete_whatsapp_message(tests.bigint_id('high'), 'sender-1', 'wamid.HBg1', '2030-01-01 00:00:03+00')).status,
  'completed', 'a delivered message is completed');
select is((select provider_message_id from public.whatsapp_message_queue where id = tests.bigint_id('high')), 'wamid.HBg1',
  'with the provider''s message id');
select throws_ok(format($$select public.complete_whatsapp_message(%s, 'sender-2')$$, tests.bigint_id('low')), 'PT409', null,
  'another sender cannot complete a message it does not hold');

-- retries with exponential backoff, then dead
select is((public.fail_whatsapp_message(tests.bigint_id('low'), 'sender-1', 'rate limited', true, '2030-01-01 00:00:10+00')).status,
  'queued', 'a failed send with attempts left is queued again');
select ok((select scheduled_at between '2030-01-01 00:00:25+00' and '2030-01-01 00:00:40+00'
             from public.whatsapp_message_queue where id = tests.bigint_id('low')),
  'the first retry waits 15-30 s (30 s base, equal jitter)');
select is((select count(*)::int from public.claim_whatsapp_messages('sender-1', 10, '2030-01-01 00:00:11+00')), 0, 'not before the backoff');
select is((select count(*)::int from public.claim_whatsapp_messages('sender-1', 10, '2030-01-01 00:01:00+00')), 1, 'claimable once due');
select lives_ok($$select public.fail_whatsapp_message(tests.bigint_id('low'), 'sender-1', 'e2', true, '2030-01-01 00:01:01+00')$$, 'attempt 2 fails');
select ok((select scheduled_at between '2030-01-01 00:01:31+00' and '2030-01-01 00:02:01+00'
             from public.whatsapp_message_queue where id = tests.bigint_id('low')),
  'the second retry waits 30-60 s: the delay doubles');
select is((select count(*)::int from public.claim_whatsapp_messages('s', 1, '2030-01-01 01:00+00')), 1, 'attempt 3');
select lives_ok($$select public.fail_whatsapp_message(tests.bigint_id('low'), 's', 'e3', true, '2030-01-01 01:00+00')$$, 'fails');
select is((select count(*)::int from public.claim_whatsapp_messages('s', 1, '2030-01-01 02:00+00')), 1, 'attempt 4');
select lives_ok($$select public.fail_whatsapp_message(tests.bigint_id('low'), 's', 'e4', true, '2030-01-01 02:00+00')$$, 'fails');
select is((select count(*)::int from public.claim_whatsapp_messages('s', 1, '2030-01-01 03:00+00')), 1, 'attempt 5, the last');
select is((public.fail_whatsapp_message(tests.bigint_id('low'), 's', 'e5', true, '2030-01-01 03:00+00')).status, 'dead',
  'after the last attempt the message is dead');

select tests.authenticate_as('waq_alice');
select throws_ok($$select public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"spam"}')$$, '42501', null,
  'users cannot send WhatsApp messages');
select throws_ok($$select 1 from public.whatsapp_message_queue$$, '42501', null, 'users cannot read the queue');

select * from finish();
rollback;
