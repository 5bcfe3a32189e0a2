-- Rate limiting with limits that do not divide the window: 7 or 9 a minute,
-- 11 an hour, 997 an hour, 1000 per 7 s. Each must admit exactly the limit in
-- a burst and earn back one request exactly every window/limit (to the
-- microsecond, over two whole windows, so rounding cannot accumulate), on the
-- fast path (one plan window), the general path (several windows, an agent's
-- rules) and the status peek. Time is injected (app.usage_now), never slept.
begin;
select plan(16);

select tests.create_supabase_user('r_user');   -- basic (no plan row)
select tests.create_supabase_user('r_other');  -- basic

insert into public.plan_rate_limits (plan_name, endpoint, window_seconds, max_requests)
values ('basic', 'round_7m', 60, 7), ('basic', 'round_9m', 60, 9), ('basic', 'round_11h', 3600, 11),
       ('basic', 'round_997h', 3600, 997), ('basic', 'round_1000_7s', 7, 1000),
       ('basic', 'round_multi', 60, 7), ('basic', 'round_multi', 3600, 11), ('basic', 'round_clamp', 60, 997);
update public.admin_config
   set config_data = jsonb_set(config_data, '{rateLimit}', '{"perMinute": 7, "perHour": 1000, "perDay": 10000}')
 where config_key = 'mermaid_agent_google';

-- Calls p_endpoint once at each offset (microseconds after a fixed start) and
-- returns what each call got: 1 allowed, 0 denied.
create function tests.rate_limit_pattern(p_endpoint text, p_offsets bigint[], p_peek boolean default false)
returns text
language plpgsql
as $$
declare
  v_pattern text := '';
  v_offset bigint;
  v_result jsonb;
begin
  foreach v_offset in array p_offsets loop
    perform pg_catalog.set_config('app.usage_now',
      ('2026-05-01 00:00:00+00'::timestamptz + v_offset * interval '1 microsecond')::text, true);
    v_result := case when p_peek then public.get_rate_limit_status(p_endpoint) else public.check_rate_limit(p_endpoint) end;
    v_pattern := v_pattern || case when (v_result ->> 'allowed')::boolean then '1' else '0' end;
  end loop;
  return v_pattern;
end;
$$;

-- A burst of limit + 1 calls at the start, then for each of the next
-- p_refills requests a call one microsecond before it is due (denied) and one
-- when it is due: ceil(k * window / limit) microseconds after the start.
create function tests.rate_limit_offsets(p_limit integer, p_window_seconds integer, p_refills integer)
returns bigint[]
language sql
as $$
  select array_fill(0::bigint, array[p_limit + 1])
         || array(select due + d
                    from generate_series(1, p_refills) as k,
                         lateral (select pg_catalog.ceil(k * p_window_seconds * 1000000::numeric / p_limit)::bigint as due) as t,
                         (values (-1), (0)) as v(d)
                   order by k, d);
$$;

create function tests.rate_limit_expected(p_limit integer, p_refills integer)
returns text
language sql
as $$
  select repeat('1', p_limit) || '0' || repeat('01', p_refills);
$$;

grant execute on function tests.rate_limit_pattern(text, bigint[], boolean) to authenticated;

select tests.authenticate_as('r_user');

-- Fast path (one plan window): a burst of exactly the limit, then exactly one
-- request per window/limit for two whole windows.
select is(tests.rate_limit_pattern('round_7m', tests.rate_limit_offsets(7, 60, 14)), tests.rate_limit_expected(7, 14),
  '7 a minute: a burst of exactly 7, then one every 60/7 s to the microsecond, for two minutes');
select is(tests.rate_limit_pattern('round_9m', tests.rate_limit_offsets(9, 60, 18)), tests.rate_limit_expected(9, 18),
  '9 a minute: a burst of exactly 9, then one every 60/9 s');
select is(tests.rate_limit_pattern('round_11h', tests.rate_limit_offsets(11, 3600, 22)), tests.rate_limit_expected(11, 22),
  '11 an hour: a burst of exactly 11, then one every 3600/11 s');
select is(tests.rate_limit_pattern('round_997h', tests.rate_limit_offsets(997, 3600, 997)), tests.rate_limit_expected(997, 997),
  '997 an hour: a burst of exactly 997, then one every 3600/997 s for a whole hour');
select is(tests.rate_limit_pattern('round_1000_7s', tests.rate_limit_offsets(1000, 7, 1000)), tests.rate_limit_expected(1000, 1000),
  '1000 per 7 s: a burst of exactly 1000, then one every 7 ms');

-- Status peek: says allowed exactly when the call would be.
select tests.authenticate_as('r_other');
select is(tests.rate_limit_pattern('round_7m', array_fill(0::bigint, array[7])), '1111111', 'r_other spends a burst of 7');
select is(public.get_rate_limit_status('round_7m') - 'windows' - 'reset_at' - 'endpoint' - 'policy',
  '{"allowed": false, "cost": 1, "reason": "rate_limited", "limit": 7, "window_seconds": 60, "remaining": 0,
    "reset_after_seconds": 60, "retry_after_seconds": 9}'::jsonb,
  'the figures the headers get after the burst: none left, full in 60 s, the next in 60/7 s rounded up');
select is(tests.rate_limit_pattern('round_7m', array[0, 8571428, 8571429]::bigint[], p_peek => true), '001',
  'the status peek says allowed from exactly 60/7 s (8.571429 s) after the burst, and consumes nothing');
select is((public.check_rate_limit('round_7m') ->> 'remaining')::int, 0, '... then the call is allowed and leaves none');

-- General path: an agent's rules (three windows, the minute binds).
select tests.authenticate_as('r_user');
select is(tests.rate_limit_pattern('mermaid_agent', tests.rate_limit_offsets(7, 60, 14)), tests.rate_limit_expected(7, 14),
  'an agent''s 7 a minute (among its three windows): a burst of exactly 7, then one every 60/7 s');

-- General path: two plan windows, 7 a minute and 11 an hour. The minute
-- window's 7, then 4 more earned back; the 5th is refused by the hour.
select tests.authenticate_as('r_other');
select is(tests.rate_limit_pattern('round_multi', tests.rate_limit_offsets(7, 60, 5)), '1111111001010101' || '00',
  '7 a minute and 11 an hour: 7 in a burst, 4 earned back, then the hour refuses');
select tests.reset_role();
select tests.remember('minute_state', (select row(s.tat, s.tat_remainder)::text from private.rate_limit_state as s
                                        where s.user_id = tests.get_supabase_uid('r_other') and s.bucket = 'round_multi:60'));
select is((select s.tat_remainder from private.rate_limit_state as s
            where s.user_id = tests.get_supabase_uid('r_other') and s.bucket = 'round_multi:60'), 2,
  'the minute window holds its tat exactly: 60 s * 11 / 7 leaves 2/7 of a microsecond');
select tests.authenticate_as('r_other');
select is(tests.rate_limit_pattern('round_multi', array[pg_catalog.ceil(6 * 60000000::numeric / 7)::bigint]), '0',
  'the hour refuses a call the minute would allow');
select tests.reset_role();
select is((select row(s.tat, s.tat_remainder)::text from private.rate_limit_state as s
            where s.user_id = tests.get_supabase_uid('r_other') and s.bucket = 'round_multi:60'),
  tests.remembered('minute_state'), 'the minute window got back exactly what it had given (all or nothing)');

-- A remainder stored under an earlier, larger limit (an admin lowered it)
-- stays below a microsecond of the new one.
select tests.authenticate_as('r_user');
select is(tests.rate_limit_pattern('round_clamp', array[0]::bigint[]), '1', 'one call at 997 a minute');
select tests.reset_role();
update public.plan_rate_limits set max_requests = 3 where plan_name = 'basic' and endpoint = 'round_clamp';
select tests.authenticate_as('r_user');
select is(tests.rate_limit_pattern('round_clamp', array[1, 2, 3]::bigint[]), '110',
  'after the limit is lowered to 3 the bucket holds what was taken: 2 more');

select * from finish();
rollback;
