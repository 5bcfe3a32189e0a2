-- Administration, hardened: feature-flag evaluation (what every user calls)
-- is bounded; admins' model prices are finite; every free-form argument of
-- the admin RPCs and tables has a size limit.
begin;
select plan(16);

select tests.create_supabase_user('ah_user');
select tests.create_supabase_user('ah_admin', app_metadata => '{"role":"admin"}');

select tests.authenticate_as('ah_admin');
select public.upsert_feature_flag('hardening-flag', p_enabled => true);

-- ---------------------------------------------------------------------------
-- Evaluation: a user's context, key and environment are bounded
-- ---------------------------------------------------------------------------
select tests.authenticate_as('ah_user');
select throws_ok($$select public.evaluate_feature_flag('hardening-flag', p_context => jsonb_build_object('blob', repeat(md5(random()::text), 160000)))$$,
  '22023', 'invalid p_context: at most 16384 bytes of JSON', 'a 5 MB evaluation context is refused');
select throws_ok($$select public.is_feature_enabled('hardening-flag', p_context => jsonb_build_object('blob', repeat('x', 20000)))$$,
  '22023', 'invalid p_context: at most 16384 bytes of JSON', '... by is_feature_enabled too');
select throws_ok($$select public.is_feature_enabled(repeat('k', 101))$$,
  '22023', 'invalid p_flag_key: at most 100 characters', 'an oversized flag key is refused');
select throws_ok($$select public.evaluate_feature_flag('hardening-flag', p_environment => repeat('e', 33))$$,
  '22023', 'invalid p_environment: at most 32 characters', 'an oversized environment is refused');
select is(public.is_feature_enabled('hardening-flag', p_context => '{"country":"DE"}'), true, 'a normal context still evaluates');
select is((select count(*)::int from public.feature_flag_evaluations where flag_key = 'hardening-flag'), 1,
  '... and the refused calls recorded nothing');

-- ---------------------------------------------------------------------------
-- Admin RPCs: finite prices, bounded text and JSON
-- ---------------------------------------------------------------------------
select tests.authenticate_as('ah_admin');
select throws_ok($$select public.add_model_config('nan-model', 'NaN', 'openai', 'NaN', 1)$$,
  '22023', 'invalid p_input_pricing_per_million_tokens: must be a finite number', 'add_model_config refuses a NaN price');
select throws_ok($$select public.update_model_config('gpt-4o', p_output_pricing_per_million_tokens => 'NaN')$$,
  '22023', 'invalid p_output_pricing_per_million_tokens: must be a finite number', 'update_model_config refuses a NaN price');
select is((select output_pricing_per_million_tokens from public.model_config where model_id = 'gpt-4o') <> 'NaN', true,
  '... and the price is unchanged');
select throws_ok($$select public.add_model_config('big-model', 'Big', 'openai', 1, 1, p_metadata => jsonb_build_object('x', repeat('m', 20000)))$$,
  '22023', 'invalid p_metadata: at most 16384 bytes of JSON', 'model metadata is capped at 16 KiB');
select throws_ok($$select public.add_model_config('long-model', 'Long', 'openai', 1, 1, p_description => repeat('d', 2001))$$,
  '22023', 'invalid p_description: at most 2000 characters', 'a model description is capped at 2000 characters');
select throws_ok($$select public.upsert_feature_flag('nan-flag', p_strategy => 'percentage', p_rollout_percentage => 'NaN')$$,
  '22023', 'invalid p_rollout_percentage: must be a finite number', 'a NaN rollout is refused');
select throws_ok($$select public.upsert_feature_flag('big-flag', p_strategy => 'condition',
                     p_conditions => jsonb_build_array(jsonb_build_object('attribute', 'a', 'operator', 'in', 'values', jsonb_build_array(repeat('v', 70000)))))$$,
  '22023', 'invalid p_conditions: at most 65536 bytes of JSON', 'flag conditions are capped at 64 KiB');
select throws_ok($$select public.set_config('svc', 'key', '"v"', p_description => repeat('d', 2001))$$,
  '22023', 'invalid p_description: at most 2000 characters', 'a configuration''s description is capped');
select throws_ok($$insert into public.admin_config (config_key, config_data) values ('big_settings', jsonb_build_object('x', repeat('y', 70000)))$$,
  '22023', 'invalid config_data: at most 65536 bytes of JSON', 'admin_config rows are capped at 64 KiB through the table');

select tests.authenticate_as_service_role();
select throws_ok($$update public.feature_flags set rollout_percentage = 'NaN' where flag_key = 'hardening-flag'$$,
  '23514', null, 'no feature flag stores a NaN rollout');

select * from finish();
rollback;
