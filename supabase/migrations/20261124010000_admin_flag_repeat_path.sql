-- Admin: the repeat flag check answered from its recorded first evaluation
-- (issue 7 performance).
--
-- A user's first evaluation of a flag version each UTC day is recorded in
-- feature_flag_evaluations with its variant. For every strategy except
-- condition, the answer depends only on the flag row (every change to it
-- bumps its version) and on the user, so the recorded variant IS the answer
-- to every later check that day. is_feature_enabled now returns it: one
-- statement resolves the flag row (environment row, else 'all') and joins
-- today's exposure of it, and the strategy (md5 bucket, list membership) is
-- not evaluated again. The first check of the day, condition flags, unknown
-- flags and evaluate_feature_flag's details evaluate as before.
--
-- The exposure row now also records which flag row it came from (flag_id):
-- a flag deleted and created again under the same key starts again at version
-- 1, and without the id a check could be answered from the deleted row's
-- exposure. Rows recorded before this migration have no flag_id; their
-- repeat checks take the full evaluation until the next day.

alter table public.feature_flag_evaluations add column if not exists flag_id uuid;
comment on column public.feature_flag_evaluations.flag_id is
  'The feature_flags row evaluated (null for rows recorded before the column existed). A repeat check is answered from this row''s variant only while the flag row with this id is still at flag_version.';

-- ---------------------------------------------------------------------------
-- The evaluation, with the repeat path
-- ---------------------------------------------------------------------------
-- One statement resolves the flag row (the environment's row sorts before
-- 'all') and joins today's exposure of it; a repeat check of a non-condition
-- flag returns the recorded variant from there. Otherwise the strategy is
-- evaluated as in 20261123040000_admin_fast_paths.sql, and the first
-- evaluation is recorded with the flag row's id.
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
  v_flag_id uuid;
  v_environment text;
  v_version integer;
  v_enabled boolean;
  v_strategy text;
  v_percentage numeric;
  v_conditions jsonb;
  v_listed boolean;
  v_seen boolean;
  v_recorded boolean;
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

  select f.id, f.environment, f.version, f.enabled, f.strategy, f.rollout_percentage, f.conditions,
         v_uid = any (f.user_ids), e.user_id is not null,
         -- the recorded answer, only from this very flag row and never for a
         -- condition flag (its answer depends on the context)
         case when e.flag_id = f.id and f.strategy <> 'condition' then e.variant = 'on' end
    into v_flag_id, v_environment, v_version, v_enabled, v_strategy, v_percentage, v_conditions,
         v_listed, v_seen, v_recorded
    from public.feature_flags as f
    left join public.feature_flag_evaluations as e
      on e.flag_key = f.flag_key and e.environment = f.environment
     and e.day = (pg_catalog.now() at time zone 'UTC')::date and e.user_id = v_uid and e.flag_version = f.version
   where f.flag_key = p_flag_key and f.environment in (p_environment, 'all')
   order by f.environment = 'all'
   limit 1;

  if v_recorded is not null and not p_details then
    return to_jsonb(v_recorded);
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
    insert into public.feature_flag_evaluations (flag_key, environment, day, user_id, flag_version, variant, reason,
                                                 first_evaluated_at, flag_id)
    select p_flag_key, v_environment, (pg_catalog.now() at time zone 'UTC')::date, v_uid, v_version,
           case when v_value then 'on' else 'off' end, v_reason, pg_catalog.now(), v_flag_id
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
  'Definer core of is_feature_enabled / evaluate_feature_flag: resolves the flag (environment row, else ''all'') with today''s exposure of it in one statement; a repeat boolean check of a non-condition flag returns the variant its first evaluation today recorded for this flag row and version; otherwise evaluates kill switch, user overrides and the strategy and records the first exposure per user/flag version/day with the flag row''s id. Returns {flag_key, value, variant, reason, error_code, environment, flag_version} when p_details, else the value as a jsonb boolean.';
revoke execute on function private.evaluate_feature_flag(text, uuid, text, jsonb, boolean) from public, anon, authenticated, service_role;
grant execute on function private.evaluate_feature_flag(text, uuid, text, jsonb, boolean) to authenticated, service_role;

comment on function public.is_feature_enabled(text, uuid, text, jsonb) is
  'Seed 004: is the flag on for the caller (p_user_id: only the caller, or anyone for admins and the service role) in p_environment? Unknown flags are off. The first evaluation per user, flag version and day is recorded; later checks that day are answered from it (condition flags are evaluated every time).';
