-- Usage: model pricing, plans and feature gates, credits (two-phase),
-- record_usage and its cost arithmetic, usage reads, rate limiting — every
-- RPC for anon, the owner, another user, an admin and the service role.
-- Time is injected (p_now, or `set local app.usage_now`), never slept.
begin;
select plan(194);

select tests.create_supabase_user('u_alice');                                         -- basic (no plan row)
select tests.create_supabase_user('u_bob');                                           -- pro
select tests.create_supabase_user('u_carol');                                         -- enterprise
select tests.create_supabase_user('u_dave');                                          -- pro, inactive => basic
select tests.create_supabase_user('u_admin', app_metadata => '{"role":"admin"}');

-- ===========================================================================
-- Seed data: the plan catalog and the models
-- ===========================================================================
select is((select array_agg(plan_name order by tier) from public.plans), array['basic', 'pro', 'enterprise'],
  'the plan catalog is basic, pro, enterprise');
select is((select max_requests from public.plan_rate_limits where plan_name = 'basic' and endpoint = 'chat'), 10,
  'basic chat is 10 a minute (seed 001)');
select is((select max_requests from public.plan_rate_limits where plan_name = 'pro' and endpoint = 'chat'), 50,
  'pro chat is 50 a minute (seed 001)');
select is((select max_requests from public.plan_rate_limits where plan_name = 'enterprise' and endpoint = 'chat'), null,
  'enterprise chat is unlimited (seed 001)');
select is((select count(*)::int from public.model_config where is_default), 3, 'one default model for each of the three providers');
select is((select model_id from public.model_config where provider = 'openai' and is_default), 'gpt-4o', 'gpt-4o is OpenAI''s default');
select is((select count(*)::int from public.model_config where model_id in (
  'gemini-2.0-flash', 'gemini-2.5-flash', 'gemini-2.5-pro', 'gemma-3', 'gpt-4o', 'gpt-4o-mini', 'gpt-4-turbo',
  'claude-3-5-sonnet-20241022', 'claude-3-5-haiku-20241022', 'claude-3-opus-20240229')), 10, 'seed 002''s ten models are there');
select is((select count(*)::int from public.model_price_history where model_id = 'gpt-4o'), 1, 'each seeded model has its first price in the history');

-- ===========================================================================
-- model_config: who reads and writes, one default per provider
-- ===========================================================================
select tests.authenticate_as('u_alice');
select cmp_ok((select count(*)::int from public.model_config), '>=', 10, 'a user reads the models');
select throws_ok($$insert into public.model_config (model_id, name, provider, input_pricing_per_million_tokens, output_pricing_per_million_tokens)
                   values ('x-1', 'X', 'openai', 1, 1)$$, '42501', null, 'a user cannot add a model');
select is_empty($$update public.model_config set input_pricing_per_million_tokens = 0 where model_id = 'gpt-4o' returning 1$$,
  'a user cannot change a price');
select is_empty($$delete from public.model_config where model_id = 'gpt-4o-mini' returning 1$$, 'a user cannot delete a model');

select tests.clear_authentication();
select throws_ok($$select 1 from public.model_config$$, '42501', null, 'anon cannot read models');

select tests.authenticate_as('u_admin');
select lives_ok($$insert into public.model_config (model_id, name, provider, input_pricing_per_million_tokens, output_pricing_per_million_tokens)
                  values ('test-model-1', 'Test 1', 'openai', 1.0000, 2.0000)$$, 'an admin adds a model');
update public.model_config set is_default = true where model_id = 'test-model-1';
select is((select array_agg(model_id) from public.model_config where provider = 'openai' and is_default), array['test-model-1'],
  'making a model the default unsets the provider''s previous default');
select throws_ok($$update public.model_config set is_default = false where model_id = 'test-model-1'$$, 'PT409',
  'cannot unset the default model of provider openai: make another model the default instead', 'the last default cannot be unset');
select throws_ok($$delete from public.model_config where model_id = 'test-model-1'$$, 'PT409', null, 'the default cannot be deleted');
select throws_ok($$update public.model_config set is_active = false where model_id = 'test-model-1'$$, '23514', null,
  'the default must be active');
update public.model_config set is_default = true where model_id = 'gpt-4o';
select lives_ok($$delete from public.model_config where model_id = 'test-model-1'$$, 'an admin deletes a non-default model');
select throws_ok($$insert into public.model_config (model_id, name, provider, input_pricing_per_million_tokens, output_pricing_per_million_tokens)
                   values ('neg', 'Neg', 'openai', -1, 1)$$, '23514', null, 'a negative price is rejected');

-- ===========================================================================
-- Plans
-- ===========================================================================
select tests.authenticate_as_service_role();
select is((public.set_user_plan(tests.get_supabase_uid('u_bob'), 'pro', p_now => '2026-03-10 12:00+00')).plan_name, 'pro',
  'set_user_plan puts a user on a plan');
select is((select reset_date from public.user_plans where user_id = tests.get_supabase_uid('u_bob')), date '2026-03-10',
  'a new plan is anchored at today');
select is((public.set_user_plan(tests.get_supabase_uid('u_carol'), 'enterprise')).plan_name, 'enterprise', 'carol is on enterprise');
select is((public.set_user_plan(tests.get_supabase_uid('u_dave'), 'pro', p_active => false)).active, false, 'dave''s pro plan is inactive');
select is((public.set_user_plan(tests.get_supabase_uid('u_bob'), 'pro', p_now => '2026-04-01 00:00+00')).reset_date, date '2026-03-10',
  'renewing the same plan keeps its anchor');
select throws_ok($$select public.set_user_plan(tests.get_supabase_uid('u_alice'), 'platinum')$$, '22023', 'unknown plan "platinum"',
  'an unknown plan is rejected');
select throws_ok($$select public.set_user_plan(tests.get_supabase_uid('u_alice'), 'pro', p_max_credits_per_day => -1)$$, '22023',
  'invalid credits: must not be negative', 'negative credits are rejected');
select throws_ok($$select public.set_user_plan('00000000-0000-0000-0000-00000000dead', 'pro')$$, '23503', null,
  'an unknown user is rejected');
select is((select count(*)::int from public.user_plans where user_id = tests.get_supabase_uid('u_alice')), 0,
  'rejected set_user_plan calls wrote nothing');

select tests.authenticate_as('u_alice');
select throws_ok($$select public.set_user_plan(tests.get_supabase_uid('u_alice'), 'enterprise')$$, '42501', null,
  'a user cannot set their own plan');
select is(public.get_user_plan() ->> 'plan_name', 'basic', 'a user with no plan row is on basic');
select is((public.get_user_plan() ->> 'is_default_plan')::boolean, true, '... and get_user_plan says it is the default');
select is((public.get_user_plan() ->> 'max_credits_per_day')::numeric, 1.00, 'basic has 1 credit a day');
select is(public.get_user_plan() -> 'features', '["chat", "video_upload", "quiz_generation", "api"]'::jsonb, 'basic''s features');
select is((select count(*)::int from public.user_plans), 0, 'alice sees no one''s plan rows');
select throws_ok(format('select public.get_user_plan(%L)', tests.get_supabase_uid('u_bob')), '42501',
  'only admins may read another user''s plan', 'a user cannot read another user''s plan');
select is(public.require_feature('chat'), true, 'require_feature passes for a feature of the plan');
select throws_ok($$select public.require_feature('ai_chat')$$, 'PT403', 'feature "ai_chat" requires the pro plan; your plan is basic',
  'require_feature names the feature, the plan needed and the user''s plan (seed 001 FeatureGateError)');
select throws_ok($$select public.require_feature('teleport')$$, '22023', 'unknown feature "teleport"', 'an unknown feature is 22023');
select throws_ok($$select public.require_feature(null)$$, '22023', 'unknown feature "null"', 'a null feature is 22023');

select tests.authenticate_as('u_bob');
select is(public.get_user_plan() ->> 'plan_name', 'pro', 'bob is on pro');
select is(public.require_feature('ai_chat'), true, 'pro unlocks ai_chat');
select throws_ok($$select public.require_feature('custom_models')$$, 'PT403',
  'feature "custom_models" requires the enterprise plan; your plan is pro', 'enterprise features are gated for pro');
select is((select count(*)::int from public.user_plans), 1, 'bob sees his own plan row');

select tests.authenticate_as('u_dave');
select is(public.get_user_plan() ->> 'plan_name', 'basic', 'an inactive plan row means basic');
select throws_ok($$select public.require_feature('ai_chat')$$, 'PT403', 'feature "ai_chat" requires the pro plan; your plan is basic',
  'an inactive pro plan unlocks nothing');

select tests.authenticate_as('u_admin');
select is(public.get_user_plan(tests.get_supabase_uid('u_bob')) ->> 'plan_name', 'pro', 'an admin reads another user''s plan');
select cmp_ok((select count(*)::int from public.user_plans), '>=', 3, 'an admin reads every plan row');
select throws_ok(format('select public.set_user_plan(%L, ''enterprise'')', tests.get_supabase_uid('u_admin')), '42501', null,
  'an admin cannot call set_user_plan (service role only)');

select tests.clear_authentication();
select is((select count(*)::int from public.plans), 3, 'the plan catalog is public (pricing pages)');
select throws_ok($$select public.get_user_plan()$$, '42501', null, 'anon cannot call get_user_plan');
select throws_ok($$select public.require_feature('chat')$$, '42501', null, 'anon cannot call require_feature');
select throws_ok($$select 1 from public.user_plans$$, '42501', null, 'anon cannot read user_plans');

-- The billing month follows the anchor, clamped to short months.
select tests.reset_role();
select is((select row(month_start, next_month_start)::text from private.credit_period(tests.get_supabase_uid('u_alice'), '2026-02-10 08:00+00')),
  '(2026-02-01,2026-03-01)', 'without a plan row the credit month is the calendar month');
update public.user_plans set reset_date = '2026-01-31' where user_id = tests.get_supabase_uid('u_bob');
select is((select row(month_start, next_month_start)::text from private.credit_period(tests.get_supabase_uid('u_bob'), '2026-02-28 12:00+00')),
  '(2026-02-28,2026-03-31)', 'an anchor on the 31st restarts on February''s last day, then on the 31st');
select is((select row(month_start, next_month_start)::text from private.credit_period(tests.get_supabase_uid('u_bob'), '2026-02-27 12:00+00')),
  '(2026-01-31,2026-02-28)', '... and the day before, the month is still January''s');
update public.user_plans set reset_date = '2026-03-10' where user_id = tests.get_supabase_uid('u_bob');

-- ===========================================================================
-- record_usage: cost arithmetic, rows, idempotency, bad input
-- ===========================================================================
select tests.authenticate_as_service_role();
-- gpt-4o: $2.50 in, $1.25 cached in, $10 out per million.
-- 800k uncached x 2.50 + 200k cached x 1.25 = 2.00 + 0.25; 500k out x 10 = 5.00.
select is((public.record_usage(tests.get_supabase_uid('u_alice'), 'gpt-4o', 1000000, 500000, 200000, 100000,
                               p_agent_type => 'chat_model_agent', p_duration_ms => 1500, p_idempotency_key => 'k-1',
                               p_now => '2026-03-10 12:00+00')).total_cost,
  7.2500000000, 'cost = uncached input + cached input + output at the model''s prices');
select is((select row(input_cost, output_cost, input_price_per_million, cached_input_price_per_million, output_price_per_million)::text
             from public.usage_logs where idempotency_key = 'k-1'),
  '(2.2500000000,5.0000000000,2.5000,1.2500,10.0000)', 'the row keeps its costs and the prices it was charged at');
select is((select row(total_tokens, provider, request_timestamp, response_timestamp)::text from public.usage_logs where idempotency_key = 'k-1'),
  '(1500000,openai,"2026-03-10 11:59:58.5+00","2026-03-10 12:00:00+00")', 'tokens, provider and timestamps are recorded');
-- claude-3-5-sonnet: 1234 x $3 / 1e6 = 0.003702; 567 x $15 / 1e6 = 0.008505.
select is((public.record_usage(tests.get_supabase_uid('u_alice'), 'claude-3-5-sonnet-20241022', 1234, 567,
                               p_agent_type => 'document_agent', p_idempotency_key => 'k-2', p_now => '2026-03-10 12:01+00')).total_cost,
  0.0122070000, 'small calls are costed exactly (no float rounding)');
select is((public.record_usage(tests.get_supabase_uid('u_alice'), 'claude-3-5-sonnet-20241022', 1000, 1000,
                               p_agent_type => 'document_agent', p_now => '2026-03-10 12:02+00')).total_cost,
  0.0180000000, 'a call without an idempotency key is recorded');
select is((select row(requests_count, input_tokens, output_tokens, total_tokens, total_cost)::text from public.daily_usage
            where user_id = tests.get_supabase_uid('u_alice') and date = '2026-03-10' and model_name = 'claude-3-5-sonnet-20241022'),
  '(2,2234,1567,3801,0.0302070000)', 'daily_usage sums the day''s calls per model');

-- The same idempotency key again: the first row comes back, nothing is added.
select is((public.record_usage(tests.get_supabase_uid('u_alice'), 'claude-3-5-sonnet-20241022', 99, 99,
                               p_agent_type => 'document_agent', p_idempotency_key => 'k-2', p_now => '2026-03-10 12:03+00')).total_cost,
  0.0122070000, 'a repeated idempotency key returns the first call''s row');
select is((select count(*)::int from public.usage_logs where user_id = tests.get_supabase_uid('u_alice')), 3,
  '... and records nothing');
select is((select requests_count from public.daily_usage where user_id = tests.get_supabase_uid('u_alice')
            and model_name = 'claude-3-5-sonnet-20241022'), 2, '... not even in daily_usage');

-- A price change does not rewrite history.
update public.model_config set input_pricing_per_million_tokens = 6, output_pricing_per_million_tokens = 30
 where model_id = 'claude-3-5-sonnet-20241022';
select is((select total_cost from public.usage_logs where idempotency_key = 'k-2'), 0.0122070000,
  'a price change leaves past costs as they were');
select is((public.record_usage(tests.get_supabase_uid('u_alice'), 'claude-3-5-sonnet-20241022', 1234, 567,
                               p_agent_type => 'document_agent', p_now => '2026-03-10 12:04+00')).total_cost,
  0.0244140000, 'new calls use the new price');
select is((select count(*)::int from public.model_price_history where model_id = 'claude-3-5-sonnet-20241022'), 2,
  'the price change is in the history');
update public.model_config set input_pricing_per_million_tokens = 3, output_pricing_per_million_tokens = 15
 where model_id = 'claude-3-5-sonnet-20241022';

-- Bad input: specific errors, nothing recorded.
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', -1, 10)$$, tests.get_supabase_uid('u_alice')), '22023',
  'invalid tokens: input and output tokens must be 0 or more', 'negative tokens are rejected');
select throws_ok(format($$select public.record_usage(%L, 'gpt-5-imaginary', 10, 10)$$, tests.get_supabase_uid('u_alice')), '22023',
  'unknown model "gpt-5-imaginary"', 'an unknown model is rejected');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', 10, 10, p_cached_input_tokens => 11)$$, tests.get_supabase_uid('u_alice')),
  '22023', 'invalid cached input tokens: must be between 0 and the input tokens', 'more cached than input tokens is rejected');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', 10, 10, p_reasoning_tokens => 11)$$, tests.get_supabase_uid('u_alice')),
  '22023', 'invalid reasoning tokens: must be between 0 and the output tokens', 'more reasoning than output tokens is rejected');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', 10, 10, p_agent_type => 'Bad Agent')$$, tests.get_supabase_uid('u_alice')),
  '22023', null, 'a malformed agent type is rejected');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', 10, 10, p_metadata => '[1]')$$, tests.get_supabase_uid('u_alice')),
  '22023', 'invalid metadata: must be a JSON object of at most 16 KiB', 'array metadata is rejected');
select throws_ok($$select public.record_usage('00000000-0000-0000-0000-00000000dead', 'gpt-4o', 10, 10)$$, '23503', null,
  'an unknown user is rejected');
select is((select count(*)::int from public.usage_logs where user_id = tests.get_supabase_uid('u_alice')), 4,
  'rejected calls recorded nothing');

-- Conversations (chat domain): their token and cost totals move with record_usage.
select tests.reset_role();
insert into public.conversations (id, user_id, title)
values ('00000000-0000-4000-a000-0000000000c1', tests.get_supabase_uid('u_bob'), 'Bob''s chat'),
       ('00000000-0000-4000-a000-0000000000c2', tests.get_supabase_uid('u_carol'), 'Carol''s chat');
select tests.authenticate_as_service_role();
-- gpt-4o-mini: 1000 x 0.15 + 500 x 0.60 = 0.00045; 2000 x 0.15 + 100 x 0.60 = 0.00036 (per million)
select public.record_usage(tests.get_supabase_uid('u_bob'), 'gpt-4o-mini', 1000, 500,
  p_conversation_id => '00000000-0000-4000-a000-0000000000c1', p_idempotency_key => 'conv-1', p_now => '2026-04-15 10:00+00');
select public.record_usage(tests.get_supabase_uid('u_bob'), 'gpt-4o-mini', 2000, 100,
  p_conversation_id => '00000000-0000-4000-a000-0000000000c1', p_now => '2026-04-15 10:01+00');
select is((select row(total_input_tokens, total_output_tokens, total_cost)::text from public.conversations
            where id = '00000000-0000-4000-a000-0000000000c1'), '(3000,600,0.000810)',
  'record_usage adds each call''s tokens and cost to its conversation');
select public.record_usage(tests.get_supabase_uid('u_bob'), 'gpt-4o-mini', 1000, 500,
  p_conversation_id => '00000000-0000-4000-a000-0000000000c1', p_idempotency_key => 'conv-1', p_now => '2026-04-15 10:02+00');
select is((select total_input_tokens from public.conversations where id = '00000000-0000-4000-a000-0000000000c1'), 3000::bigint,
  'a repeated idempotency key does not bump the conversation again');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o-mini', 10, 10, p_conversation_id => '00000000-0000-4000-a000-0000000000c2')$$,
                        tests.get_supabase_uid('u_bob')), '23503',
  'conversation 00000000-0000-4000-a000-0000000000c2 not found for this user', 'usage cannot be charged to another user''s conversation');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o-mini', 10, 10, p_conversation_id => gen_random_uuid())$$,
                        tests.get_supabase_uid('u_bob')), '23503', null, 'an unknown conversation is rejected');
select is((select row(total_input_tokens, total_cost)::text from public.conversations where id = '00000000-0000-4000-a000-0000000000c2'),
  '(0,0.000000)', '... and nothing was recorded or bumped');
select tests.reset_role();
delete from public.conversations where id = '00000000-0000-4000-a000-0000000000c1';
select is((select count(*)::int || '/' || count(conversation_id) from public.usage_logs where user_id = tests.get_supabase_uid('u_bob')
            and response_timestamp >= '2026-04-15'), '2/0', 'deleting the conversation keeps its usage rows, unlinked');

select tests.authenticate_as('u_alice');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', 10, 10)$$, tests.get_supabase_uid('u_alice')), '42501', null,
  'users cannot record usage (only the server that made the call)');
select tests.clear_authentication();
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', 10, 10)$$, tests.get_supabase_uid('u_alice')), '42501', null,
  'anon cannot record usage');

-- ===========================================================================
-- Usage reads: RLS, summary (seed 002), daily series
-- ===========================================================================
select tests.authenticate_as_service_role();
select public.record_usage(tests.get_supabase_uid('u_bob'), 'gpt-4o-mini', 100, 100, p_now => '2026-03-09 10:00+00');
select tests.authenticate_as('u_alice');
select is((select count(*)::int from public.usage_logs), 4, 'a user sees only their own usage_logs');
select is((select count(*)::int from public.daily_usage), 2, 'a user sees only their own daily_usage');
select is((select row(total_calls, total_input_tokens, total_output_tokens, total_tokens, total_cost)::text
             from public.get_current_user_usage_summary('2026-03-01', '2026-03-31')),
  '(4,1003468,502134,1505602,7.3046210000)', 'the usage summary totals the caller''s calls');
select is((select agent_breakdown -> 'document_agent' from public.get_current_user_usage_summary('2026-03-01', '2026-03-31')),
  '{"calls": 3, "total_cost": 0.0546210000, "input_tokens": 3468, "total_tokens": 5602, "output_tokens": 2134}'::jsonb,
  'agent_breakdown has calls, tokens and cost per agent type');
select is((select total_calls from public.get_current_user_usage_summary('2026-03-11', '2026-03-31')), 0::bigint,
  'a range without calls sums to zero');
select is((select agent_breakdown from public.get_current_user_usage_summary('2026-03-11', '2026-03-31')), '{}'::jsonb,
  '... with an empty breakdown');
select is(jsonb_array_length(public.get_current_user_daily_usage('2026-03-08', '2026-03-11')), 4, 'the daily series has one element per day');
select is(public.get_current_user_daily_usage('2026-03-09', '2026-03-10'),
  '[{"date": "2026-03-09", "requests": 0, "total_cost": 0, "input_tokens": 0, "total_tokens": 0, "output_tokens": 0},
    {"date": "2026-03-10", "requests": 4, "total_cost": 7.3046210000, "input_tokens": 1003468, "total_tokens": 1505602, "output_tokens": 502134}]'::jsonb,
  'days without calls are zeros; other days sum the models');
select throws_ok($$select * from public.get_current_user_usage_summary('2026-03-31', '2026-03-01')$$, '22023',
  'invalid date range: p_start_date must be on or before p_end_date', 'a reversed range is rejected');
select throws_ok($$select public.get_current_user_daily_usage('2024-01-01', '2026-01-01')$$, '22023',
  'invalid date range: at most 366 days', 'a range over a year is rejected');

select tests.authenticate_as('u_bob');
select is((select count(*)::int from public.usage_logs where user_id = tests.get_supabase_uid('u_alice')), 0,
  'another user''s usage is invisible');
select is((select total_calls from public.get_current_user_usage_summary('2026-03-01', '2026-03-31')), 1::bigint,
  'the summary is the caller''s own, never someone else''s');

select tests.authenticate_as('u_admin');
select cmp_ok((select count(*)::int from public.usage_logs), '>=', 5, 'an admin reads every usage_logs row');
select is((select total_calls from public.get_current_user_usage_summary('2026-03-01', '2026-03-31')), 0::bigint,
  'an admin''s own summary is still only their own');

select tests.clear_authentication();
select throws_ok($$select 1 from public.usage_logs$$, '42501', null, 'anon cannot read usage_logs');
select throws_ok($$select * from public.get_current_user_usage_summary()$$, '42501', null, 'anon cannot read a usage summary');
select throws_ok($$select public.get_current_user_daily_usage()$$, '42501', null, 'anon cannot read the daily series');

-- ===========================================================================
-- Credits: check, reserve, settle, void, expiry, windows
-- ===========================================================================
-- carol (enterprise: 100 a day, 2000 a month) at a fixed time.
select tests.authenticate_as_service_role();
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 60, p_idempotency_key => 'r-1',
                                  p_now => '2026-03-10 09:00+00') ->> 'allowed')::boolean, true, 'a reservation under the cap is allowed');
select tests.remember('r1', (select id from private.credit_reservations where idempotency_key = 'r-1'));
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 50, p_now => '2026-03-10 09:00+00') ->> 'reason'),
  'daily_credit_limit', 'a reservation over the daily cap (60 held + 50 > 100) is refused');
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 60, p_idempotency_key => 'r-1',
                                  p_now => '2026-03-10 09:00+00') -> 'credits' -> 'day' ->> 'reserved')::numeric, 60::numeric,
  'the same idempotency key returns the first reservation and holds nothing more');
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 60, p_idempotency_key => 'r-1',
                                  p_now => '2026-03-10 09:00+00') ->> 'reservation_id'),
          (select id::text from private.credit_reservations where idempotency_key = 'r-1'), '... with its id');

-- Settle for less than held: spent = actual, the hold is gone.
select is((public.record_usage(tests.get_supabase_uid('u_carol'), 'gpt-4o', 2000000, 1000000,
          p_reservation_id => tests.id('r1'),
          p_now => '2026-03-10 09:01+00')).total_cost, 15.0000000000, 'record_usage settles the reservation at the actual cost');
select is((select status from private.credit_reservations where idempotency_key = 'r-1'), 'settled', 'the reservation is settled');
select is((select row(d ->> 'used', d ->> 'reserved', d ->> 'remaining')::text
             from (select private.credit_status(tests.get_supabase_uid('u_carol'), '2026-03-10 09:02+00') -> 'day' as d) as s),
  '(15.0000000000,0,85.0000000000)', 'after settling, the day shows the actual cost used and nothing held');
select throws_ok(format($$select public.record_usage(%L, 'gpt-4o', 1, 1, p_reservation_id => %L, p_now => '2026-03-10 09:03+00')$$,
                        tests.get_supabase_uid('u_carol'), tests.id('r1')),
  'PT409', null, 'a reservation settles only once');
select throws_ok(format($$select public.void_credit_reservation(%L)$$, tests.id('r1')),
  'PT409', null, 'a settled reservation cannot be voided');

-- Void: the hold goes away at once; voiding twice is harmless.
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 80, p_idempotency_key => 'r-2',
                                  p_now => '2026-03-10 10:00+00') ->> 'allowed')::boolean, true, '15 used + 80 held fits in 100');
select tests.remember('r2', (select id from private.credit_reservations where idempotency_key = 'r-2'));
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 10, p_now => '2026-03-10 10:00+00') ->> 'allowed')::boolean,
  false, '15 used + 80 held + 10 does not');
select is(public.void_credit_reservation(tests.id('r2')) ->> 'status', 'voided',
  'a failed call''s reservation is voided');
select is(public.void_credit_reservation(tests.id('r2')) ->> 'status', 'voided',
  'voiding twice is a no-op');
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 80, p_idempotency_key => 'r-3',
                                  p_ttl => '5 minutes', p_now => '2026-03-10 10:00+00') ->> 'allowed')::boolean, true,
  'the voided hold no longer counts');
select tests.remember('r3', (select id from private.credit_reservations where idempotency_key = 'r-3'));
select throws_ok($$select public.void_credit_reservation('00000000-0000-0000-0000-00000000beef')$$, 'PT404', null,
  'voiding an unknown reservation is PT404');

-- Expiry: an abandoned hold stops counting after its ttl.
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 80, p_now => '2026-03-10 10:04+00') ->> 'allowed')::boolean,
  false, 'a live hold counts');
select is((public.reserve_credits(tests.get_supabase_uid('u_carol'), p_amount => 80, p_idempotency_key => 'r-4',
                                  p_now => '2026-03-10 10:06+00') ->> 'allowed')::boolean, true,
  'an expired hold does not (no sweeper needed)');
select is((public.record_usage(tests.get_supabase_uid('u_carol'), 'gpt-4o-mini', 1000, 1000,
          p_reservation_id => tests.id('r3'),
          p_now => '2026-03-10 10:07+00')).total_cost, 0.0007500000, 'a late result still settles an expired reservation');

-- Windows reset by date, without a job.
select is((private.credit_status(tests.get_supabase_uid('u_carol'), '2026-03-11 00:00+00') -> 'day' ->> 'used')::numeric, 0::numeric,
  'the next UTC day starts at zero');
select is((private.credit_status(tests.get_supabase_uid('u_carol'), '2026-03-11 00:00+00') -> 'month' ->> 'used')::numeric, 15.00075,
  '... while the month keeps counting');
select is((private.credit_status(tests.get_supabase_uid('u_carol'), '2026-03-10 12:00+00') -> 'day' ->> 'resets_at'),
  '2026-03-11T00:00:00+00:00', 'the day resets at UTC midnight');

-- Monthly cap.
select public.set_user_plan(tests.get_supabase_uid('u_dave'), 'pro', p_reset_date => '2026-03-01', p_max_credits_per_month => 12);
select is((public.reserve_credits(tests.get_supabase_uid('u_dave'), p_amount => 9, p_ttl => '1 day', p_now => '2026-03-10 09:00+00') ->> 'allowed')::boolean,
  true, 'a hold under both caps is allowed');
select is((public.reserve_credits(tests.get_supabase_uid('u_dave'), p_amount => 9, p_now => '2026-03-11 08:00+00') ->> 'reason'),
  'monthly_credit_limit', 'the monthly cap counts holds of other days');
-- Estimate from a model: gpt-4o-mini, 1000 in x $0.15 + 1000 out x $0.60 per million.
select is((public.reserve_credits(tests.get_supabase_uid('u_dave'), p_model => 'gpt-4o-mini', p_input_tokens => 1000,
                                  p_max_output_tokens => 1000, p_now => '2026-03-10 09:00+00') ->> 'amount')::numeric,
  0.00075, 'an estimate from a model is the worst-case cost of its tokens');

-- Bad input.
select throws_ok(format($$select public.reserve_credits(%L)$$, tests.get_supabase_uid('u_dave')), '22023',
  'invalid estimate: give p_amount, or p_model with p_input_tokens and p_max_output_tokens', 'a reservation needs an estimate');
select throws_ok(format($$select public.reserve_credits(%L, p_amount => 0)$$, tests.get_supabase_uid('u_dave')), '22023',
  'invalid amount: must be greater than 0', 'a zero reservation is rejected');
select throws_ok(format($$select public.reserve_credits(%L, p_model => 'nope', p_input_tokens => 1, p_max_output_tokens => 1)$$,
                        tests.get_supabase_uid('u_dave')), '22023', 'unknown model "nope"', 'an unknown model is rejected');
select throws_ok(format($$select public.reserve_credits(%L, p_model => 'gpt-4o', p_input_tokens => -1, p_max_output_tokens => 1)$$,
                        tests.get_supabase_uid('u_dave')), '22023', null, 'negative token estimates are rejected');
select throws_ok(format($$select public.reserve_credits(%L, p_amount => 1, p_ttl => '2 days')$$, tests.get_supabase_uid('u_dave')), '22023',
  'invalid ttl: must be between 1 second and 1 day', 'a ttl over a day is rejected');

-- check_credits for each role.
select tests.authenticate_as('u_alice');
set local app.usage_now = '2026-03-10 18:00+00';
select is((public.check_credits() -> 'day' ->> 'used')::numeric, 7.3046210000, 'check_credits shows the caller''s spend today');
select is((public.check_credits() -> 'day' ->> 'remaining')::numeric, 0::numeric, '... and nothing left once over the basic cap (post-paid usage)');
select is((public.check_credits() ->> 'allowed')::boolean, false, '... so allowed is false');
select is((public.check_credits() -> 'month' ->> 'resets_at'), '2026-04-01T00:00:00+00:00', 'the basic month resets on the 1st');
select throws_ok(format('select public.check_credits(%L)', tests.get_supabase_uid('u_bob')), '42501',
  'only admins may check another user''s credits', 'a user cannot check another user''s credits');
select throws_ok(format($$select public.reserve_credits(%L, p_amount => 1)$$, tests.get_supabase_uid('u_alice')), '42501', null,
  'users cannot reserve credits');
select throws_ok(format($$select public.void_credit_reservation(%L)$$, (select gen_random_uuid())), '42501', null,
  'users cannot void reservations');
select tests.authenticate_as('u_bob');
select is((public.check_credits() -> 'day' ->> 'used')::numeric, 0::numeric, 'bob''s day is his own');
select tests.authenticate_as('u_admin');
select is((public.check_credits(tests.get_supabase_uid('u_alice')) -> 'day' ->> 'used')::numeric, 7.3046210000,
  'an admin checks another user''s credits');
select tests.clear_authentication();
select throws_ok($$select public.check_credits()$$, '42501', null, 'anon cannot check credits');
reset app.usage_now;

-- ===========================================================================
-- Rate limiting (GCRA), at an injected time
-- ===========================================================================
select tests.authenticate_as('u_alice');
set local app.usage_now = '2026-03-10 12:00:00+00';
select is((select count(*)::int from generate_series(1, 10) as g
            where (public.check_rate_limit('chat') ->> 'allowed')::boolean), 10, 'basic: 10 chat calls in a minute are allowed');
select is(public.check_rate_limit('chat') - 'windows' - 'reset_at',
  '{"allowed": false, "endpoint": "chat", "cost": 1, "reason": "rate_limited", "policy": "chat:60", "limit": 10, "window_seconds": 60,
    "remaining": 0, "reset_after_seconds": 60, "retry_after_seconds": 6}'::jsonb,
  'the 11th is denied with limit, remaining, reset and retry-after for the headers');
select is((select row(denied_count, limit_value, window_start)::text from public.rate_limit_violations
            where user_id = tests.get_supabase_uid('u_alice')), '(1,10,"2026-03-10 12:00:00+00")', 'the denial is logged');
select is((public.check_rate_limit('chat') ->> 'allowed')::boolean, false, 'denied again');
select is((select count(*)::int || '/' || sum(denied_count) from public.rate_limit_violations
            where user_id = tests.get_supabase_uid('u_alice')), '1/2', 'denials in the same minute share one row (bounded)');
select is((public.get_rate_limit_status('chat') ->> 'remaining')::int, 0, 'the denied calls consumed nothing');
set local app.usage_now = '2026-03-10 12:00:05+00';
select is((public.check_rate_limit('chat') ->> 'allowed')::boolean, false, '5 s later: not yet');
set local app.usage_now = '2026-03-10 12:00:06+00';
select is((public.check_rate_limit('chat') ->> 'allowed')::boolean, true, '6 s later one request has been earned back');
select is((public.check_rate_limit('chat') ->> 'allowed')::boolean, false, '... exactly one');
set local app.usage_now = '2026-03-10 12:01:06+00';
select is((public.get_rate_limit_status('chat') ->> 'remaining')::int, 10, 'a minute later the quota is full');
select is((public.get_rate_limit_status('chat') ->> 'remaining')::int, 10, 'the status call consumes nothing');
select is((public.check_rate_limit('chat', 4) ->> 'remaining')::int, 6, 'a call can cost more than 1');
select is(public.check_rate_limit('chat', 11) ->> 'reason', 'cost_exceeds_limit', 'a cost above the limit can never pass');
select is((public.get_rate_limit_status('chat') ->> 'remaining')::int, 6, '... and consumed nothing');
select is((public.check_rate_limit('video_upload') -> 'limit')::int, 5, 'video upload is limited per hour (5 on basic)');
select throws_ok($$select public.check_rate_limit('teleport')$$, '22023', 'unknown endpoint "teleport"', 'an unknown endpoint is rejected');
select throws_ok($$select public.check_rate_limit('chat', 0)$$, '22023', 'invalid cost: must be between 1 and 1000000', 'a cost of 0 is rejected');
select throws_ok($$select public.check_rate_limit('Chat; drop')$$, '22023', null, 'a malformed endpoint is rejected');
select throws_ok(format('select public.check_rate_limit(''chat'', 1, %L)', tests.get_supabase_uid('u_bob')), '42501',
  'only the service role may check another user''s rate limit', 'a user cannot spend another user''s quota');
select is((select count(*)::int from public.rate_limit_violations), 2, 'a user sees their own violations (one row per minute)');

-- All windows together, all or nothing: 5 a minute and 3 an hour.
select tests.reset_role();
insert into public.plan_rate_limits (plan_name, endpoint, window_seconds, max_requests)
values ('basic', 'test_multi', 60, 5), ('basic', 'test_multi', 3600, 3);
select tests.authenticate_as('u_alice');
select is((select count(*)::int from generate_series(1, 4) as g where (public.check_rate_limit('test_multi') ->> 'allowed')::boolean), 3,
  'the tighter of two windows decides');
select is(public.get_rate_limit_status('test_multi') -> 'windows' -> 0 ->> 'remaining', '2',
  'the denied call took nothing from the window that allowed it');
select is(public.check_rate_limit('test_multi') ->> 'policy', 'test_multi:3600', 'the denial names the window that denied');

-- Plans set the limits.
select tests.authenticate_as('u_bob');
select is((public.check_rate_limit('chat') -> 'limit')::int, 50, 'pro: 50 chat calls a minute');
select tests.authenticate_as('u_carol');
select is(public.check_rate_limit('chat') - 'windows', '{"allowed": true, "endpoint": "chat", "cost": 1, "reason": null, "policy": null,
  "limit": null, "window_seconds": null, "remaining": null, "reset_at": null, "reset_after_seconds": null, "retry_after_seconds": null}'::jsonb,
  'enterprise: unlimited');
select is((select count(*)::int from public.rate_limit_violations), 0, 'carol sees no one else''s violations');

-- Reset (seed 001 resetLimit): admins and the service role.
select tests.authenticate_as('u_alice');
select throws_ok(format('select public.reset_rate_limit(%L, ''chat'')', tests.get_supabase_uid('u_alice')), '42501',
  'only admins and the service role may reset rate limits', 'a user cannot reset their own limit');
select tests.authenticate_as('u_admin');
select is(public.reset_rate_limit(tests.get_supabase_uid('u_alice'), 'chat'), 1, 'an admin resets a user''s chat limit');
select cmp_ok((select count(*)::int from public.rate_limit_violations), '>=', 2, 'an admin reads every violation');
select throws_ok(format('select public.reset_rate_limit(%L, ''teleport'')', tests.get_supabase_uid('u_alice')), '22023',
  'unknown endpoint "teleport"', 'resetting an unknown endpoint is rejected');
select tests.authenticate_as_service_role();
select is((public.check_rate_limit('chat', 1, tests.get_supabase_uid('u_alice')) ->> 'remaining')::int, 9,
  'after the reset the quota is full (the service role may check for a user)');
select is(public.reset_rate_limit(tests.get_supabase_uid('u_alice')), 4, 'the service role resets every endpoint of a user');
select throws_ok($$select public.check_rate_limit('chat')$$, '42501', 'you must be signed in to be rate limited',
  'the service role must name the user');
select tests.clear_authentication();
select throws_ok($$select public.check_rate_limit('chat')$$, '42501', null, 'anon cannot call check_rate_limit');
select throws_ok($$select public.get_rate_limit_status('chat')$$, '42501', null, 'anon cannot call get_rate_limit_status');
select throws_ok($$select 1 from public.rate_limit_violations$$, '42501', null, 'anon cannot read violations');

-- The service role on the user-facing reads, and anon on the admin ones.
select tests.authenticate_as_service_role();
select is(public.get_user_plan(tests.get_supabase_uid('u_carol')) ->> 'plan_name', 'enterprise', 'the service role reads any user''s plan');
select is((public.check_credits(tests.get_supabase_uid('u_carol')) ->> 'plan_name'), 'enterprise', 'the service role checks any user''s credits');
select throws_ok($$select public.check_credits()$$, '22023', 'invalid user: p_user_id is required for the service role',
  'the service role must name the user whose credits it checks');
select throws_ok($$select public.require_feature('chat')$$, '42501', null, 'require_feature is for signed-in users');
select throws_ok($$select * from public.get_current_user_usage_summary()$$, '42501', null, 'the usage summary is for signed-in users');
select is((public.get_rate_limit_status('chat', 1, tests.get_supabase_uid('u_bob')) ->> 'limit')::int, 50,
  'the service role reads any user''s rate-limit status');
select tests.clear_authentication();
select throws_ok(format('select public.reset_rate_limit(%L)', tests.get_supabase_uid('u_alice')), '42501', null, 'anon cannot reset rate limits');
select throws_ok(format($$select public.reserve_credits(%L, p_amount => 1)$$, tests.get_supabase_uid('u_alice')), '42501', null,
  'anon cannot reserve credits');

-- Housekeeping.
select tests.reset_role();
select cmp_ok(private.purge_rate_limit_state('2027-01-01'), '>=', 1, 'state that no longer limits anyone is purged');
select is(private.purge_rate_limit_violations('30 days', '2027-01-01'), (select count(*)::int from public.rate_limit_violations where window_start < '2026-12-02'),
  'old violations are purged');

select is((select schedule from private.scheduled_job_status where jobname = 'purge-rate-limit-state'), '*/15 * * * *',
  'rate-limit state is purged by pg_cron every 15 minutes');
select is((select command from private.scheduled_job_status where jobname = 'purge-rate-limit-violations'), 'select private.purge_rate_limit_violations()',
  'old rate-limit violations are purged by pg_cron daily');

-- Write quotas (private.consume_quota): the plan's limit for the endpoint, then PT429.
select tests.authenticate_as('u_alice');
set local app.usage_now = '2026-03-11 08:00:00+00';
select is((select max_requests from public.plan_rate_limits where plan_name = 'basic' and endpoint = 'telemetry'), 120,
  'basic telemetry writes: 120 a minute');
select lives_ok($$select private.consume_quota('telemetry') from generate_series(1, 120)$$, 'basic: 120 telemetry writes in a minute pass');
select throws_ok($$select private.consume_quota('telemetry')$$, 'PT429', 'rate limit exceeded for telemetry: try again in 1 seconds',
  'the 121st is PT429 and says when to retry');
select throws_ok($$select private.consume_quota('no_such_quota')$$, '22023', null, 'an endpoint without rules is a loud error, not unlimited');
select tests.authenticate_as_service_role();
select lives_ok($$select private.consume_quota('telemetry') from generate_series(1, 500)$$, 'the service role is not limited');
select tests.clear_authentication();
select throws_ok($$select private.consume_quota('telemetry')$$, '42501', null, 'anon cannot call it');
reset app.usage_now;

select * from finish();
rollback;
