-- Admin fast paths (issue 7 performance): is_feature_enabled /
-- evaluate_feature_flag without the work every call used to set up.
--
-- The evaluation was one SELECT with every strategy's CASE (including calls
-- to the condition matcher and the plan lookup), a lateral IN + ORDER BY +
-- LIMIT lookup and an EXISTS sub-plan; each call builds the executor state
-- for all of it again (each API request is a new transaction), so the
-- strategy nobody used cost as much as the one that ran. Now:
--  * the flag row is fetched by its unique key (environment, then 'all'),
--    with today's exposure probed by primary key in the same statement;
--  * the strategy is decided in plpgsql branches, so only the branch taken
--    is set up (the condition matcher and plan lookup only for condition
--    flags);
--  * the user-list membership is tested in SQL (the list is not copied out);
--  * the repeat evaluation of a day stays read-only: no INSERT is run, no
--    row lock or transaction id is taken; only the first evaluation per user,
--    flag version and day writes (ON CONFLICT DO NOTHING covers a concurrent
--    first one).
-- Same signature, same results, errors and recording as before.

create or replace function private.evaluate_feature_flag(
  p_flag_key text, p_user_id uuid, p_environment text, p_context jsonb, p_details boolean
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid;
  v_environment text;
  v_version integer;
  v_enabled boolean;
  v_strategy text;
  v_percentage numeric;
  v_conditions jsonb;
  v_listed boolean;
  v_seen boolean;
  v_value boolean;
  v_reason text;
begin
  if p_user_id is null then
    v_uid := auth.uid();
  else
    if p_user_id is distinct from auth.uid()
       and coalesce(auth.jwt() ->> 'role', '') <> 'service_role' and not public.is_current_user_admin() then
      raise exception 'only the service role or an admin may evaluate a flag for another user' using errcode = '42501';
    end if;
    v_uid := p_user_id;
  end if;

  -- The environment's row, else the 'all' row: two unique-key probes (each
  -- joined with today's exposure probe) cost less than one IN + ORDER BY +
  -- LIMIT statement, whose sort and limit nodes are set up on every call.
  if p_environment is distinct from 'all' then
    select f.environment, f.version, f.enabled, f.strategy, f.rollout_percentage, f.conditions,
           v_uid = any (f.user_ids), e.user_id is not null
      into v_environment, v_version, v_enabled, v_strategy, v_percentage, v_conditions, v_listed, v_seen
      from public.feature_flags as f
      left join public.feature_flag_evaluations as e
        on e.flag_key = p_flag_key and e.environment = p_environment
       and e.day = (pg_catalog.now() at time zone 'UTC')::date and e.user_id = v_uid and e.flag_version = f.version
     where f.flag_key = p_flag_key and f.environment = p_environment;
  end if;
  if v_version is null then
    select f.environment, f.version, f.enabled, f.strategy, f.rollout_percentage, f.conditions,
           v_uid = any (f.user_ids), e.user_id is not null
      into v_environment, v_version, v_enabled, v_strategy, v_percentage, v_conditions, v_listed, v_seen
      from public.feature_flags as f
      left join public.feature_flag_evaluations as e
        on e.flag_key = p_flag_key and e.environment = 'all'
       and e.day = (pg_catalog.now() at time zone 'UTC')::date and e.user_id = v_uid and e.flag_version = f.version
     where f.flag_key = p_flag_key and f.environment = 'all';
  end if;

  if v_version is null then
    v_value := false; v_reason := 'ERROR';
  elsif not v_enabled then
    v_value := false; v_reason := 'DISABLED';
  elsif v_listed then
    v_value := true; v_reason := 'TARGETING_MATCH';
  elsif v_strategy = 'all' then
    v_value := true; v_reason := 'STATIC';
  elsif v_strategy = 'percentage' then
    if v_uid is null then
      v_value := false; v_reason := 'ERROR';
    else
      v_value := (('x' || substr(md5(p_flag_key || ':' || v_uid::text), 1, 8))::bit(32)::bigint % 10000) < v_percentage * 100;
      v_reason := 'SPLIT';
    end if;
  elsif v_strategy = 'user_list' then
    v_value := false; v_reason := 'DEFAULT';
  else
    v_value := private.feature_flag_conditions_match(v_conditions,
                 case when jsonb_typeof(p_context) = 'object' then p_context else '{}'::jsonb end - 'user_id' - 'plan'
                 || case when v_uid is null then '{}'::jsonb
                         else jsonb_build_object('user_id', v_uid, 'plan', private.effective_plan_name(v_uid)) end);
    v_reason := case when v_value then 'TARGETING_MATCH' else 'DEFAULT' end;
  end if;

  if not v_seen and v_uid is not null and v_version is not null then
    insert into public.feature_flag_evaluations (flag_key, environment, day, user_id, flag_version, variant, reason, first_evaluated_at)
    select p_flag_key, v_environment, (pg_catalog.now() at time zone 'UTC')::date, v_uid, v_version,
           case when v_value then 'on' else 'off' end, v_reason, pg_catalog.now()
     where p_user_id is null or exists (select from auth.users as u where u.id = v_uid)
    on conflict do nothing;
  end if;

  if not p_details then
    return to_jsonb(v_value);
  end if;
  return jsonb_build_object('flag_key', p_flag_key, 'value', v_value, 'variant', case when v_value then 'on' else 'off' end,
    'reason', v_reason,
    'error_code', case when v_version is null then 'FLAG_NOT_FOUND' when v_reason = 'ERROR' then 'TARGETING_KEY_MISSING' end,
    'environment', v_environment, 'flag_version', v_version);
end;
$$;

comment on function private.evaluate_feature_flag(text, uuid, text, jsonb, boolean) is
  'Definer core of is_feature_enabled / evaluate_feature_flag: resolves the flag (environment row, else ''all''), evaluates kill switch, user overrides and the strategy, records the first exposure per user/flag version/day (a repeat evaluation writes nothing); returns {flag_key, value, variant, reason, error_code, environment, flag_version} when p_details, else the value as a jsonb boolean.';
revoke execute on function private.evaluate_feature_flag(text, uuid, text, jsonb, boolean) from public, anon, authenticated, service_role;
grant execute on function private.evaluate_feature_flag(text, uuid, text, jsonb, boolean) to authenticated, service_role;
