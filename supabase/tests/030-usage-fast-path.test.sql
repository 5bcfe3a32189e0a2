-- check_rate_limit's fast path (one UPDATE reading
-- private.plan_single_window_rules) against its general path
-- (private.rate_limit_rules, one statement per window): the rule table follows
-- plan_rate_limits at once, a plan change applies to the next call, and for
-- the same sequence of calls both paths (and consume_quota) give the same
-- answers and leave the same state. Time is injected (app.usage_now).
begin;
select plan(17);

select tests.create_supabase_user('fp_user');  -- basic (no plan row)

-- fp_fast: one window (the fast path). fp_general: the same window plus an
-- unlimited one, which the fast path does not take and the general path skips
-- (so its answers must equal fp_fast's). fp_quota: fp_fast's rule, for
-- consume_quota.
insert into public.plan_rate_limits (plan_name, endpoint, window_seconds, max_requests)
values ('basic', 'fp_fast', 60, 7), ('basic', 'fp_general', 60, 7), ('basic', 'fp_general', 3600, null),
       ('basic', 'fp_quota', 60, 7), ('pro', 'fp_fast', 60, 20);

-- ---------------------------------------------------------------------------
-- The rule table follows plan_rate_limits
-- ---------------------------------------------------------------------------
select set_eq(
  $$select plan_name, endpoint, bucket, max_requests, window_seconds from private.plan_single_window_rules$$,
  $$select l.plan_name, l.endpoint, l.endpoint || ':' || l.window_seconds, l.max_requests, l.window_seconds
      from public.plan_rate_limits as l
     where l.max_requests is not null and l.endpoint not like '%\_agent'
       and (select count(*) from public.plan_rate_limits as o
             where o.plan_name = l.plan_name and o.endpoint = l.endpoint) = 1$$,
  'the rule table holds exactly the limited single-window plan endpoints');
select is((select count(*)::int from private.plan_single_window_rules where endpoint = 'fp_general'), 0,
  'an endpoint with several windows is not in it (general path)');
select is((select count(*)::int from private.plan_single_window_rules where endpoint = 'chat' and plan_name = 'enterprise'), 0,
  'an unlimited endpoint is not in it');

insert into public.plan_rate_limits (plan_name, endpoint, window_seconds, max_requests) values ('basic', 'fp_fast', 3600, 100);
select is((select count(*)::int from private.plan_single_window_rules where endpoint = 'fp_fast' and plan_name = 'basic'), 0,
  'a second window added: the endpoint leaves the rule table at once');
delete from public.plan_rate_limits where plan_name = 'basic' and endpoint = 'fp_fast' and window_seconds = 3600;
select is((select max_requests from private.plan_single_window_rules where endpoint = 'fp_fast' and plan_name = 'basic'), 7,
  '... and comes back when it is removed');

-- ---------------------------------------------------------------------------
-- A plan change applies to the next call
-- ---------------------------------------------------------------------------
select tests.authenticate_as('fp_user');
set local app.usage_now = '2026-05-01 10:00:00+00';
select is((public.check_rate_limit('fp_fast') ->> 'remaining')::int, 6, 'first call: 6 of 7 left');
select is((public.check_rate_limit('fp_fast') ->> 'remaining')::int, 5, 'second call (fast path): 5 left');
reset role;
update public.plan_rate_limits set max_requests = 3 where plan_name = 'basic' and endpoint = 'fp_fast';
select tests.authenticate_as('fp_user');
-- 2 calls took 2 x 60/7 s = 17.14 s; at 60/3 = 20 s a call, one more leaves
-- 57.14 s used (0 left after it), the next does not fit
select is(array(select row((r ->> 'allowed')::boolean, (r ->> 'limit')::int, (r ->> 'remaining')::int)::text
                  from (select public.check_rate_limit('fp_fast') as r from generate_series(1, 3)) as c),
  array['(t,3,1)', '(t,3,0)', '(f,3,0)'],
  'the limit lowered to 3: the next calls are judged on 3, against the time already taken');
reset role;
update public.plan_rate_limits set max_requests = 70 where plan_name = 'basic' and endpoint = 'fp_fast';
select tests.authenticate_as('fp_user');
select is((public.check_rate_limit('fp_fast') ->> 'limit')::int, 70, 'the limit raised to 70: the next call is judged on 70');
reset role;
select public.set_user_plan(tests.get_supabase_uid('fp_user'), 'pro');
select tests.authenticate_as('fp_user');
select is((public.check_rate_limit('fp_fast') ->> 'limit')::int, 20, 'the user moved to pro: the next call is judged on pro''s 20');
reset role;
select public.set_user_plan(tests.get_supabase_uid('fp_user'), 'pro', p_active => false);
select tests.authenticate_as('fp_user');
select is((public.check_rate_limit('fp_fast') ->> 'limit')::int, 70, 'the plan made inactive: back on basic at once');
reset role;
update public.plan_rate_limits set max_requests = 7 where plan_name = 'basic' and endpoint = 'fp_fast';
delete from private.rate_limit_state where user_id = tests.get_supabase_uid('fp_user');

-- ---------------------------------------------------------------------------
-- The same sequence on both paths: the same answers, the same state
-- ---------------------------------------------------------------------------
-- Calls p_endpoint at each offset (ms after a fixed start) with each cost;
-- returns every answer without the endpoint's name, consuming or peeking.
create function tests.fp_sequence(p_endpoint text, p_offsets_ms bigint[], p_costs integer[], p_peek boolean default false)
returns jsonb
language plpgsql
as $$
declare
  v_out jsonb := '[]';
  v_result jsonb;
begin
  for i in 1 .. array_length(p_offsets_ms, 1) loop
    perform pg_catalog.set_config('app.usage_now',
      ('2026-05-01 11:00:00+00'::timestamptz + p_offsets_ms[i] * interval '1 millisecond')::text, true);
    v_result := case when p_peek then public.get_rate_limit_status(p_endpoint, p_costs[i])
                     else public.check_rate_limit(p_endpoint, p_costs[i]) end;
    v_out := v_out || jsonb_build_array((v_result - 'endpoint' - 'policy' - 'windows')
                                        || jsonb_build_object('window', (v_result -> 'windows' -> 0) - 'bucket'));
  end loop;
  return v_out;
end;
$$;

-- Calls consume_quota the same way; returns 1 for a pass, the PT429 detail for a refusal.
create function tests.fp_quota_sequence(p_endpoint text, p_offsets_ms bigint[], p_costs integer[])
returns jsonb
language plpgsql
as $$
declare
  v_out jsonb := '[]';
  v_detail text;
begin
  for i in 1 .. array_length(p_offsets_ms, 1) loop
    perform pg_catalog.set_config('app.usage_now',
      ('2026-05-01 11:00:00+00'::timestamptz + p_offsets_ms[i] * interval '1 millisecond')::text, true);
    begin
      perform private.consume_quota(p_endpoint, p_costs[i]);
      v_out := v_out || '1'::jsonb;
    exception when sqlstate 'PT429' then
      get stacked diagnostics v_detail = pg_exception_detail;
      v_out := v_out || jsonb_build_array(v_detail::jsonb - 'endpoint');
    end;
  end loop;
  return v_out;
end;
$$;

grant execute on function tests.fp_sequence(text, bigint[], integer[], boolean) to authenticated;
grant execute on function tests.fp_quota_sequence(text, bigint[], integer[]) to authenticated;

-- a burst, costs above one, denials, a cost above the limit, partial refills,
-- and a pause longer than the window (the state row is then in the past)
create temporary table fp_calls (offsets bigint[], costs integer[]);
insert into fp_calls values (
  array[0, 0, 0, 1, 2, 2, 2, 1000, 8570, 8571, 8572, 9000, 17143, 17144, 30000, 30000, 30000, 30001, 95000, 95000, 95001, 95500]::bigint[],
  array[1, 2, 1, 1, 1, 1, 8, 1,    1,    1,    1,    3,    1,     1,     2,     2,     2,     1,     7,     1,     1,     1]);
grant select on fp_calls to authenticated;

select tests.authenticate_as('fp_user');
create temporary table fp_answers as
select (select tests.fp_sequence('fp_fast', offsets, costs) from fp_calls) as fast,
       (select tests.fp_sequence('fp_general', offsets, costs) from fp_calls) as general,
       (select tests.fp_quota_sequence('fp_quota', offsets, costs) from fp_calls) as quota;
select is((select fast from fp_answers), (select general from fp_answers),
  'consuming: the fast path and the general path give the same answers (allowed, reason, remaining, reset, retry) call by call');
select is((select jsonb_agg(case when (e ->> 'allowed')::boolean then '1'::jsonb
                                 else jsonb_build_object('limit', e -> 'limit', 'retry_after_seconds', e -> 'retry_after_seconds') end
                            order by n)
             from fp_answers, jsonb_array_elements(fast) with ordinality as x (e, n)),
          (select quota from fp_answers),
  'consume_quota passes and refuses the same calls (its PT429 detail: the same limit and retry)');
select is((select fast from fp_answers) @? '$[*] ? (@.allowed == false && @.reason == "cost_exceeds_limit")', true,
  '(the sequence has denials, a cost above the limit and refills)');
select is((select tests.fp_sequence('fp_fast', offsets, costs, true) from fp_calls),
          (select tests.fp_sequence('fp_general', offsets, costs, true) from fp_calls),
  'peeking afterwards: the same answers on both paths');
reset role;
select is(array(select (s.tat, s.tat_remainder)::text from private.rate_limit_state as s
                 where s.user_id = tests.get_supabase_uid('fp_user') and s.bucket in ('fp_fast:60', 'fp_general:60', 'fp_quota:60')),
          array_fill((select (s.tat, s.tat_remainder)::text from private.rate_limit_state as s
                       where s.user_id = tests.get_supabase_uid('fp_user') and s.bucket = 'fp_fast:60'), array[3]),
  'the three leave the same exact state (tat and remainder)');
-- (consume_quota's refusal is an error: its violation row rolls back with it)
select is((select array[count(*), sum(v.denied_count)] from public.rate_limit_violations as v
            where v.user_id = tests.get_supabase_uid('fp_user') and v.endpoint = 'fp_general'),
          (select array[count(*), sum(v.denied_count)] from public.rate_limit_violations as v
            where v.user_id = tests.get_supabase_uid('fp_user') and v.endpoint = 'fp_fast' and v.window_start >= '2026-05-01 11:00+00'),
  'and log their denials alike');

select * from finish();
rollback;
