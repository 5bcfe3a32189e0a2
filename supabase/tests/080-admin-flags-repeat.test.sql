-- Admin: is_feature_enabled's repeat check (20261124010000_admin_flag_repeat_path.sql).
-- Later checks of a flag version for a user on the same UTC day are answered
-- from the variant the first evaluation recorded, except condition flags; a
-- new version, another environment's row, a re-created flag or another user
-- never reuse a record. To prove which path answered, some
-- tests change a recorded variant behind the function's back: a check that
-- returns the changed variant was answered from the record.
begin;
select plan(28);

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
