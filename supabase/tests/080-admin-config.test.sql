-- Admin: agent configs (seeded data, every validation rule, updated_by from
-- the JWT), per-agent rate limits read on every call, model administration.
begin;
select plan(71);

select tests.create_supabase_user('a_user');
select tests.create_supabase_user('a_other');
select tests.create_supabase_user('a_admin', app_metadata => '{"role":"admin"}');

-- ===========================================================================
-- Seed data: app_settings and 18 agent configs
-- ===========================================================================
select is((select config_data from public.admin_config where config_key = 'app_settings'),
  '{"activeProvider": "google", "availableProviders": ["google", "openai", "anthropic"]}'::jsonb,
  'app_settings: google active, three providers available (seed 002)');
select is((select count(*)::int from public.admin_config
            where config_key ~ '^(chat_model|provider_tools|document|python|mermaid|git_mcp)_agent_(google|openai|anthropic)$'), 18,
  'six agents x three providers = 18 agent configs');
select is((select config_data -> 'rateLimit' from public.admin_config where config_key = 'chat_model_agent_google'),
  '{"perMinute": 10, "perHour": 100, "perDay": 1000}'::jsonb, 'chat_model_agent: 10/min, 100/hour, 1000/day');
select is((select config_data -> 'rateLimit' from public.admin_config where config_key = 'provider_tools_agent_openai'),
  '{"perMinute": 8, "perHour": 80, "perDay": 500}'::jsonb, 'provider_tools_agent: 8/min, 80/hour, 500/day');
select is((select config_data -> 'rateLimit' from public.admin_config where config_key = 'mermaid_agent_anthropic'),
  '{"perMinute": 3, "perHour": 25, "perDay": 100}'::jsonb, 'mermaid_agent: 3/min, 25/hour, 100/day');
select is((select array_agg(k order by k) from public.admin_config, jsonb_object_keys(config_data -> 'tools') as k
            where config_key = 'chat_model_agent_google'),
  array['documentAgent', 'gitMcpAgent', 'mermaidAgent', 'providerToolsAgent', 'pythonAgent'],
  'chat_model_agent tools: the five sub-agents');
select is((select array_agg(k order by k) from public.admin_config, jsonb_object_keys(config_data -> 'tools') as k
            where config_key = 'provider_tools_agent_google'),
  array['codeExecution', 'googleSearch', 'urlContext'], 'provider_tools_agent_google tools: googleSearch, urlContext, codeExecution');
select is((select array_agg(k order by k) from public.admin_config, jsonb_object_keys(config_data -> 'tools') as k
            where config_key = 'python_agent_openai'),
  array['create', 'explain', 'fix', 'generate', 'revert', 'update'], 'python_agent tools: create, update, fix, explain, generate, revert');
select is((select array_agg(k order by k) from public.admin_config, jsonb_object_keys(config_data -> 'tools') as k
            where config_key = 'git_mcp_agent_anthropic'),
  array['branches', 'code_search', 'issues', 'pull_requests', 'repos', 'users'], 'git_mcp_agent tools (seed 002)');
select ok((select bool_and(t.value ? 'systemPrompt' and t.value ? 'userPromptTemplate')
             from public.admin_config, jsonb_each(config_data -> 'tools') as t where config_key = 'document_agent_google'),
  'each document_agent tool has systemPrompt and userPromptTemplate');

-- ===========================================================================
-- Validation (seed 002 validate_admin_config_data): each rule, its message,
-- nothing written
-- ===========================================================================
select tests.authenticate_as('a_admin');
select throws_ok($$insert into public.admin_config (config_key, config_data)
                   values ('document_agent_mistral', '{"rateLimit": {"perMinute": 1, "perHour": 1, "perDay": 1}, "tools": {}}')$$,
  '22023', 'invalid agent config document_agent_mistral: missing field "enabled"', 'an agent config needs enabled');
select throws_ok($$insert into public.admin_config (config_key, config_data)
                   values ('document_agent_mistral', '{"enabled": true, "tools": {}}')$$,
  '22023', 'invalid agent config document_agent_mistral: missing field "rateLimit"', 'an agent config needs rateLimit');
select throws_ok($$update public.admin_config set config_data = config_data #- '{rateLimit,perMinute}' where config_key = 'python_agent_google'$$,
  '22023', 'invalid agent config python_agent_google: missing field "rateLimit.perMinute"', 'rateLimit needs perMinute');
select throws_ok($$update public.admin_config set config_data = config_data #- '{rateLimit,perHour}' where config_key = 'python_agent_google'$$,
  '22023', 'invalid agent config python_agent_google: missing field "rateLimit.perHour"', 'rateLimit needs perHour');
select throws_ok($$update public.admin_config set config_data = config_data #- '{rateLimit,perDay}' where config_key = 'python_agent_google'$$,
  '22023', 'invalid agent config python_agent_google: missing field "rateLimit.perDay"', 'rateLimit needs perDay');
select throws_ok($$update public.admin_config set config_data = jsonb_set(config_data, '{rateLimit,perDay}', '0.5') where config_key = 'python_agent_google'$$,
  '22023', 'invalid agent config python_agent_google: "rateLimit.perDay" must be a whole number from 1 to 1000000', 'a limit is a positive whole number');
select throws_ok($$update public.admin_config set config_data = config_data - 'tools' where config_key = 'mermaid_agent_google'$$,
  '22023', 'invalid agent config mermaid_agent_google: missing field "tools"', 'a tool agent needs tools');
select throws_ok($$update public.admin_config set config_data = config_data - 'systemPrompt' where config_key = 'provider_tools_agent_google'$$,
  '22023', 'invalid agent config provider_tools_agent_google: missing field "systemPrompt"', 'provider_tools_agent needs systemPrompt');
select throws_ok($$update public.admin_config set config_data = config_data - 'capabilities' where config_key = 'chat_model_agent_google'$$,
  '22023', 'invalid agent config chat_model_agent_google: missing field "capabilities"', 'chat_model_agent needs capabilities');
select throws_ok($$update public.admin_config set config_data = config_data - 'tools' where config_key = 'chat_model_agent_google'$$,
  '22023', 'invalid agent config chat_model_agent_google: missing field "tools"', 'chat_model_agent needs tools');
select throws_ok($$update public.admin_config set config_data = '{"activeProvider": "mistral", "availableProviders": ["google"]}' where config_key = 'app_settings'$$,
  '22023', 'invalid admin_config app_settings: activeProvider "mistral" is not in availableProviders', 'app_settings: the active provider must be available');
select tests.reset_role();
select is((select count(*)::int from public.admin_config where config_key = 'document_agent_mistral'), 0, 'no rejected config was written');
select ok((select config_data -> 'rateLimit' ? 'perMinute' and config_data ? 'tools' from public.admin_config where config_key = 'python_agent_google'),
  'the rejected updates changed nothing');

-- a valid change: updated_by from the JWT, not from the statement
select tests.authenticate_as('a_admin');
update public.admin_config set config_data = jsonb_set(config_data, '{systemPrompt}', '"Be brief."')
 where config_key = 'git_mcp_agent_google';
select tests.reset_role();
select is((select updated_by from public.admin_config where config_key = 'git_mcp_agent_google'), tests.get_supabase_uid('a_admin'),
  'updated_by is the admin from the JWT');
select tests.authenticate_as('a_user');
select is_empty($$select 1 from public.admin_config$$, 'a user reads no admin_config');
select is_empty($$update public.admin_config set config_data = '{}' where config_key = 'app_settings' returning 1$$, 'a user cannot change admin_config');

-- ===========================================================================
-- Per-agent rate limits feed check_rate_limit, read on every call
-- ===========================================================================
set local app.usage_now = '2026-03-10 12:00:00+00';
select tests.authenticate_as('a_user');
select is((public.check_rate_limit('document_agent') ->> 'allowed')::boolean, true, 'agent endpoint: first call allowed');
select public.check_rate_limit('document_agent');
select public.check_rate_limit('document_agent');
select is((select jsonb_agg(w ->> 'bucket' order by w ->> 'bucket') from jsonb_array_elements(public.get_rate_limit_status('document_agent') -> 'windows') as w),
  '["agent:document_agent:3600", "agent:document_agent:60", "agent:document_agent:86400"]'::jsonb,
  'an agent endpoint checks the agent''s per-minute, per-hour and per-day windows');
select is((select (w ->> 'remaining')::int from jsonb_array_elements(public.get_rate_limit_status('document_agent') -> 'windows') as w
            where w ->> 'bucket' = 'agent:document_agent:60'), 2, '3 of document_agent''s 5 a minute used');
select is((public.get_rate_limit_status('document_agent') ->> 'allowed')::boolean, true, 'at 5 a minute a 4th call would pass');

-- the admin lowers the limit: the very next call sees it
select tests.authenticate_as('a_admin');
update public.admin_config set config_data = jsonb_set(config_data, '{rateLimit,perMinute}', '2') where config_key = 'document_agent_google';
select tests.authenticate_as('a_user');
select is(public.check_rate_limit('document_agent') - 'reset_at' - 'windows' - 'reset_after_seconds' - 'retry_after_seconds' - 'remaining',
  '{"allowed": false, "endpoint": "document_agent", "cost": 1, "reason": "rate_limited", "policy": "agent:document_agent:60", "limit": 2, "window_seconds": 60}'::jsonb,
  'after the admin lowers perMinute to 2, the next call is denied by the agent''s minute window');

-- and raises it
select tests.authenticate_as('a_admin');
update public.admin_config set config_data = jsonb_set(config_data, '{rateLimit,perMinute}', '100') where config_key = 'document_agent_google';
select tests.authenticate_as('a_user');
select is((public.check_rate_limit('document_agent') ->> 'allowed')::boolean, true, 'after raising perMinute to 100 the next call passes');

-- the active provider's config is the one used
select tests.authenticate_as('a_admin');
update public.admin_config set config_data = jsonb_set(config_data, '{rateLimit,perMinute}', '1') where config_key = 'mermaid_agent_openai';
select tests.authenticate_as('a_user');
select is((public.get_rate_limit_status('mermaid_agent') ->> 'limit')::int, 3, 'google active: mermaid_agent_google''s 3 a minute');
select tests.authenticate_as('a_admin');
update public.admin_config set config_data = jsonb_set(config_data, '{activeProvider}', '"openai"') where config_key = 'app_settings';
select tests.authenticate_as('a_user');
select is((public.get_rate_limit_status('mermaid_agent') ->> 'limit')::int, 1, 'openai active: mermaid_agent_openai''s 1 a minute');

-- plan and agent together
select is((select jsonb_agg(w ->> 'bucket' order by w ->> 'bucket') from jsonb_array_elements(public.get_rate_limit_status('chat:python_agent') -> 'windows') as w),
  '["agent:python_agent:3600", "agent:python_agent:60", "agent:python_agent:86400", "chat:60"]'::jsonb,
  '<plan endpoint>:<agent> checks the plan''s window and the agent''s');
select throws_ok($$select public.check_rate_limit('nope_agent')$$, '22023', 'unknown endpoint "nope_agent"', 'an agent without a config is an unknown endpoint');
select throws_ok($$select public.check_rate_limit('nope:python_agent')$$, '22023', 'unknown endpoint "nope:python_agent"', 'an unknown plan endpoint with an agent is unknown');
select is((public.get_rate_limit_status('chat') ->> 'policy'), 'chat:60', 'plan endpoints are unchanged');

-- ===========================================================================
-- Model administration
-- ===========================================================================
select tests.authenticate_as('a_admin');
select is((public.add_model_config('test-admin-model', 'Test Admin Model', 'openai', 1.5, 6, 0.5, 'for tests')).input_pricing_per_million_tokens,
  1.5000::numeric(12,4), 'an admin adds a model');
select is((select is_default from public.model_config where model_id = 'test-admin-model'), false, 'a new model is not the default');
select throws_ok($$select public.add_model_config('test-admin-model', 'Again', 'openai', 1, 1)$$, '23505',
  'model test-admin-model already exists: use update_model_config', 'a duplicate model_id is refused');
select throws_ok($$select public.add_model_config('bad model', 'X', 'openai', 1, 1)$$, '22023',
  'invalid model_id: letters, digits and . _ : / - (at most 100)', 'a malformed model_id is refused');
select throws_ok($$select public.add_model_config('test-neg', 'X', 'openai', -1, 1)$$, '22023',
  'invalid price: input and output prices are required and no price may be negative', 'a negative price is refused');
select throws_ok($$select public.add_model_config('test-neg', 'X', 'Open AI', 1, 1)$$, '22023',
  'invalid provider: lowercase letters, digits, _ and - (at most 50)', 'a malformed provider is refused');

-- prices change without rewriting history
select tests.authenticate_as_service_role();
select public.record_usage(tests.get_supabase_uid('a_user'), 'test-admin-model', 1000000, 0);
select tests.authenticate_as('a_admin');
select is((public.update_model_config('test-admin-model', p_input_pricing_per_million_tokens => 3)).input_pricing_per_million_tokens,
  3.0000::numeric(12,4), 'an admin changes a price');
select is((select input_cost from public.usage_logs where model_used = 'test-admin-model'), 1.5::numeric,
  'usage recorded before the change keeps its price');
select is((select count(*)::int from public.model_price_history where model_id = 'test-admin-model'), 2, 'the price history has both prices');
select is((public.update_model_config('test-admin-model', p_name => 'Renamed')).output_pricing_per_million_tokens, 6.0000::numeric(12,4),
  'unnamed fields stay as they were');
select throws_ok($$select public.update_model_config('no-such-model', p_name => 'X')$$, 'PT404', 'model no-such-model not found', 'unknown model');

select is((public.set_default_model('test-admin-model')).is_default, true, 'an admin sets the default');
select is((select array_agg(model_id) from public.model_config where provider = 'openai' and is_default), array['test-admin-model'],
  'the previous default is unset');
select throws_ok($$select public.set_model_active('test-admin-model', false)$$, 'PT409',
  'cannot deactivate test-admin-model : it is the default model of provider openai; make another model the default first',
  'the default cannot be deactivated');
select public.set_default_model('gpt-4o');
select is((public.set_model_active('test-admin-model', false)).is_active, false, 'an admin deactivates a model');
select throws_ok($$select public.set_default_model('test-admin-model')$$, 'PT409',
  'cannot make test-admin-model the default: it is inactive; activate it first', 'an inactive model cannot be the default');

select tests.authenticate_as('a_user');
select ok(not exists (select 1 from public.get_active_models() where model_id = 'test-admin-model'), 'a user''s list leaves out inactive models');
select is((select count(*)::int from public.get_active_models('openai') where is_default), 1, 'the list has each provider''s default');
select ok((select bool_and(is_active) from public.get_active_models()), 'only active models are listed');
select throws_ok($$select public.add_model_config('test-user-model', 'X', 'openai', 1, 1)$$, '42501', 'only admins may add models', 'a user cannot add models');
select throws_ok($$select public.update_model_config('gpt-4o', p_name => 'X')$$, '42501', 'only admins may change models', 'a user cannot change models');
select throws_ok($$select public.set_model_active('gpt-4o', false)$$, '42501', 'only admins may activate or deactivate models', 'a user cannot deactivate models');
select throws_ok($$select public.set_default_model('gpt-4o-mini')$$, '42501', 'only admins may set the default model', 'a user cannot set the default');
select tests.clear_authentication();
select throws_ok($$select public.get_active_models()$$, '42501', null, 'anon cannot list models');
select throws_ok($$select public.add_model_config('test-anon-model', 'X', 'openai', 1, 1)$$, '42501', null, 'anon cannot add models');
select throws_ok($$select public.update_model_config('gpt-4o', p_name => 'X')$$, '42501', null, 'anon cannot change models');
select throws_ok($$select public.set_model_active('gpt-4o', false)$$, '42501', null, 'anon cannot deactivate models');
select throws_ok($$select public.set_default_model('gpt-4o-mini')$$, '42501', null, 'anon cannot set the default');
select tests.authenticate_as_service_role();
select is((public.set_model_active('test-admin-model', true)).is_active, true, 'the service role activates a model');
select ok(exists (select 1 from public.get_active_models() where model_id = 'test-admin-model'), 'the service role lists models');
select tests.reset_role();
select is((select count(*)::int from public.model_config where model_id in ('test-user-model', 'test-anon-model', 'test-neg')), 0,
  'no refused model was written');

-- pg_catalog.set_config is still what an unqualified 3-argument call resolves to
select is(set_config('app.admin_test', 'x', true), 'x', 'set_config(text, text, boolean) is pg_catalog''s');
select is(current_setting('app.admin_test'), 'x', 'and it set the setting');

select * from finish();
rollback;
