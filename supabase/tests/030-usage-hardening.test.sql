-- Usage, hardened: no NaN or infinite money or clock, bounded arguments, and
-- durability: money-moving calls commit synchronously; record_usage commits
-- asynchronously but writes usage and credits in one transaction, so they
-- always agree (private.credit_usage_drift stays empty).
begin;
select plan(26);

select tests.create_supabase_user('h_user');
select tests.create_supabase_user('h_admin', app_metadata => '{"role":"admin"}');

-- ---------------------------------------------------------------------------
-- NaN and infinity: arguments (22023) and columns (23514)
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select throws_ok(format($$select public.reserve_credits(%L, p_amount => 'NaN')$$, tests.get_supabase_uid('h_user')),
  '22023', 'invalid p_amount: must be a finite number', 'reserve_credits refuses a NaN amount');
select throws_ok(format($$select public.reserve_credits(%L, p_amount => 'Infinity')$$, tests.get_supabase_uid('h_user')),
  '22023', 'invalid p_amount: must be a finite number', '... and an infinite one');
select throws_ok(format($$select public.reserve_credits(%L, p_amount => 1, p_now => '-infinity')$$, tests.get_supabase_uid('h_user')),
  '22023', 'invalid p_now: must be a finite time', 'reserve_credits refuses an infinite clock');
select throws_ok(format($$select public.set_user_plan(%L, 'pro', p_max_credits_per_day => 'NaN')$$, tests.get_supabase_uid('h_user')),
  '22023', 'invalid p_max_credits_per_day: must be a finite number', 'set_user_plan refuses NaN credits');
select throws_ok(format($$select public.set_user_plan(%L, 'pro', p_now => 'infinity')$$, tests.get_supabase_uid('h_user')),
  '22023', 'invalid p_now: must be a finite time', '... and an infinite clock');
select throws_ok($$select public.void_credit_reservation(gen_random_uuid(), p_now => 'infinity')$$,
  '22023', 'invalid p_now: must be a finite time', 'void_credit_reservation refuses an infinite clock');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', 10, 10, p_now => 'infinity')$$, tests.get_supabase_uid('h_user')),
  '22023', 'invalid p_now: must be a finite time', 'record_usage refuses an infinite clock');
select throws_ok($$update public.plans set max_credits_per_day = 'NaN' where plan_name = 'basic'$$,
  '23514', null, 'a plan cannot hold NaN credits, even written by the service role');
select throws_ok($$update public.model_config set output_pricing_per_million_tokens = 'NaN' where model_id = 'gpt-4o'$$,
  '23514', null, 'a model cannot have a NaN price');
select throws_ok(format($$insert into public.user_plans (user_id, plan_name, reset_date, max_credits_per_month) values (%L, 'pro', current_date, 'NaN')$$,
    tests.get_supabase_uid('h_user')),
  '23514', null, 'a user plan cannot hold NaN credits');

select tests.authenticate_as('h_admin');
select throws_ok($$update public.model_config set input_pricing_per_million_tokens = 'NaN' where model_id = 'gpt-4o'$$,
  '23514', null, 'an admin cannot set a NaN price through the table endpoint');
select throws_ok($$update public.model_config set created_at = '2000-01-01' where model_id = 'gpt-4o'$$,
  '42501', null, 'an admin cannot backdate a model through the table endpoint (no RPC does)');

-- ---------------------------------------------------------------------------
-- Bounded arguments of what users call
-- ---------------------------------------------------------------------------
select tests.authenticate_as('h_user');
select throws_ok($$select public.require_feature(repeat('f', 101))$$,
  '22023', 'invalid feature: at most 100 characters', 'require_feature refuses an oversized feature name');
select throws_ok($$select public.get_current_user_usage_summary('-infinity', 'infinity')$$,
  '22023', 'invalid date range: p_start_date must be on or before p_end_date', 'an open date range is refused');
select throws_ok($$select public.check_rate_limit(repeat('a', 5000000))$$,
  '22023', 'invalid endpoint: lowercase letters, digits, _ : . - (at most 64)', 'a 5 MB endpoint name is refused');

-- ---------------------------------------------------------------------------
-- Durability: which calls commit synchronously
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
set local synchronous_commit = on;
select public.set_user_plan(tests.get_supabase_uid('h_user'), 'pro');
select is(current_setting('synchronous_commit'), 'on', 'set_user_plan leaves the commit synchronous');
select tests.remember('hold', (public.reserve_credits(tests.get_supabase_uid('h_user'), p_amount => 0.5) ->> 'reservation_id')::uuid);
select is(current_setting('synchronous_commit'), 'on', 'reserve_credits leaves the commit synchronous');
select tests.remember('hold2', (public.reserve_credits(tests.get_supabase_uid('h_user'), p_amount => 0.5) ->> 'reservation_id')::uuid);
select public.void_credit_reservation(tests.id('hold2'));
select is(current_setting('synchronous_commit'), 'on', 'void_credit_reservation leaves the commit synchronous');
select is_empty($$select p.proname from pg_catalog.pg_proc as p
                  where p.pronamespace = 'public'::regnamespace
                    and p.proname in ('set_user_plan', 'reserve_credits', 'void_credit_reservation', 'get_user_plan', 'check_credits')
                    and (pg_catalog.pg_get_functiondef(p.oid) ilike '%synchronous_commit%'
                         or coalesce(p.proconfig::text, '') ilike '%synchronous_commit%')$$,
  'no money-moving function turns synchronous commit off');

select public.record_usage(tests.get_supabase_uid('h_user'), 'gpt-4o', 1000, 500, p_reservation_id => tests.id('hold'));
select is(current_setting('synchronous_commit'), 'off', 'record_usage, and only it, commits asynchronously (docs/usage.md, Durability)');
select public.record_usage(tests.get_supabase_uid('h_user'), 'gpt-4o-mini', 2000, 100);
select public.record_usage(tests.get_supabase_uid('h_user'), 'gpt-4o', 10, 10, p_idempotency_key => 'k1');
select public.record_usage(tests.get_supabase_uid('h_user'), 'gpt-4o', 10, 10, p_idempotency_key => 'k1');

select tests.reset_role();
select is((select day_spent from private.credit_balances where user_id = tests.get_supabase_uid('h_user')),
          (select sum(total_cost) from public.usage_logs where user_id = tests.get_supabase_uid('h_user')),
  'credits spent equal the cost of the usage rows (the same transaction wrote both)');
select is((select sum(total_cost) from public.daily_usage where user_id = tests.get_supabase_uid('h_user')),
          (select sum(total_cost) from public.usage_logs where user_id = tests.get_supabase_uid('h_user')),
  '... and the daily aggregate agrees');
select is((select status from private.credit_reservations where id = tests.id('hold')), 'settled',
  '... and the settled reservation went with them');
select is_empty($$select * from private.credit_usage_drift() where user_id = tests.get_supabase_uid('h_user')$$,
  'the reconciliation check finds no drift');
insert into public.usage_logs (user_id, agent_type, model_used, provider, input_tokens, output_tokens, total_tokens,
  input_cost, output_cost, total_cost, input_price_per_million, output_price_per_million, cached_input_price_per_million,
  request_timestamp, response_timestamp)
values (tests.get_supabase_uid('h_user'), 'chat_model_agent', 'gpt-4o', 'openai', 1, 1, 2, 0.001, 0.001, 0.002, 1, 1, 1, now(), now());
select results_eq($$select usage_cost - credits_spent from private.credit_usage_drift() where user_id = tests.get_supabase_uid('h_user')$$,
  $$values (0.002::numeric)$$, '... and names a usage row written without its credits, with the difference');

select tests.authenticate_as('h_user');
select throws_ok($$select * from private.credit_usage_drift()$$, '42501', null, 'users cannot run the reconciliation check');

select * from finish();
rollback;
