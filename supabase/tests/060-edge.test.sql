-- Edge: the RPCs the edge functions call. health_check() and
-- ingest_webhook_event() are service-role only; the webhook inbox is unique on
-- (provider, webhook id) and applies each event once, in event-time order.
begin;
select plan(54);

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
    '2026-11-01 10:00+00') - 'event_id',
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
  public.ingest_webhook_event('whop', 'msg_1', 'membership.activated', '{"type":"membership.activated","data":{"id":"mem_1"}}', '2026-11-01 10:00+00') - 'event_id',
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
    '2026-11-01 12:00+00') ->> 'outcome',
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
    '2026-11-01 11:00+00') ->> 'outcome',
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
    'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))), '2026-11-01 10:00+00');
select public.ingest_webhook_event('whop', 'msg_b2', 'membership.activated',
  jsonb_build_object('data', jsonb_build_object('id', 'mem_b2', 'plan', jsonb_build_object('id', 'plan_pro_test'),
    'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))), '2026-11-01 10:05+00');
select public.ingest_webhook_event('whop', 'msg_b3', 'membership.deactivated',
  jsonb_build_object('data', jsonb_build_object('id', 'mem_b1', 'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))),
  '2026-11-01 11:00+00');
select tests.reset_role();
select is((select plan_name from public.user_plans where user_id = tests.get_supabase_uid('bob')), 'pro',
  'bob stays on pro while his other membership is valid');
select tests.authenticate_as_service_role();
select public.ingest_webhook_event('whop', 'msg_b4', 'membership.deactivated',
  jsonb_build_object('data', jsonb_build_object('id', 'mem_b2', 'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))),
  '2026-11-01 11:05+00');
select tests.reset_role();
select is((select plan_name from public.user_plans where user_id = tests.get_supabase_uid('bob')), 'basic',
  'and goes to basic when none is');
select is((select outcome_detail from private.webhook_events where webhook_id = 'msg_3'), 'older than the membership''s current state',
  'the inbox says why it was ignored');

select tests.authenticate_as_service_role();
select is(
  public.ingest_webhook_event('whop', 'msg_4', 'membership.activated',
    jsonb_build_object('data', jsonb_build_object('id', 'mem_2', 'plan', jsonb_build_object('id', 'plan_unknown'),
      'metadata', jsonb_build_object('user_id', tests.get_supabase_uid('bob')))), '2026-11-01 10:00+00') ->> 'outcome',
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
    '{"data":{"id":"pay_1","total":"19.99","currency":"usd","user":{"email":"bob@test.local"}}}', '2026-11-01 10:00+00') ->> 'outcome',
  'applied', 'payment.succeeded is recorded');
select is(
  public.ingest_webhook_event('whop', 'msg_7', 'payment.failed', '{"data":{"id":"pay_1"}}', '2026-11-01 09:00+00') ->> 'outcome',
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

select tests.reset_role();
select * from finish();
rollback;
