-- Admin: feature flags (strategies, environments, kill switch, reasons,
-- exposures, the repeat check answered from them, audit), configurations
-- (typed values, environment fallback, history, encrypted secrets hidden from
-- all but the service role), service registry (register, heartbeat, stale
-- services, overview).
begin;
select plan(131);

select tests.create_supabase_user('f_user');
select tests.create_supabase_user('f_other');
select tests.create_supabase_user('f_admin', app_metadata => '{"role":"admin"}');
select set_config('app.config_encryption_key', 'test-key-0123456789-0123456789-0123456789', true);

-- ===========================================================================
-- Feature flags
-- ===========================================================================
select tests.authenticate_as('f_admin');
select is((public.upsert_feature_flag('test.everyone', 'all', true, 'all')).version, 1, 'an admin creates a flag');
select public.upsert_feature_flag('test.split', 'all', true, 'percentage', 30);
select public.upsert_feature_flag('test.list', 'production', true, 'user_list', 0, array[tests.get_supabase_uid('f_other')]);
select public.upsert_feature_flag('test.cond', 'all', true, 'condition', 0, '{}',
  '[{"attribute": "country", "operator": "in", "values": ["RW", "KE"]}, {"attribute": "plan", "operator": "eq", "values": ["basic"]}]');
select public.upsert_feature_flag('test.env', 'all', true, 'all');
select public.upsert_feature_flag('test.env', 'staging', false, 'all');
select throws_ok($$select public.upsert_feature_flag('Bad Key')$$, '22023', 'invalid flag_key: lowercase letters, digits and _ . : - (at most 100)', 'a malformed key is refused');
select throws_ok($$select public.upsert_feature_flag('test.bad', 'all', true, 'random')$$, '22023', 'invalid strategy: all, percentage, user_list or condition', 'an unknown strategy is refused');
select throws_ok($$select public.upsert_feature_flag('test.bad', 'all', true, 'percentage', 101)$$, '22023', 'invalid rollout_percentage: 0 to 100', 'a percentage above 100 is refused');
select throws_ok($$select public.upsert_feature_flag('test.bad', 'all', true, 'condition', 0, '{}', '[{"attribute": "plan", "operator": "like", "values": ["x"]}]')$$,
  '22023', 'invalid conditions: "operator" of plan must be one of in, not_in, eq, neq, gt, gte, lt, lte', 'an unknown operator is refused');
select throws_ok($$select public.upsert_feature_flag('test.bad', 'all', true, 'condition')$$,
  '22023', 'invalid conditions: the condition strategy needs at least one condition', 'a condition flag needs a condition');
select is((select count(*)::int from public.feature_flags where flag_key = 'test.bad'), 0, 'no refused flag was written');

select tests.authenticate_as('f_user');
select is(public.evaluate_feature_flag('test.everyone') - 'flag_key', '{"value": true, "variant": "on", "reason": "STATIC", "error_code": null, "environment": "all", "flag_version": 1}'::jsonb,
  'strategy all: on, reason STATIC');
select is(public.evaluate_feature_flag('test.missing') - 'flag_key', '{"value": false, "variant": "off", "reason": "ERROR", "error_code": "FLAG_NOT_FOUND", "environment": null, "flag_version": null}'::jsonb,
  'an unknown flag is off with FLAG_NOT_FOUND, not an error');
select is(public.is_feature_enabled('test.list', null, 'production'), false, 'user_list: a user not on the list is off');
select is(public.evaluate_feature_flag('test.list', null, 'production') ->> 'reason', 'DEFAULT', '... reason DEFAULT');
select is(public.is_feature_enabled('test.list', null, 'development'), false, 'a flag defined only for production is unknown elsewhere');
select is(public.evaluate_feature_flag('test.split') ->> 'reason', 'SPLIT', 'percentage: reason SPLIT');
select is(public.is_feature_enabled('test.split'),
  private.feature_flag_bucket('test.split', tests.get_supabase_uid('f_user')) < 3000, 'percentage: on exactly when the md5 bucket is under 30%');
select is(public.is_feature_enabled('test.cond', null, 'production', '{"country": "RW"}'), true, 'condition: country RW and plan basic');
select is(public.evaluate_feature_flag('test.cond', null, 'production', '{"country": "US"}') ->> 'reason', 'DEFAULT', 'condition: country US misses');
select is(public.is_feature_enabled('test.cond', null, 'production', '{"country": "RW", "plan": "pro"}'), true,
  'the plan comes from the server, not the client''s context');
select is(public.is_feature_enabled('test.env', null, 'staging'), false, 'the staging row wins over all');
select is(public.evaluate_feature_flag('test.env', null, 'production') ->> 'environment', 'all', 'production falls back to all');
select throws_ok($$select public.is_feature_enabled('test.everyone', tests.get_supabase_uid('f_other'))$$, '42501',
  'only the service role or an admin may evaluate a flag for another user', 'a user cannot evaluate for another user');

select tests.authenticate_as('f_other');
select is(public.evaluate_feature_flag('test.list', null, 'production') ->> 'reason', 'TARGETING_MATCH', 'user_list: a listed user is on');

-- bucket stability: a fixed vector (md5 is the same everywhere)
select is(private.feature_flag_bucket('new_feature', '00000000-0000-4000-8000-000000000001'),
  (('x' || substr(md5('new_feature:00000000-0000-4000-8000-000000000001'), 1, 8))::bit(32)::bigint % 10000)::int,
  'the bucket is the first 32 bits of md5(flag:user) mod 10000');
select ok((select count(*) from generate_series(1, 10000) as n
            where private.feature_flag_bucket('test.split', ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid) < 3000)
          between 2700 and 3300, '30% over 10,000 synthetic ids lands within 27-33%');

-- kill switch
select tests.authenticate_as('f_admin');
select is((public.set_feature_flag_enabled('test.everyone', false)).version, 2, 'the kill switch bumps the version');
select throws_ok($$select public.set_feature_flag_enabled('test.nope', false)$$, 'PT404', 'feature flag test.nope (all) not found', 'unknown flag');
select tests.authenticate_as('f_user');
select is(public.evaluate_feature_flag('test.everyone') ->> 'reason', 'DISABLED', 'a killed flag is off, reason DISABLED');
select is(public.is_feature_enabled('test.everyone'), false, '... and is_feature_enabled says false');

-- exposures: one row per user, flag version and day
select is((select count(*)::int from public.feature_flag_evaluations where flag_key = 'test.everyone'), 2,
  'the user''s evaluations are recorded once per flag version (v1 on, v2 off)');
select is((select array_agg(variant order by flag_version) from public.feature_flag_evaluations where flag_key = 'test.everyone'),
  array['on', 'off'], 'with the variant each version gave');
select is_empty($$select 1 from public.feature_flag_evaluations where user_id <> auth.uid()$$, 'a user sees only their own evaluations');
select is_empty($$select 1 from public.feature_flags$$, 'a user cannot read flag definitions (user lists)');
select throws_ok($$select public.upsert_feature_flag('test.user')$$, '42501', 'only admins may manage feature flags', 'a user cannot manage flags');
select throws_ok($$select public.set_feature_flag_enabled('test.split', false)$$, '42501', 'only admins may manage feature flags', 'a user cannot use the kill switch');
select throws_ok($$select public.get_feature_flag_stats('test.split')$$, '42501', 'only admins may read flag statistics', 'a user cannot read flag stats');

select tests.authenticate_as('f_admin');
select is((public.get_feature_flag_stats('test.everyone') -> 0 ->> 'users')::int, 1, 'an admin reads distinct users per day, version and variant');
select tests.authenticate_as_service_role();
select is(public.is_feature_enabled('test.list', tests.get_supabase_uid('f_other'), 'production'), true, 'the service role evaluates for a user');
select is(public.evaluate_feature_flag('test.split', null, 'production') ->> 'error_code', 'TARGETING_KEY_MISSING',
  'percentage without a user: TARGETING_KEY_MISSING');
select is(public.is_feature_enabled('test.everyone', gen_random_uuid()), false, 'a synthetic user id is evaluated (and not recorded)');
select tests.clear_authentication();
select throws_ok($$select public.is_feature_enabled('test.everyone')$$, '42501', null, 'anon cannot evaluate flags');
select tests.reset_role();
select ok(exists (select 1 from public.system_audit_logs where resource_type = 'public.feature_flags' and action = 'update'),
  'flag changes are audited');

-- ===========================================================================
-- Configurations
-- ===========================================================================
select tests.authenticate_as('f_admin');
select is(public.set_config('test-svc', 'max_transfer_amount', '10000', 'all', 'number') ->> 'version', '1', 'an admin sets a value');
select is(public.set_config('test-svc', 'max_transfer_amount', '50000', 'production', 'number') ->> 'environment', 'production', 'and a production override');
select is(public.set_config(p_service_name => 'test-svc', p_config_key => 'api_key', p_config_value => '"sk-live-123"',
                            p_environment => 'production', p_value_type => 'string', p_is_secret => true) -> 'value', 'null'::jsonb,
  'a secret is set but not echoed');
select is(public.get_config('test-svc', 'max_transfer_amount', 'production'), '50000'::jsonb, 'production reads its own value');
select is(public.get_config('test-svc', 'max_transfer_amount', 'staging'), '10000'::jsonb, 'staging falls back to all');
select is(public.get_config('test-svc', 'nope', 'staging'), null, 'an unknown key is null');
select throws_ok($$select public.get_config('test-svc', 'api_key', 'production')$$, '42501',
  'configuration test-svc.api_key is a secret: only the service role may read it', 'an admin cannot read a secret');
select is(public.get_service_configs('test-svc', 'production') -> 'api_key' -> 'value', 'null'::jsonb, 'get_service_configs hides secret values');
select is(public.get_service_configs('test-svc', 'production') -> 'max_transfer_amount' -> 'value', '50000'::jsonb, 'and resolves the environment');
select throws_ok($$select public.get_service_configs('test-svc', 'production', true)$$, '42501',
  'only the service role may read secrets: call with p_include_secrets => false', 'p_include_secrets is refused to an admin');
select is((select bool_and(is_secret = (config_key = 'api_key')) from public.configurations where service_name = 'test-svc'), true,
  'an admin sees which values are secret');
select throws_ok($$select encrypted_value from public.configurations$$, '42501', null, 'an admin cannot select the ciphertext column');
select throws_ok($$select public.set_config('test-svc', 'flag', '"yes"', 'all', 'boolean')$$, '22023',
  'invalid config_value: a string value was given for value_type boolean', 'a value must match its type');
select throws_ok($$select public.set_config('test-svc', 'x', '1', 'all', 'decimal')$$, '22023',
  'invalid value_type: string, number, boolean or json', 'an unknown type is refused');
select throws_ok($$select public.set_config('Bad Service', 'x', '1', 'all', 'number')$$, '22023',
  'invalid service_name: lowercase letters, digits and _ . - (at most 100)', 'a malformed service name is refused');
select throws_ok($$select public.set_config('test-svc', 'x', 'null', 'all', 'json')$$, '22023',
  'invalid config_value: required (delete the configuration to remove it)', 'a null value is refused');
select public.set_config('test-svc', 'max_transfer_amount', '20000', 'all', 'number');

select tests.reset_role();
select is((select count(*)::int from public.configurations where service_name = 'test-svc'), 3, 'refused writes wrote nothing');
select is((select array_agg(operation || ':' || coalesce(old_value::text, '-') || '>' || coalesce(new_value::text, '-') order by id)
             from public.configuration_history where service_name = 'test-svc' and config_key = 'max_transfer_amount'),
  array['INSERT:->10000', 'INSERT:->50000', 'UPDATE:10000>20000'], 'history has a row for every change, with old and new value');
select is((select changed_by from public.configuration_history where service_name = 'test-svc' order by id desc limit 1),
  tests.get_supabase_uid('f_admin'), 'history records who changed it');
select is((select old_value is null and new_value is null and is_secret from public.configuration_history where config_key = 'api_key'), true,
  'a secret''s value never reaches the history');
select is((select encrypted_value is not null and config_value is null and position('sk-live' in encode(encrypted_value, 'escape')) = 0
             from public.configurations where config_key = 'api_key'), true, 'a secret is stored only as ciphertext');

select tests.authenticate_as_service_role();
select is(public.get_config('test-svc', 'api_key', 'production'), '"sk-live-123"'::jsonb, 'the service role reads the secret, decrypted');
select is(public.get_service_configs('test-svc', 'production', true) -> 'api_key' -> 'value', '"sk-live-123"'::jsonb,
  'get_service_configs decrypts for the service role with p_include_secrets');
select is(public.get_service_configs('test-svc', 'production') -> 'api_key' -> 'value', 'null'::jsonb,
  '... and not without it');
select tests.authenticate_as('f_user');
select throws_ok($$select public.get_config('test-svc', 'max_transfer_amount')$$, '42501', 'only admins may read configurations', 'a user cannot read configurations');
select throws_ok($$select public.set_config('test-svc', 'x', '1', 'all', 'number')$$, '42501', 'only admins may change configurations', 'a user cannot set configurations');
select is_empty($$select 1 from public.configuration_history$$, 'a user reads no history');
select tests.clear_authentication();
select throws_ok($$select public.get_service_configs('test-svc')$$, '42501', null, 'anon cannot read configurations');

-- ===========================================================================
-- Service registry
-- ===========================================================================
select tests.authenticate_as_service_role();
select is((public.register_service('test-wallet', 'microservice', '1.0.0', 'http://wallet:3000', '["transfer", "balance"]',
           p_now => now() - interval '10 minutes')).status, 'healthy', 'the service role registers a service');
select is((public.register_service('test-wallet', 'microservice', '1.1.0', 'http://wallet:3000', '["transfer"]',
           p_now => now() - interval '10 minutes')).version, '1.1.0', 're-registering updates the version');
select public.register_service('test-chat', 'edge-function', '2.0.0', null, '[]');
select throws_ok($$select public.register_service('test-x', 'microservice', '1', 'not a url')$$, '22023',
  'invalid endpoint: a URL (scheme://...) of at most 2048 characters', 'a malformed endpoint is refused');
select throws_ok($$select public.service_heartbeat('test-nope')$$, 'PT404', 'service test-nope is not registered: call register_service first', 'heartbeat of an unknown service');
select is((select status from public.service_health_overview where service_name = 'test-wallet'), 'unhealthy',
  'the overview shows a service without heartbeats for 3 intervals as unhealthy');
select is(public.mark_stale_services(), 1, 'mark_stale_services marks it');
select is((select status from public.service_registry where service_name = 'test-wallet'), 'unhealthy', 'stored as unhealthy');
select is((public.service_heartbeat('test-wallet', 'degraded', '{"queue_depth": 12}')).status, 'degraded', 'a heartbeat reports its status');
select is((select status from public.service_health_overview where service_name = 'test-wallet'), 'degraded', 'the overview follows');
select tests.authenticate_as('f_admin');
select is((select count(*)::int from public.service_health_overview where service_name like 'test-%'), 2, 'an admin reads the overview');
select tests.authenticate_as('f_user');
select is_empty($$select 1 from public.service_health_overview$$, 'a user sees no services');
select throws_ok($$select public.register_service('test-u', 'microservice', '1')$$, '42501', null, 'a user cannot register services');

-- ===========================================================================
-- Each role on the remaining RPCs
-- ===========================================================================
select tests.clear_authentication();
select throws_ok($$select public.upsert_feature_flag('test.anon')$$, '42501', null, 'anon cannot create flags');
select throws_ok($$select public.set_feature_flag_enabled('test.split', false)$$, '42501', null, 'anon cannot use the kill switch');
select throws_ok($$select public.get_feature_flag_stats('test.split')$$, '42501', null, 'anon cannot read flag stats');
select throws_ok($$select public.evaluate_feature_flag('test.split')$$, '42501', null, 'anon cannot evaluate flags');
select throws_ok($$select public.set_config('test-svc', 'x', '1', 'all', 'number')$$, '42501', null, 'anon cannot set configurations');
select throws_ok($$select public.get_config('test-svc', 'max_transfer_amount')$$, '42501', null, 'anon cannot read a configuration');
select throws_ok($$select public.register_service('test-anon', 'microservice', '1')$$, '42501', null, 'anon cannot register services');
select throws_ok($$select public.service_heartbeat('test-wallet')$$, '42501', null, 'anon cannot send heartbeats');
select throws_ok($$select public.mark_stale_services()$$, '42501', null, 'anon cannot mark services');
select throws_ok($$select 1 from public.service_health_overview$$, '42501', null, 'anon cannot read the overview');

select tests.authenticate_as('f_user');
select throws_ok($$select public.evaluate_feature_flag('test.split', tests.get_supabase_uid('f_other'))$$, '42501',
  'only the service role or an admin may evaluate a flag for another user', 'a user cannot read another user''s evaluation details');
select throws_ok($$select public.service_heartbeat('test-wallet')$$, '42501', null, 'a user cannot send heartbeats');
select throws_ok($$select public.mark_stale_services()$$, '42501', null, 'a user cannot mark services');

select tests.authenticate_as('f_admin');
select is(public.evaluate_feature_flag('test.list', tests.get_supabase_uid('f_other'), 'production') ->> 'reason', 'TARGETING_MATCH',
  'an admin evaluates a flag for another user');
select throws_ok($$select public.register_service('test-admin', 'microservice', '1')$$, '42501', null, 'an admin cannot register services (service role only)');
select throws_ok($$select public.service_heartbeat('test-wallet')$$, '42501', null, 'an admin cannot send heartbeats');

select tests.authenticate_as_service_role();
select is((public.upsert_feature_flag('test.service', 'all', true, 'all')).enabled, true, 'the service role creates a flag');
select is((public.set_feature_flag_enabled('test.service', false)).enabled, false, 'the service role uses the kill switch');
select is(jsonb_typeof(public.get_feature_flag_stats('test.everyone')), 'array', 'the service role reads flag stats');
select is(public.get_config('test-svc', 'max_transfer_amount', 'staging'), '20000'::jsonb, 'the service role reads a value');
select is(public.set_config('test-svc', 'retries', '3', 'all', 'number') ->> 'value', '3', 'the service role sets a value');
select is((select count(*)::int from public.service_health_overview where service_name like 'test-%'), 2, 'the service role reads the overview');
select tests.reset_role();
select is((select count(*)::int from public.feature_flags where flag_key in ('test.anon')), 0, 'refused flag writes wrote nothing');

-- ---------------------------------------------------------------------------
-- is_feature_enabled's repeat check.
-- Later checks of a flag version for a user on the same UTC day are answered
-- from the variant the first evaluation recorded, except condition flags; a
-- new version, another environment's row, a re-created flag or another user
-- never reuse a record. To prove which path answered, some
-- tests change a recorded variant behind the function's back: a check that
-- returns the changed variant was answered from the record.
-- ---------------------------------------------------------------------------
select tests.reset_role();
select tests.create_supabase_user('r_user');
select tests.create_supabase_user('r_other');
select tests.create_supabase_user('r_admin', app_metadata => '{"role":"admin"}');

-- Inverts the recorded variant of r_user's exposures of a flag row (as the
-- table owner, outside any API role).
create function pg_temp.flip_recorded(p_flag_key text, p_environment text) returns int
language sql as $$
  update public.feature_flag_evaluations as e
     set variant = case e.variant when 'on' then 'off' else 'on' end
   where e.flag_key = p_flag_key and e.environment = p_environment
     and e.user_id = tests.get_supabase_uid('r_user')
  returning 1
$$;

select tests.authenticate_as('r_admin');
select public.upsert_feature_flag('rp.all', 'all', true, 'all');
select public.upsert_feature_flag('rp.split', 'all', true, 'percentage', 50);
select public.upsert_feature_flag('rp.list', 'all', true, 'user_list', 0, array[tests.get_supabase_uid('r_user')]);
select public.upsert_feature_flag('rp.off', 'all', false, 'all');
select public.upsert_feature_flag('rp.cond', 'all', true, 'condition', 0, '{}',
  '[{"attribute": "country", "operator": "in", "values": ["RW"]}]');

-- first checks: evaluated and recorded, once
select tests.authenticate_as('r_user');
select is(public.is_feature_enabled('rp.all'), true, 'all: on');
select is(public.is_feature_enabled('rp.split'),
  private.feature_flag_bucket('rp.split', tests.get_supabase_uid('r_user')) < 5000, 'percentage: the md5 bucket decides');
select is(public.is_feature_enabled('rp.list'), true, 'user_list: a listed user is on');
select is(public.is_feature_enabled('rp.off'), false, 'a disabled flag is off');
select is(public.is_feature_enabled('rp.cond', null, 'production', '{"country": "RW"}'), true, 'condition: RW matches');
select is(public.is_feature_enabled('rp.missing'), false, 'an unknown flag is off');
select tests.reset_role();
select is((select count(*)::int from public.feature_flag_evaluations
            where user_id = tests.get_supabase_uid('r_user') and flag_key like 'rp.%'), 5,
  'the first check of each known flag is recorded');
select is((select count(*)::int from public.feature_flag_evaluations as e join public.feature_flags as f on f.id = e.flag_id
            where e.user_id = tests.get_supabase_uid('r_user') and e.flag_key like 'rp.%'), 5,
  '... each exposure names the flag row it came from');

-- repeat checks: the same answers, nothing more written
select tests.authenticate_as('r_user');
select is(array[public.is_feature_enabled('rp.all'), public.is_feature_enabled('rp.split'), public.is_feature_enabled('rp.list'),
                public.is_feature_enabled('rp.off'), public.is_feature_enabled('rp.cond', null, 'production', '{"country": "RW"}')],
  array[true, private.feature_flag_bucket('rp.split', tests.get_supabase_uid('r_user')) < 5000, true, false, true],
  'a repeat check gives the same answer for every strategy');
select tests.reset_role();
select is((select count(*)::int from public.feature_flag_evaluations
            where user_id = tests.get_supabase_uid('r_user') and flag_key like 'rp.%'), 5, 'a repeat check writes nothing');

-- which path answered
select is(pg_temp.flip_recorded('rp.all', 'all'), 1, 'the recorded variant of rp.all is changed behind the function''s back');
select tests.authenticate_as('r_user');
select is(public.is_feature_enabled('rp.all'), false, 'the repeat check is answered from the record');
select is(public.is_feature_enabled('rp.all', tests.get_supabase_uid('r_user')), false, '... also when the caller names themself');
select is(public.evaluate_feature_flag('rp.all') ->> 'value', 'true', 'evaluate_feature_flag always evaluates');
select tests.reset_role();
select pg_temp.flip_recorded('rp.cond', 'all');
select tests.authenticate_as('r_user');
select is(public.is_feature_enabled('rp.cond', null, 'production', '{"country": "RW"}'), true,
  'a condition flag is evaluated every time (its answer depends on the context)');
select is(public.is_feature_enabled('rp.cond', null, 'production', '{"country": "KE"}'), false, '... so a different context gives its own answer');

-- checks for r_user use r_user's record; other users never do
select tests.authenticate_as_service_role();
select is(public.is_feature_enabled('rp.all', tests.get_supabase_uid('r_user')), false, 'the service role checking for the user gets the same recorded answer');
select tests.authenticate_as('r_other');
select is(public.is_feature_enabled('rp.all'), true, 'another user gets their own evaluation');
select throws_ok($$select public.is_feature_enabled('rp.all', tests.get_supabase_uid('r_user'))$$, '42501',
  'only the service role or an admin may evaluate a flag for another user', 'a user still cannot check for another user');

-- a new version is evaluated again
select tests.authenticate_as('r_admin');
select is((public.upsert_feature_flag('rp.all', 'all', true, 'all', 0, '{}', '[]', 'touched')).version, 2, 'an admin changes rp.all (version 2)');
select tests.authenticate_as('r_user');
select is(public.is_feature_enabled('rp.all'), true, 'the new version is evaluated, not answered from version 1''s record');

-- an environment's own row wins over a record of the 'all' row
select tests.authenticate_as('r_admin');
select public.upsert_feature_flag('rp.list', 'production', false, 'all');
select tests.authenticate_as('r_user');
select is(public.is_feature_enabled('rp.list', null, 'production'), false, 'a new production row wins over the recorded all row');
select is(public.is_feature_enabled('rp.list', null, 'staging'), true, 'staging still falls back to all');

-- a flag deleted and created again starts at version 1: its record is not reused
select tests.reset_role();
select pg_temp.flip_recorded('rp.off', 'all');
select tests.authenticate_as('r_user');
select is(public.is_feature_enabled('rp.off'), true, 'rp.off answered from its (changed) record');
select tests.authenticate_as('r_admin');
delete from public.feature_flags where flag_key = 'rp.off' and environment = 'all';
select is((public.upsert_feature_flag('rp.off', 'all', false, 'all')).version, 1, 'rp.off created again, version 1');
select tests.authenticate_as('r_user');
select is(public.is_feature_enabled('rp.off'), false, 'the re-created flag is evaluated, not answered from the deleted row''s record');

-- a caller without a user id (no sub claim) is never answered from a record
select set_config('request.jwt.claims', '{"role":"authenticated"}', true);
select is(public.is_feature_enabled('rp.split'), false, 'percentage without a user is off');

select tests.clear_authentication();
select throws_ok($$select public.is_feature_enabled('rp.all')$$, '42501', null, 'anon cannot check flags');


select * from finish();
rollback;
