-- Edge: the RPCs the edge functions call. health_check() and
-- ingest_webhook_event() are service-role only; the webhook inbox is unique on
-- (provider, webhook id) and applies each event once, in event-time order.
begin;
select plan(112);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('admin', app_metadata => '{"role":"admin"}');
insert into private.provider_plans (provider, provider_plan_id, plan) values ('whop', 'plan_pro_test', 'pro');
select throws_ok($$ insert into private.provider_plans (provider, provider_plan_id, plan) values ('whop', 'plan_x', 'gold') $$,
  '23503', null, 'a provider plan maps only to a plan that exists');

-- ---------------------------------------------------------------------------
-- health_check: who may call it
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$ select public.health_check() $$, '42501', 'permission denied for function health_check', 'anon cannot call health_check');
select tests.authenticate_as('alice');
select throws_ok($$ select public.health_check() $$, '42501', 'permission denied for function health_check', 'a user cannot call health_check');
select tests.authenticate_as('admin');
select throws_ok($$ select public.health_check() $$, '42501', 'permission denied for function health_check', 'an admin user cannot call health_check (it is for the health function)');
select tests.authenticate_as_service_role();
select is(public.health_check() -> 'database' ->> 'status', 'ok', 'service role: the database check is ok');
select matches(public.health_check() -> 'migrations' ->> 'latest', '^\d{14}$',
  'the migrations check names the latest applied migration');
select cmp_ok((public.health_check() -> 'migrations' ->> 'latest'), '>=', '20261122060000',
  'which is this migration or a later one');
select is(public.health_check() -> 'scheduled_jobs' ->> 'status', 'ok', 'no scheduled job is failing');
select is((select array_agg(k order by k) from jsonb_object_keys(public.health_check()) as k),
  array['cache', 'database', 'migrations', 'queue', 'scheduled_jobs'],
  'health_check reports database, migrations, scheduled jobs, queue and cache');
select is(public.health_check() -> 'queue' ->> 'status', 'ok', 'no queue backlog: the queue check is ok');
select is(public.health_check() -> 'cache' ->> 'status', 'ok', 'the cache check is ok');
select ok(public.health_check()::text !~* '(password|secret|postgresql://)', 'health_check output carries no secrets');

-- A backlog: a job ready for ten minutes degrades the queue check (and the report).
select tests.reset_role();
insert into private.job_queues (name) values ('health_test');
insert into private.jobs (queue_name, job_type, max_attempts, run_at) values ('health_test', 'health.test', 1, now() - interval '10 minutes');
select tests.authenticate_as_service_role();
select is(public.health_check() -> 'queue' ->> 'status', 'degraded', 'a job ready for ten minutes degrades the queue check');
select cmp_ok((public.health_check() -> 'queue' ->> 'oldest_ready_age_seconds')::int, '>=', 600, 'and reports how long it waited');
select tests.reset_role();
delete from private.jobs where queue_name = 'health_test';
insert into private.jobs (queue_name, job_type, max_attempts, status, locked_by, locked_until, started_at)
values ('health_test', 'health.test', 1, 'active', 'worker-gone', now() - interval '1 minute', now() - interval '6 minutes');
select tests.authenticate_as_service_role();
select is(public.health_check() -> 'queue' ->> 'lease_expired', '1', 'a lease that ran out is counted');
select is(public.health_check() -> 'queue' ->> 'status', 'degraded', 'and degrades the queue check');
select tests.reset_role();
delete from private.jobs where queue_name = 'health_test';

-- ---------------------------------------------------------------------------
-- ingest_webhook_event: who may call it
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_anon', 'member.created', '{}') $$,
  '42501', 'permission denied for function ingest_webhook_event', 'anon cannot ingest webhooks');
select tests.authenticate_as('alice');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_user', 'member.created', '{}') $$,
  '42501', 'permission denied for function ingest_webhook_event', 'a user cannot ingest webhooks');
select tests.authenticate_as('admin');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_admin', 'member.created', '{}') $$,
  '42501', 'permission denied for function ingest_webhook_event', 'an admin cannot ingest webhooks');
select tests.authenticate_as('alice');
select throws_ok($$ select count(*) from private.webhook_events $$, '42501', null, 'users cannot read the inbox');
select throws_ok($$ select count(*) from private.provider_memberships $$, '42501', null, 'users cannot read memberships');

-- ---------------------------------------------------------------------------
-- Applying events (service role)
-- ---------------------------------------------------------------------------
-- something cached under alice's membership tag before her plan changes
select tests.authenticate_as_service_role();
select public.set_cache('plan:alice', '"basic"', null, array['membership:' || tests.get_supabase_uid('alice')]);
select is(public.get_cache('plan:alice'), '"basic"'::jsonb, 'the cached plan is readable before the webhook');
select is(
  public.ingest_webhook_event('whop', 'msg_1', 'membership.activated',
    jsonb_build_object('type', 'membership.activated', 'data', jsonb_build_object(
      'id', 'mem_1', 'status', 'active', 'plan', jsonb_build_object('id', 'plan_pro_test'),
      'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('alice')))),
    (current_date - 1 + time '10:00')::timestamptz) - 'event_id',
  '{"duplicate": false, "outcome": "applied", "detail": "membership valid: plan pro"}'::jsonb,
  'membership.activated applies the mapped plan');
select tests.authenticate_as_service_role();
select is(public.get_cache('plan:alice'), null, 'and invalidates what was cached under the user''s membership tag');
select tests.reset_role();
select results_eq(
  $$ select user_id, valid, entitled_plan, status from private.provider_memberships where membership_id = 'mem_1' $$,
  $$ values (tests.get_supabase_uid('alice'), true, 'pro', 'active') $$,
  'the membership grants pro to alice');
select is((select plan_name from public.user_plans where user_id = tests.get_supabase_uid('alice')), 'pro',
  'alice is on pro (set_user_plan)');

select tests.authenticate_as_service_role();
select is(
  public.ingest_webhook_event('whop', 'msg_1', 'membership.activated', '{"type":"membership.activated","data":{"id":"mem_1"}}', (current_date - 1 + time '10:00')::timestamptz) - 'event_id',
  '{"duplicate": true, "outcome": "applied", "detail": "membership valid: plan pro"}'::jsonb,
  'the same webhook id again is a duplicate, reported with the first outcome');
select tests.reset_role();
select is((select count(*)::int from private.webhook_events where webhook_id = 'msg_1'), 1, 'a redelivery stores nothing new');
select is((select count(*)::int from private.webhook_events where webhook_id = 'msg_1' and provider = 'whop'), 1,
  'one inbox row per (provider, webhook id)');

select tests.authenticate_as_service_role();
select is(
  public.ingest_webhook_event('whop', 'msg_2', 'membership.deactivated',
    '{"type":"membership.deactivated","data":{"id":"mem_1","status":"canceled","user":{"email":"alice@test.local"}}}',
    (current_date - 1 + time '12:00')::timestamptz) ->> 'outcome',
  'applied', 'membership.deactivated applies (user found by email)');
select tests.reset_role();
select results_eq(
  $$ select valid, entitled_plan, status from private.provider_memberships where membership_id = 'mem_1' $$,
  $$ values (false, 'basic', 'canceled') $$, 'a deactivated membership grants basic');
select is((select plan_name from public.user_plans where user_id = tests.get_supabase_uid('alice')), 'basic',
  'alice is back on basic');

select tests.authenticate_as_service_role();
select is(
  public.ingest_webhook_event('whop', 'msg_3', 'membership.went_valid',
    jsonb_build_object('data', jsonb_build_object('id', 'mem_1', 'plan_id', 'plan_pro_test',
      'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('alice')))),
    (current_date - 1 + time '11:00')::timestamptz) ->> 'outcome',
  'ignored', 'an activation older than the stored state (delivered late) is ignored');
select tests.reset_role();
select is((select entitled_plan from private.provider_memberships where membership_id = 'mem_1'), 'basic',
  'the late activation changed nothing');
select is((select plan_name from public.user_plans where user_id = tests.get_supabase_uid('alice')), 'basic',
  'nor alice''s plan');

-- bob: two memberships; ending one keeps what the other still grants
select tests.authenticate_as_service_role();
select public.ingest_webhook_event('whop', 'msg_b1', 'membership.activated',
  jsonb_build_object('data', jsonb_build_object('id', 'mem_b1', 'plan', jsonb_build_object('id', 'plan_pro_test'),
    'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))), (current_date - 1 + time '10:00')::timestamptz);
select public.ingest_webhook_event('whop', 'msg_b2', 'membership.activated',
  jsonb_build_object('data', jsonb_build_object('id', 'mem_b2', 'plan', jsonb_build_object('id', 'plan_pro_test'),
    'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))), (current_date - 1 + time '10:05')::timestamptz);
select public.ingest_webhook_event('whop', 'msg_b3', 'membership.deactivated',
  jsonb_build_object('data', jsonb_build_object('id', 'mem_b1', 'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))),
  (current_date - 1 + time '11:00')::timestamptz);
select tests.reset_role();
select is((select plan_name from public.user_plans where user_id = tests.get_supabase_uid('bob')), 'pro',
  'bob stays on pro while his other membership is valid');
select tests.authenticate_as_service_role();
select public.ingest_webhook_event('whop', 'msg_b4', 'membership.deactivated',
  jsonb_build_object('data', jsonb_build_object('id', 'mem_b2', 'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))),
  (current_date - 1 + time '11:05')::timestamptz);
select tests.reset_role();
select is((select plan_name from public.user_plans where user_id = tests.get_supabase_uid('bob')), 'basic',
  'and goes to basic when none is');
select is((select outcome_detail from private.webhook_events where webhook_id = 'msg_3'), 'older than the membership''s current state',
  'the inbox says why it was ignored');

select tests.authenticate_as_service_role();
select is(
  public.ingest_webhook_event('whop', 'msg_4', 'membership.activated',
    jsonb_build_object('data', jsonb_build_object('id', 'mem_2', 'plan', jsonb_build_object('id', 'plan_unknown'),
      'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))), (current_date - 1 + time '10:00')::timestamptz) ->> 'outcome',
  'ignored', 'an unmapped plan grants nothing');
select tests.reset_role();
select is((select outcome_detail from private.webhook_events where webhook_id = 'msg_4'),
  'plan plan_unknown is not mapped in private.provider_plans', 'and is reported in the inbox');
select tests.authenticate_as_service_role();
select is(
  public.ingest_webhook_event('whop', 'msg_5', 'membership.activated',
    '{"data":{"id":"mem_3","plan":{"id":"plan_pro_test"},"user":{"email":"nobody@test.local"}}}') ->> 'outcome',
  'ignored', 'a membership for an unknown user is stored and ignored');

select is(
  public.ingest_webhook_event('whop', 'msg_6', 'payment.succeeded',
    '{"data":{"id":"pay_1","total":"19.99","currency":"usd","user":{"email":"bob@test.local"}}}', (current_date - 1 + time '10:00')::timestamptz) ->> 'outcome',
  'applied', 'payment.succeeded is recorded');
select is(
  public.ingest_webhook_event('whop', 'msg_7', 'payment.failed', '{"data":{"id":"pay_1"}}', (current_date - 1 + time '09:00')::timestamptz) ->> 'outcome',
  'ignored', 'an older payment event does not overwrite a newer status');
select tests.reset_role();
select results_eq(
  $$ select user_id, status, amount from private.provider_payments where payment_id = 'pay_1' $$,
  $$ values (tests.get_supabase_uid('bob'), 'succeeded', 19.99::numeric(14, 4)) $$, 'the payment keeps its latest status');

select tests.authenticate_as_service_role();
select is(public.ingest_webhook_event('whop', 'msg_8', 'member.created', '{"data":{"id":"mber_1"}}') ->> 'outcome',
  'stored', 'an unknown event type is stored and acknowledged');
select tests.reset_role();
select is((select payload from private.webhook_events where webhook_id = 'msg_8'), '{"data":{"id":"mber_1"}}'::jsonb,
  'the payload is kept as received');

-- ---------------------------------------------------------------------------
-- Bad input: specific errors, nothing stored
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select throws_ok($$ select public.ingest_webhook_event('Whop!', 'msg_x1', 'member.created', '{}') $$,
  '22023', 'invalid provider: must be 1 to 32 lowercase letters, digits or underscores', 'a malformed provider is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', '', 'member.created', '{}') $$,
  '22023', 'invalid webhook id: must be 1 to 200 characters', 'an empty webhook id is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_x3', '', '{}') $$,
  '22023', 'invalid event type: must be 1 to 200 characters', 'an empty event type is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_x4', 'member.created', '[1]') $$,
  '22023', 'invalid webhook payload: must be a JSON object', 'a payload that is not an object is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_x5', 'membership.activated', '{"data":{"plan":{"id":"plan_pro_test"}}}') $$,
  '22023', 'invalid webhook payload: membership event without data.id', 'a membership event without an id is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_x6', 'payment.succeeded', '{"data":"x"}') $$,
  '22023', 'invalid webhook payload: payment.succeeded without a data object', 'a payment event without a data object is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_x7', 'payment.succeeded', '{"data":{"id":"pay_2","total":"lots"}}') $$,
  '22023', 'invalid webhook payload: payment amount is not a number', 'a non-numeric amount is rejected');
select tests.reset_role();
select is((select count(*)::int from private.webhook_events where webhook_id like 'msg_x%'), 0,
  'a rejected event leaves no inbox row');

-- ---------------------------------------------------------------------------
-- Matching a user: metadata.user_id first; an email only when confirmed
-- ---------------------------------------------------------------------------
-- The attack: someone registers the victim's address first (never confirming
-- it); the victim then pays, and the provider's event names only the email.
select tests.create_supabase_user('squatter', email => 'victim@test.local');
update auth.users set email_confirmed_at = null where id = tests.get_supabase_uid('squatter');
select tests.authenticate_as_service_role();
select is(
  public.ingest_webhook_event('whop', 'msg_v1', 'membership.activated',
    '{"data":{"id":"mem_v1","plan":{"id":"plan_pro_test"},"user":{"email":"Victim@test.local"}}}') ->> 'outcome',
  'ignored', 'an email that matches only an unconfirmed account matches no one');
select tests.reset_role();
select is((select count(*)::int from public.user_plans where user_id = tests.get_supabase_uid('squatter') and plan_name <> 'basic'), 0,
  'the unconfirmed account does not get the plan');
select is((select count(*)::int from private.provider_memberships where membership_id = 'mem_v1'), 0,
  'and no membership is recorded for it');
update auth.users set email_confirmed_at = now() where id = tests.get_supabase_uid('squatter');
select tests.authenticate_as_service_role();
select is(
  public.ingest_webhook_event('whop', 'msg_v2', 'membership.activated',
    '{"data":{"id":"mem_v2","plan":{"id":"plan_pro_test"},"user":{"email":"victim@test.local"}}}') ->> 'outcome',
  'applied', 'once the address is confirmed, the email matches');
select is(
  public.ingest_webhook_event('whop', 'msg_v3', 'membership.activated',
    jsonb_build_object('data', jsonb_build_object('id', 'mem_v3', 'plan', jsonb_build_object('id', 'plan_pro_test'),
      'user', jsonb_build_object('email', 'victim@test.local'),
      'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob'))))) ->> 'outcome',
  'applied', 'metadata.user_id and an email naming different users ...');
select tests.reset_role();
select is((select user_id from private.provider_memberships where membership_id = 'mem_v3'), tests.get_supabase_uid('bob'),
  '... the user id from our checkout wins');

-- ---------------------------------------------------------------------------
-- Malformed but signed: every field bounded, 22023 (the webhook's 400)
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y1', 'payment.succeeded', '{"data":{"id":"pay_y1","total":"NaN"}}') $$,
  '22023', 'invalid webhook payload: payment amount must be a finite number', 'a NaN amount is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y2', 'payment.succeeded', '{"data":{"id":"pay_y2","total":"Infinity"}}') $$,
  '22023', 'invalid webhook payload: payment amount must be a finite number', 'an infinite amount is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y3', 'payment.succeeded', '{"data":{"id":"pay_y3","total":"-1"}}') $$,
  '22023', 'invalid webhook payload: payment amount must be between 0 and 10^10', 'a negative amount is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y4', 'payment.succeeded', '{"data":{"id":"pay_y4","total":"1e12"}}') $$,
  '22023', 'invalid webhook payload: payment amount must be between 0 and 10^10', 'an amount beyond the column is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y4b', 'payment.succeeded', '{"data":{"id":"pay_y4b","total":1e400}}') $$,
  '22023', 'invalid webhook payload: data.total must be a string of 1 to 40 characters', 'a 400-digit amount is rejected before it is parsed');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y5', 'payment.succeeded', '{"data":{"id":"pay_y5","total":{"value":1}}}') $$,
  '22023', 'invalid webhook payload: data.total must be a string of 1 to 40 characters', 'an amount that is an object is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y6', 'payment.succeeded', '{"data":{"id":"pay_y6","total":"1","currency":"dollars"}}') $$,
  '22023', 'invalid webhook payload: data.currency must be a string of 1 to 3 characters', 'a currency that is not a code is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y7', 'payment.succeeded', '{"data":{"id":"pay_y7","total":"1","currency":"12$"}}') $$,
  '22023', 'invalid webhook payload: data.currency must be a three-letter ISO 4217 code', 'a three-character currency that is not letters is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y8', 'membership.activated', '{"data":{"id":{"nested":true}}}') $$,
  '22023', 'invalid webhook payload: data.id must be a string of 1 to 200 characters', 'an id that is not a string is rejected');
select throws_ok(format($$ select public.ingest_webhook_event('whop', 'msg_y9', 'membership.activated', %L) $$,
    jsonb_build_object('data', jsonb_build_object('id', 'mem_y9', 'status', repeat('s', 51)))),
  '22023', 'invalid webhook payload: data.status must be a string of 1 to 50 characters', 'an endless status is rejected');
select throws_ok(format($$ select public.ingest_webhook_event('whop', 'msg_y10', 'member.created', %L) $$,
    jsonb_build_object('data', jsonb_build_object('blob', (select string_agg(md5(i::text), '') from generate_series(1, 9000) as i)))),
  '22023', 'invalid webhook payload: at most 262144 bytes of JSON', 'a payload over 256 KB is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y11', 'member.created', '{}', 'infinity') $$,
  '22023', null, 'an infinite event time is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y12', 'member.created', '{}', '-infinity') $$,
  '22023', null, 'a minus-infinite event time is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y13', 'member.created', '{}', now() + interval '1 day') $$,
  '22023', null, 'an event time in the future (which would shadow every later event) is rejected');
select throws_ok($$ select public.ingest_webhook_event('whop', 'msg_y14', 'member.created', '{}', now() - interval '2 years') $$,
  '22023', null, 'an event time years back is rejected');
select is(
  public.ingest_webhook_event('whop', 'msg_y15', 'payment.succeeded', '{"data":{"id":"pay_y15","total":12.5,"currency":"EUR"}}') ->> 'outcome',
  'applied', 'a JSON number amount is accepted');
select tests.reset_role();
select is((select count(*)::int from private.webhook_events where webhook_id ~ '^msg_y([0-9]|1[0-4])b?$'), 0,
  'no rejected event left an inbox row');
select throws_ok($$ insert into private.provider_payments (provider, payment_id, status, amount, last_event_at, last_webhook_id)
                   values ('whop', 'pay_nan', 'succeeded', 'NaN', now(), 'msg_nan') $$,
  '23514', null, 'provider_payments.amount refuses NaN even from SQL');
select throws_ok($$ insert into private.provider_memberships (provider, membership_id, user_id, status, entitled_plan, valid, last_event_at, last_webhook_id)
                   values ('whop', 'mem_inf', tests.get_supabase_uid('bob'), 'active', 'pro', true, 'infinity', 'msg_inf') $$,
  '23514', null, 'provider_memberships.last_event_at refuses infinity even from SQL');

-- ---------------------------------------------------------------------------
-- health_check copes with extreme run times in the queue
-- ---------------------------------------------------------------------------
-- -infinity when the queue allows it, else the earliest time PostgreSQL has.
do $$
begin
  insert into private.jobs (queue_name, job_type, max_attempts, run_at) values ('health_test', 'health.test', 1, '-infinity');
exception when check_violation then
  insert into private.jobs (queue_name, job_type, max_attempts, run_at) values ('health_test', 'health.test', 1, '4713-01-01 00:00+00 BC');
end;
$$;
select tests.authenticate_as_service_role();
select lives_ok($$ select public.health_check() $$, 'a job with an extreme run time does not break the health report');
select is(public.health_check() -> 'queue' ->> 'status', 'degraded', 'it is a backlog: the queue check is degraded');
select tests.reset_role();
delete from private.jobs where queue_name = 'health_test';

-- ---------------------------------------------------------------------------
-- Provider plan mapping: set / remove / list (admins and the service role)
-- ---------------------------------------------------------------------------
select tests.create_supabase_user('carol');
select tests.clear_authentication();
select throws_ok($$ select * from public.set_provider_plan('whop', 'plan_map', 'pro') $$,
  '42501', 'permission denied for function set_provider_plan', 'anon cannot map provider plans');
select throws_ok($$ select public.remove_provider_plan('whop', 'plan_map') $$,
  '42501', 'permission denied for function remove_provider_plan', 'anon cannot remove a mapping');
select throws_ok($$ select * from public.list_provider_plans() $$,
  '42501', 'permission denied for function list_provider_plans', 'anon cannot list the mappings');
select tests.authenticate_as('alice');
select throws_ok($$ select * from public.set_provider_plan('whop', 'plan_map', 'enterprise') $$,
  '42501', 'only admins may map provider plans', 'a user cannot map a plan (and grant themselves one)');
select throws_ok($$ select public.remove_provider_plan('whop', 'plan_pro_test') $$,
  '42501', 'only admins may map provider plans', 'a user cannot remove a mapping');
select throws_ok($$ select * from public.list_provider_plans() $$,
  '42501', 'only admins may read provider plans', 'a user cannot list the mappings');
select throws_ok($$ select * from private.set_provider_plan('whop', 'plan_map', 'enterprise') $$,
  '42501', 'only admins may map provider plans', 'nor through the private writer');

select tests.authenticate_as('admin');
select results_eq($$ select provider, provider_plan_id, plan from public.set_provider_plan('whop', 'plan_map', 'pro') $$,
  $$ values ('whop', 'plan_map', 'pro') $$, 'an admin maps a provider plan id to a plan and gets the mapping back');
select results_eq($$ select provider_plan_id, plan from public.list_provider_plans('whop') where provider_plan_id in ('plan_map', 'plan_pro_test') $$,
  $$ values ('plan_map', 'pro'), ('plan_pro_test', 'pro') $$, 'the admin lists the provider''s mappings, ordered by plan id');
select lives_ok($$ select * from public.set_provider_plan('whop', 'plan_map', 'pro') $$, 'setting the same plan again is accepted');
select results_eq($$ select plan from public.set_provider_plan('whop', 'plan_map', 'enterprise') $$,
  $$ values ('enterprise') $$, 'and another plan replaces the mapping');
select tests.reset_role();
select results_eq(
  $$ select actor_type::text, actor_identifier::text, actor_role::text, action::text, new_values ->> 'plan', changed_columns
       from public.system_audit_logs
      where resource_type = 'private.provider_plans' and new_values ->> 'provider_plan_id' = 'plan_map' order by created_at, action $$,
  format($$ values ('user', %L, 'admin', 'insert', 'pro', null::text[]), ('user', %L, 'admin', 'update', 'enterprise', array['plan']) $$,
         tests.get_supabase_uid('admin'), tests.get_supabase_uid('admin')),
  'each change is audited with the admin as actor; the unchanged set writes nothing');

-- bad input (as the admin): nothing is written
select tests.authenticate_as('admin');
select throws_ok($$ select * from public.set_provider_plan('Whop', 'plan_map', 'pro') $$, '22023',
  'invalid p_provider: must be 1 to 32 lowercase letters, digits or underscores, starting with a letter', 'a provider out of format is rejected');
select throws_ok($$ select * from public.set_provider_plan(null, 'plan_map', 'pro') $$, '22023', null, 'a null provider is rejected');
select throws_ok($$ select * from public.set_provider_plan('whop', '', 'pro') $$, '22023',
  'invalid p_provider_plan_id: 1 to 200 printable characters', 'an empty plan id is rejected');
select throws_ok($$ select * from public.set_provider_plan('whop', repeat('p', 201), 'pro') $$, '22023', null, 'a plan id over 200 characters is rejected');
select throws_ok($$ select * from public.set_provider_plan('whop', E'plan\nx', 'pro') $$, '22023', null, 'a plan id with a control character is rejected');
select throws_ok($$ select * from public.set_provider_plan('whop', null, 'pro') $$, '22023', null, 'a null plan id is rejected');
select throws_ok($$ select * from public.set_provider_plan('whop', 'plan_gold', 'gold') $$, '22023', 'invalid p_plan: no plan named gold',
  'a plan that does not exist is rejected');
select throws_ok($$ select * from public.set_provider_plan('whop', 'plan_gold', null) $$, '22023', null, 'a null plan is rejected');
select throws_ok($$ select public.remove_provider_plan('whop', repeat('p', 201)) $$, '22023', null, 'remove validates the plan id');
select throws_ok($$ select * from public.list_provider_plans('WHOP; drop') $$, '22023', null, 'list validates the provider');
select tests.reset_role();
select is((select count(*)::int from private.provider_plans where provider_plan_id not in ('plan_map', 'plan_pro_test')), 0,
  'no bad input wrote a mapping');

-- the service role maps and removes; a webhook then applies what is mapped
select tests.authenticate_as_service_role();
select results_eq($$ select plan from public.set_provider_plan('whop', 'plan_svc', 'pro') $$, $$ values ('pro') $$,
  'the service role maps a plan');
select is(public.ingest_webhook_event('whop', 'msg_map_1', 'membership.activated',
    jsonb_build_object('data', jsonb_build_object('id', 'mem_map', 'plan', jsonb_build_object('id', 'plan_map'),
      'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('carol')))), now() - interval '2 minutes') ->> 'detail',
  'membership valid: plan enterprise', 'an activation of the mapped plan applies the plan the admin set');
select is(public.ingest_webhook_event('whop', 'msg_map_2', 'membership.activated',
    jsonb_build_object('data', jsonb_build_object('id', 'mem_map', 'plan', jsonb_build_object('id', 'plan_svc'),
      'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('carol')))), now() - interval '1 minute') ->> 'detail',
  'membership valid: plan pro', 'a plan change of the membership applies the new plan''s mapping');
select tests.reset_role();
select is((select plan_name from public.user_plans where user_id = tests.get_supabase_uid('carol')), 'pro', 'carol is on pro');
select tests.authenticate_as_service_role();
select is(public.remove_provider_plan('whop', 'plan_svc'), true, 'the service role removes a mapping');
select is(public.remove_provider_plan('whop', 'plan_svc'), false, 'removing it again reports there was none');
select is(public.ingest_webhook_event('whop', 'msg_map_3', 'membership.activated',
    jsonb_build_object('data', jsonb_build_object('id', 'mem_map_2', 'plan', jsonb_build_object('id', 'plan_svc'),
      'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('carol')))), now()) ->> 'outcome',
  'ignored', 'an activation of a removed mapping is ignored as unmapped');
select tests.reset_role();
select results_eq(
  $$ select actor_type::text, actor_identifier::text, action::text from public.system_audit_logs
      where resource_type = 'private.provider_plans' and coalesce(new_values, old_values) ->> 'provider_plan_id' = 'plan_svc' order by created_at, action desc $$,
  $$ values ('service', 'service_role', 'insert'), ('service', 'service_role', 'delete') $$,
  'the service role''s changes are audited as the service''s');

select tests.reset_role();
select * from finish();
rollback;
