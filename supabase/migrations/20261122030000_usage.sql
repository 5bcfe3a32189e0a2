-- Usage: model pricing, plans and features, credits (two-phase), LLM usage
-- and cost, rate limiting.
--
-- Seeds: 000 `daily_usage`, `user_plans` (credits per day and month); 001
-- plan-based rate limits table, `rate_limit_violations`, `ai_api_usage`,
-- `FeatureGateError`, `resetLimit`, "Rate Limit Check <10ms"; 002
-- `model_config` (+ `ensure_single_default_model_per_provider`,
-- `update_model_config_timestamp`), `usage_logs`, `rate_limit_tracking`,
-- `get_current_user_usage_summary`; the chat domain's conversations.total_*
-- columns, bumped by record_usage. Mapping and choices: docs/usage.md.
--
-- Money is numeric, never float: prices are USD per million tokens with 4
-- decimals, so a request's cost (tokens x price / 1e6) is exact at 10 decimals.
-- One credit is one US dollar of model cost at list price.
--
-- Time: service-only functions take p_now; functions users call read
-- private.usage_now(), which tests override with `set local app.usage_now`.

-- ---------------------------------------------------------------------------
-- Clock
-- ---------------------------------------------------------------------------
create or replace function private.usage_now()
returns timestamptz
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return coalesce(nullif(pg_catalog.current_setting('app.usage_now', true), '')::timestamptz, pg_catalog.now());
end;
$$;

comment on function private.usage_now() is
  'The usage domain''s clock: now(), unless the transaction sets app.usage_now (tests do, to move time without sleeping). Not settable through the Data API.';

revoke execute on function private.usage_now() from public, anon, authenticated, service_role;
grant execute on function private.usage_now() to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- model_config: models and their list prices (seed 002)
-- ---------------------------------------------------------------------------
create table if not exists public.model_config (
  id uuid primary key default gen_random_uuid(),
  model_id text not null unique,
  name text not null,
  description text,
  provider text not null,
  is_active boolean not null default true,
  is_default boolean not null default false,
  thinking_enabled boolean not null default true,
  input_pricing_per_million_tokens numeric(12,4) not null,
  output_pricing_per_million_tokens numeric(12,4) not null,
  cached_input_pricing_per_million_tokens numeric(12,4),
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint model_config_model_id_format check (model_id ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$'),
  constraint model_config_name_length check (char_length(name) between 1 and 200),
  constraint model_config_provider_format check (provider ~ '^[a-z][a-z0-9_-]{0,49}$'),
  constraint model_config_prices_not_negative check (
    input_pricing_per_million_tokens >= 0 and output_pricing_per_million_tokens >= 0
    and (cached_input_pricing_per_million_tokens is null or cached_input_pricing_per_million_tokens >= 0)),
  -- NaN passes every >= 0 test and would poison every cost computed from it
  constraint model_config_prices_finite check (
    input_pricing_per_million_tokens not in ('NaN', 'Infinity', '-Infinity') and output_pricing_per_million_tokens not in ('NaN', 'Infinity', '-Infinity')
    and (cached_input_pricing_per_million_tokens is null or cached_input_pricing_per_million_tokens not in ('NaN', 'Infinity', '-Infinity'))),
  constraint model_config_default_is_active check (not is_default or is_active),
  constraint model_config_description_length check (char_length(description) <= 2000),
  constraint model_config_metadata_object check (jsonb_typeof(metadata) = 'object' and pg_column_size(metadata) <= 16384)
);

comment on table public.model_config is
  'AI models with list prices (seed 002 model_config). One default per provider. Users read; admins and the service role write. Past usage keeps the price it was charged at (usage_logs copies it).';
comment on column public.model_config.model_id is 'The provider''s model identifier, as record_usage receives it (e.g. gpt-4o-mini).';
comment on column public.model_config.input_pricing_per_million_tokens is 'USD per million uncached input tokens.';
comment on column public.model_config.output_pricing_per_million_tokens is 'USD per million output tokens (reasoning/thinking tokens are output tokens).';
comment on column public.model_config.cached_input_pricing_per_million_tokens is 'USD per million cache-read input tokens; null: the same as uncached input.';
comment on column public.model_config.metadata is 'Capabilities: context_window, max_output_tokens, ...';

-- The single-default rule: the index makes two defaults impossible even under
-- concurrency; the trigger gives the seed's behaviour (setting a new default
-- unsets the old one).
create unique index if not exists model_config_one_default_per_provider
  on public.model_config (provider) where is_default;

create table if not exists public.model_price_history (
  id bigint generated always as identity primary key,
  model_id text not null,
  input_pricing_per_million_tokens numeric(12,4) not null,
  output_pricing_per_million_tokens numeric(12,4) not null,
  cached_input_pricing_per_million_tokens numeric(12,4),
  effective_from timestamptz not null,
  changed_by uuid references auth.users (id) on delete set null,
  constraint model_price_history_prices_finite check (
    input_pricing_per_million_tokens not in ('NaN', 'Infinity', '-Infinity') and output_pricing_per_million_tokens not in ('NaN', 'Infinity', '-Infinity')
    and (cached_input_pricing_per_million_tokens is null or cached_input_pricing_per_million_tokens not in ('NaN', 'Infinity', '-Infinity')))
);

comment on table public.model_price_history is
  'Every price a model has had, from when (written by trigger on model_config). With the prices copied onto each usage_logs row, a cost can always be explained and recomputed.';

create index if not exists model_price_history_model on public.model_price_history (model_id, effective_from desc);
create index if not exists model_price_history_changed_by on public.model_price_history (changed_by);

create or replace function private.model_config_single_default()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    if old.is_default then
      raise exception 'cannot delete % : it is the default model of provider %; make another model the default first', old.model_id, old.provider
        using errcode = 'PT409';
    end if;
    return old;
  end if;
  if new.is_default and (tg_op = 'INSERT' or not old.is_default or old.provider <> new.provider) then
    -- The seed's ensure_single_default_model_per_provider: the new default replaces the old one.
    update public.model_config
       set is_default = false
     where provider = new.provider and is_default and id <> new.id;
  elsif tg_op = 'UPDATE' and old.is_default and not new.is_default and pg_catalog.pg_trigger_depth() = 1 then
    raise exception 'cannot unset the default model of provider %: make another model the default instead', old.provider
      using errcode = 'PT409';
  end if;
  return new;
end;
$$;

comment on function private.model_config_single_default() is
  'Trigger: making a model the default unsets the provider''s previous default; the last default cannot be unset or deleted (seed 002 ensure_single_default_model_per_provider).';

create or replace function private.model_config_record_price()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.model_price_history
    (model_id, input_pricing_per_million_tokens, output_pricing_per_million_tokens,
     cached_input_pricing_per_million_tokens, effective_from, changed_by)
  values (new.model_id, new.input_pricing_per_million_tokens, new.output_pricing_per_million_tokens,
          new.cached_input_pricing_per_million_tokens, pg_catalog.now(), (select auth.uid()));
  return new;
end;
$$;

comment on function private.model_config_record_price() is
  'Trigger: appends the model''s new prices to model_price_history. Definer: admins may change prices but not write history themselves.';

revoke execute on function private.model_config_single_default() from public, anon, authenticated, service_role;
revoke execute on function private.model_config_record_price() from public, anon, authenticated, service_role;

create trigger model_config_single_default
  before insert or update of is_default, provider or delete on public.model_config
  for each row execute function private.model_config_single_default();

create trigger model_config_record_price_insert
  after insert on public.model_config
  for each row execute function private.model_config_record_price();

create trigger model_config_record_price_update
  after update of input_pricing_per_million_tokens, output_pricing_per_million_tokens,
    cached_input_pricing_per_million_tokens on public.model_config
  for each row
  when (old.input_pricing_per_million_tokens is distinct from new.input_pricing_per_million_tokens
        or old.output_pricing_per_million_tokens is distinct from new.output_pricing_per_million_tokens
        or old.cached_input_pricing_per_million_tokens is distinct from new.cached_input_pricing_per_million_tokens)
  execute function private.model_config_record_price();

create trigger model_config_set_updated_at
  before update of model_id, name, description, provider, is_active, is_default, thinking_enabled,
    input_pricing_per_million_tokens, output_pricing_per_million_tokens,
    cached_input_pricing_per_million_tokens, metadata on public.model_config
  for each row execute function private.set_updated_at();

alter table public.model_config enable row level security;
alter table public.model_price_history enable row level security;

create policy model_config_select on public.model_config
  for select to authenticated using (true);
create policy model_config_insert on public.model_config
  for insert to authenticated with check ((select public.is_current_user_admin()));
create policy model_config_update on public.model_config
  for update to authenticated
  using ((select public.is_current_user_admin()))
  with check ((select public.is_current_user_admin()));
create policy model_config_delete on public.model_config
  for delete to authenticated using ((select public.is_current_user_admin()));

create policy model_price_history_select on public.model_price_history
  for select to authenticated using (true);

-- Admins write through the table endpoint too (RLS): the columns the admin
-- RPCs set, not the id or the timestamps.
revoke all on table public.model_config from anon, authenticated, service_role;
grant select, delete on table public.model_config to authenticated;
grant insert (model_id, name, description, provider, is_active, is_default, thinking_enabled,
              input_pricing_per_million_tokens, output_pricing_per_million_tokens,
              cached_input_pricing_per_million_tokens, metadata),
      update (model_id, name, description, provider, is_active, is_default, thinking_enabled,
              input_pricing_per_million_tokens, output_pricing_per_million_tokens,
              cached_input_pricing_per_million_tokens, metadata)
   on table public.model_config to authenticated;
grant select, insert, update, delete on table public.model_config to service_role;
revoke all on table public.model_price_history from anon, authenticated, service_role;
grant select on table public.model_price_history to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Plans: the catalog (seed 001 limits, seed 000 credits), per-plan rate
-- limits, and each user's plan (seed 000 user_plans).
-- ---------------------------------------------------------------------------
create table if not exists public.plans (
  plan_name text primary key,
  display_name text not null,
  tier integer not null unique,
  max_credits_per_day numeric(12,2) not null,
  max_credits_per_month numeric(12,2) not null,
  features text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint plans_plan_name_format check (plan_name ~ '^[a-z][a-z0-9_]{0,31}$'),
  constraint plans_credits_not_negative check (max_credits_per_day >= 0 and max_credits_per_month >= 0),
  constraint plans_credits_finite check (max_credits_per_day not in ('NaN', 'Infinity', '-Infinity') and max_credits_per_month not in ('NaN', 'Infinity', '-Infinity'))
);

comment on table public.plans is
  'The plan catalog (basic, pro, enterprise): credits per day and month (seed 000), the features each plan unlocks (seed 001 feature gating). tier orders plans: a feature''s required plan is the lowest tier that has it.';
comment on column public.plans.max_credits_per_day is 'Credits (USD of model cost at list price) a user on this plan may spend per UTC day.';
comment on column public.plans.max_credits_per_month is 'Credits per billing month (anchored at user_plans.reset_date).';

create table if not exists public.plan_rate_limits (
  plan_name text not null references public.plans (plan_name) on delete cascade,
  endpoint text not null,
  window_seconds integer not null,
  max_requests integer,
  primary key (plan_name, endpoint, window_seconds),
  constraint plan_rate_limits_endpoint_format check (endpoint ~ '^[a-z][a-z0-9_:.-]{0,63}$'),
  constraint plan_rate_limits_window check (window_seconds between 1 and 31 * 86400),
  constraint plan_rate_limits_max check (max_requests is null or max_requests between 1 and 1000000)
);

comment on table public.plan_rate_limits is
  'Seed 001''s plan-based rate limits: max_requests per window_seconds for each plan and endpoint; null max_requests = unlimited. An endpoint with no row for any plan is unknown.';

create index if not exists plan_rate_limits_endpoint on public.plan_rate_limits (endpoint, plan_name);

create table if not exists public.user_plans (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null unique references auth.users (id) on delete cascade,
  plan_name text not null references public.plans (plan_name),
  max_credits_per_day numeric(12,2),
  max_credits_per_month numeric(12,2),
  active boolean not null default true,
  reset_date date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint user_plans_credits_not_negative check (
    (max_credits_per_day is null or max_credits_per_day >= 0)
    and (max_credits_per_month is null or max_credits_per_month >= 0)),
  constraint user_plans_credits_finite check (
    (max_credits_per_day is null or max_credits_per_day not in ('NaN', 'Infinity', '-Infinity'))
    and (max_credits_per_month is null or max_credits_per_month not in ('NaN', 'Infinity', '-Infinity')))
);

comment on table public.user_plans is
  'Each user''s plan (seed 000 user_plans). No row, or active = false, means basic. Written only by set_user_plan (service role: the billing webhook).';
comment on column public.user_plans.max_credits_per_day is 'Per-user override of the plan''s daily credits; null: the plan''s value.';
comment on column public.user_plans.max_credits_per_month is 'Per-user override of the plan''s monthly credits; null: the plan''s value.';
comment on column public.user_plans.reset_date is 'Billing anchor: the monthly credit window restarts on this day of each month (clamped to the month''s last day).';

create index if not exists user_plans_plan_name on public.user_plans (plan_name);

create trigger plans_set_updated_at
  before update on public.plans
  for each row execute function private.set_updated_at();
create trigger user_plans_set_updated_at
  before update of plan_name, max_credits_per_day, max_credits_per_month, active, reset_date on public.user_plans
  for each row execute function private.set_updated_at();

alter table public.plans enable row level security;
alter table public.plan_rate_limits enable row level security;
alter table public.user_plans enable row level security;

-- The catalog is public reference data (pricing pages show it signed out).
create policy plans_select on public.plans for select to anon, authenticated using (true);
create policy plan_rate_limits_select on public.plan_rate_limits for select to anon, authenticated using (true);
create policy user_plans_select on public.user_plans
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.plans from anon, authenticated, service_role;
revoke all on table public.plan_rate_limits from anon, authenticated, service_role;
revoke all on table public.user_plans from anon, authenticated, service_role;
grant select on table public.plans, public.plan_rate_limits to anon, authenticated;
grant select on table public.user_plans to authenticated;
grant select, insert, update, delete on table public.plans, public.plan_rate_limits, public.user_plans to service_role;

-- The plan that applies to a user: the active row's, else basic.
-- Hot helpers are plpgsql rather than sql: PostgreSQL (before 18) re-plans a
-- non-inlined SQL function on every call, plpgsql caches its plans.
create or replace function private.effective_plan_name(p_user_id uuid)
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_plan text;
begin
  select up.plan_name into v_plan from public.user_plans as up where up.user_id = p_user_id and up.active;
  return coalesce(v_plan, 'basic');
end;
$$;

comment on function private.effective_plan_name(uuid) is 'The plan in force for a user: their active user_plans row''s plan, else basic.';

revoke execute on function private.effective_plan_name(uuid) from public, anon, authenticated, service_role;
grant execute on function private.effective_plan_name(uuid) to authenticated, service_role;

-- The credit windows of a user at p_now: the UTC day, and the billing month
-- anchored at reset_date (calendar month without a plan row). Computing the
-- month from the anchor each time (anchor + n months) keeps a 31st anchor on
-- the 31st where the month has one.
create or replace function private.credit_period(p_user_id uuid, p_now timestamptz)
returns table (
  plan_name text, max_credits_per_day numeric, max_credits_per_month numeric,
  day date, month_start date, next_month_start date
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_day_override numeric;
  v_month_override numeric;
  v_anchor date;
  v_months integer;
begin
  day := (p_now at time zone 'UTC')::date;
  select up.plan_name, up.max_credits_per_day, up.max_credits_per_month, up.reset_date
    into plan_name, v_day_override, v_month_override, v_anchor
    from public.user_plans as up
   where up.user_id = p_user_id and up.active;
  plan_name := coalesce(plan_name, 'basic');
  v_anchor := coalesce(v_anchor, date '2000-01-01');
  select coalesce(v_day_override, p.max_credits_per_day), coalesce(v_month_override, p.max_credits_per_month)
    into max_credits_per_day, max_credits_per_month
    from public.plans as p
   where p.plan_name = credit_period.plan_name;
  if not found then
    raise exception 'plan "%" is missing from the plan catalog', plan_name using errcode = 'PT404',
      hint = 'Load supabase/seeds/usage.sql.';
  end if;
  v_months := ((extract(year from day) - extract(year from v_anchor)) * 12
               + extract(month from day) - extract(month from v_anchor))::integer;
  if (v_anchor + pg_catalog.make_interval(months => v_months))::date > day then
    v_months := v_months - 1;
  end if;
  month_start := (v_anchor + pg_catalog.make_interval(months => v_months))::date;
  next_month_start := (v_anchor + pg_catalog.make_interval(months => v_months + 1))::date;
  return next;
end;
$$;

comment on function private.credit_period(uuid, timestamptz) is
  'A user''s plan, credit caps, current UTC day and billing month (from the reset_date anchor) at p_now.';

revoke execute on function private.credit_period(uuid, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.credit_period(uuid, timestamptz) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Plan RPCs
-- ---------------------------------------------------------------------------
create or replace function public.get_user_plan(p_user_id uuid default null)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := coalesce(p_user_id, auth.uid());
  v_result jsonb;
begin
  if v_uid is null then
    raise exception 'you must be signed in to read a plan' using errcode = '42501';
  end if;
  if p_user_id is not null and p_user_id is distinct from auth.uid()
     and not public.is_current_user_admin()
     and coalesce(auth.jwt() ->> 'role', '') <> 'service_role' then
    raise exception 'only admins may read another user''s plan' using errcode = '42501';
  end if;

  select jsonb_build_object(
           'user_id', v_uid,
           'plan_name', p.plan_name,
           'display_name', p.display_name,
           'tier', p.tier,
           'is_default_plan', up.id is null or not up.active,
           'active', coalesce(up.active, true),
           'subscribed_plan_name', up.plan_name,
           'max_credits_per_day', coalesce(up.max_credits_per_day, p.max_credits_per_day),
           'max_credits_per_month', coalesce(up.max_credits_per_month, p.max_credits_per_month),
           'reset_date', up.reset_date,
           'features', to_jsonb(p.features),
           'rate_limits', coalesce((
             select jsonb_agg(jsonb_build_object('endpoint', l.endpoint, 'window_seconds', l.window_seconds,
                                                 'max_requests', l.max_requests)
                              order by l.endpoint, l.window_seconds)
               from public.plan_rate_limits as l
              where l.plan_name = p.plan_name), '[]'::jsonb))
    into v_result
    from (select 1) as one
    left join public.user_plans as up on up.user_id = v_uid
    join public.plans as p on p.plan_name = case when up.active then up.plan_name else 'basic' end;

  if v_result is null then
    raise exception 'the basic plan is missing from the plan catalog' using errcode = 'PT404',
      hint = 'Load supabase/seeds/usage.sql.';
  end if;
  return v_result;
end;
$$;

comment on function public.get_user_plan(uuid) is
  'The plan in force for the caller (or, for admins and the service role, p_user_id): name, credits, reset date, features, rate limits. No plan row or an inactive one means basic (seed 001 getUserPlan).';

create or replace function public.require_feature(p_feature text)
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_plan text;
  v_has boolean;
  v_required text;
begin
  if char_length(p_feature) > 100 then
    raise exception 'invalid feature: at most 100 characters' using errcode = '22023';
  end if;
  if v_uid is null then
    raise exception 'you must be signed in to use feature "%"', p_feature using errcode = '42501';
  end if;
  select p.plan_name into v_required
    from public.plans as p
   where p_feature = any (p.features)
   order by p.tier
   limit 1;
  if v_required is null then
    raise exception 'unknown feature "%"', coalesce(p_feature, 'null')
      using errcode = '22023', hint = 'Features are listed in public.plans.features.';
  end if;
  v_plan := private.effective_plan_name(v_uid);
  select p_feature = any (p.features) into v_has from public.plans as p where p.plan_name = v_plan;
  if not coalesce(v_has, false) then
    -- seed 001 FeatureGateError(feature, requiredPlan, currentPlan)
    raise exception 'feature "%" requires the % plan; your plan is %', p_feature, v_required, v_plan
      using errcode = 'PT403',
            detail = jsonb_build_object('feature', p_feature, 'required_plan', v_required, 'current_plan', v_plan)::text,
            hint = format('Upgrade to %s to use %s.', v_required, p_feature);
  end if;
  return true;
end;
$$;

comment on function public.require_feature(text) is
  'Returns true when the caller''s plan includes p_feature; otherwise raises PT403 (HTTP 403) naming the feature, the plan needed and the caller''s plan (seed 001 FeatureGateError). 22023 for an unknown feature.';

create or replace function public.set_user_plan(
  p_user_id uuid,
  p_plan_name text,
  p_active boolean default true,
  p_reset_date date default null,
  p_max_credits_per_day numeric default null,
  p_max_credits_per_month numeric default null,
  p_now timestamptz default now()
)
returns public.user_plans
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row public.user_plans;
begin
  if p_user_id is null then
    raise exception 'invalid user: p_user_id is required' using errcode = '22023';
  end if;
  if not exists (select 1 from public.plans as p where p.plan_name = p_plan_name) then
    raise exception 'unknown plan "%"', coalesce(p_plan_name, 'null')
      using errcode = '22023', hint = 'Plans are listed in public.plans.';
  end if;
  perform private.require_finite(p_max_credits_per_day, 'p_max_credits_per_day');
  perform private.require_finite(p_max_credits_per_month, 'p_max_credits_per_month');
  if p_max_credits_per_day < 0 or p_max_credits_per_month < 0 then
    raise exception 'invalid credits: must not be negative' using errcode = '22023';
  end if;
  if not pg_catalog.isfinite(p_now) then
    raise exception 'invalid p_now: must be a finite time' using errcode = '22023';
  end if;
  if p_active is null then
    raise exception 'invalid active flag: must be true or false' using errcode = '22023';
  end if;
  begin
  insert into public.user_plans as up
    (user_id, plan_name, active, reset_date, max_credits_per_day, max_credits_per_month)
  values (p_user_id, p_plan_name, p_active, coalesce(p_reset_date, (p_now at time zone 'UTC')::date),
          p_max_credits_per_day, p_max_credits_per_month)
  on conflict (user_id) do update
     set plan_name = excluded.plan_name,
         active = excluded.active,
         -- a new plan starts a new billing month; the same plan keeps its anchor
         reset_date = case when p_reset_date is not null then p_reset_date
                           when up.plan_name <> excluded.plan_name then excluded.reset_date
                           else up.reset_date end,
         max_credits_per_day = excluded.max_credits_per_day,
         max_credits_per_month = excluded.max_credits_per_month
  returning up.* into v_row;
  exception when foreign_key_violation then
    raise exception 'user % does not exist', p_user_id using errcode = '23503';
  end;
  return v_row;
end;
$$;

comment on function public.set_user_plan(uuid, text, boolean, date, numeric, numeric, timestamptz) is
  'Service role only (the billing webhook): puts a user on a plan. p_reset_date anchors the monthly credits (default: today on a new plan, unchanged on the same plan); credit arguments override the plan''s (null: the plan''s values).';

revoke execute on function public.get_user_plan(uuid) from public, anon, authenticated, service_role;
revoke execute on function public.require_feature(text) from public, anon, authenticated, service_role;
revoke execute on function public.set_user_plan(uuid, text, boolean, date, numeric, numeric, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.get_user_plan(uuid) to authenticated, service_role;
grant execute on function public.require_feature(text) to authenticated;
grant execute on function public.set_user_plan(uuid, text, boolean, date, numeric, numeric, timestamptz) to service_role;

-- ---------------------------------------------------------------------------
-- Usage: usage_logs (seed 002, seed 001 ai_api_usage) and daily_usage (seed 000)
-- ---------------------------------------------------------------------------
create table if not exists public.usage_logs (
  id uuid primary key default private.uuid_v7(),
  user_id uuid not null references auth.users (id) on delete cascade,
  conversation_id uuid references public.conversations (id) on delete set null,
  agent_type text not null,
  model_used text not null,
  provider text not null,
  input_tokens integer not null,
  output_tokens integer not null,
  cached_input_tokens integer not null default 0,
  reasoning_tokens integer not null default 0,
  total_tokens integer not null,
  input_cost numeric(20,10) not null,
  output_cost numeric(20,10) not null,
  total_cost numeric(20,10) not null,
  input_price_per_million numeric(12,4) not null,
  output_price_per_million numeric(12,4) not null,
  cached_input_price_per_million numeric(12,4) not null,
  request_timestamp timestamptz not null,
  response_timestamp timestamptz not null,
  duration_ms integer,
  metadata jsonb not null default '{}'::jsonb,
  idempotency_key text,
  reservation_id uuid,
  created_at timestamptz not null default now(),
  constraint usage_logs_tokens check (
    input_tokens >= 0 and output_tokens >= 0 and cached_input_tokens between 0 and input_tokens
    and reasoning_tokens between 0 and output_tokens),
  constraint usage_logs_money_finite check (
    input_cost not in ('NaN', 'Infinity', '-Infinity') and output_cost not in ('NaN', 'Infinity', '-Infinity') and total_cost not in ('NaN', 'Infinity', '-Infinity')
    and input_price_per_million not in ('NaN', 'Infinity', '-Infinity') and output_price_per_million not in ('NaN', 'Infinity', '-Infinity')
    and cached_input_price_per_million not in ('NaN', 'Infinity', '-Infinity'))
);

comment on table public.usage_logs is
  'One row per model call (seed 002 usage_logs, seed 001 ai_api_usage), written by record_usage with the prices it was charged at. Users read their own, admins all.';
comment on column public.usage_logs.conversation_id is 'The conversation the call belonged to (seed 002 chat_id); null once the conversation is deleted (the bill outlives the chat).';
comment on column public.usage_logs.input_tokens is 'All prompt tokens, cached ones included (OpenAI/Gemini convention).';
comment on column public.usage_logs.output_tokens is 'All output tokens, reasoning ones included.';
comment on column public.usage_logs.input_price_per_million is 'The model''s input price when this call was recorded: later price changes do not rewrite history.';
comment on column public.usage_logs.idempotency_key is 'The caller''s key for this call: the same key twice (per user) records once.';
comment on column public.usage_logs.reservation_id is 'The credit reservation this call settled, if any.';

create index if not exists usage_logs_user_time on public.usage_logs (user_id, request_timestamp desc);
create index if not exists usage_logs_conversation on public.usage_logs (conversation_id) where conversation_id is not null;
create unique index if not exists usage_logs_idempotency_key on public.usage_logs (user_id, idempotency_key)
  where idempotency_key is not null;
create unique index if not exists usage_logs_reservation on public.usage_logs (reservation_id)
  where reservation_id is not null;

create table if not exists public.daily_usage (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  date date not null,
  model_name text not null,
  total_tokens bigint not null default 0,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cached_input_tokens bigint not null default 0,
  reasoning_tokens bigint not null default 0,
  total_cost numeric(24,10) not null default 0,
  requests_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, date, model_name),
  constraint daily_usage_total_cost_finite check (total_cost not in ('NaN', 'Infinity', '-Infinity'))
);

comment on table public.daily_usage is
  'Per user, UTC day and model: tokens, cost and requests (seed 000 daily_usage), upserted by record_usage in the same transaction as the usage_logs row.';

create index if not exists daily_usage_date on public.daily_usage (date);

alter table public.usage_logs enable row level security;
alter table public.daily_usage enable row level security;

create policy usage_logs_select on public.usage_logs
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));
create policy daily_usage_select on public.daily_usage
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.usage_logs from anon, authenticated, service_role;
revoke all on table public.daily_usage from anon, authenticated, service_role;
grant select on table public.usage_logs, public.daily_usage to authenticated;
grant select, insert, update, delete on table public.usage_logs, public.daily_usage to service_role;

-- ---------------------------------------------------------------------------
-- Credits: spent per window (one row per user) and two-phase reservations
-- ---------------------------------------------------------------------------
create table if not exists private.credit_balances (
  user_id uuid primary key references auth.users (id) on delete cascade,
  day date not null,
  day_spent numeric(24,10) not null default 0,
  month_start date not null,
  month_spent numeric(24,10) not null default 0,
  updated_at timestamptz not null default now(),
  constraint credit_balances_spent_finite check (day_spent not in ('NaN', 'Infinity', '-Infinity') and month_spent not in ('NaN', 'Infinity', '-Infinity'))
);

comment on table private.credit_balances is
  'Credits spent in the user''s current day and billing month. A newer day or month found at write time restarts its counter: resets are implicit, no reset job. The row is also the per-user lock that makes reservations exact.';

create table if not exists private.credit_reservations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  amount numeric(24,10) not null check (amount > 0 and amount not in ('NaN', 'Infinity', '-Infinity')),
  status text not null default 'pending' check (status in ('pending', 'settled', 'voided')),
  day date not null,
  month_start date not null,
  model_id text,
  idempotency_key text,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  finished_at timestamptz,
  usage_log_id uuid
);

comment on table private.credit_reservations is
  'Holds taken before a model call (reserve_credits), settled by record_usage or voided. A pending hold counts against the caps until it expires; an expired hold simply stops counting (no sweeper needed).';

create index if not exists credit_reservations_pending on private.credit_reservations (user_id, expires_at)
  where status = 'pending';
create unique index if not exists credit_reservations_idempotency_key on private.credit_reservations (user_id, idempotency_key)
  where idempotency_key is not null;

alter table private.credit_balances enable row level security;
alter table private.credit_reservations enable row level security;
revoke all on table private.credit_balances from public, anon, authenticated, service_role;
revoke all on table private.credit_reservations from public, anon, authenticated, service_role;
grant select, insert, update, delete on table private.credit_balances, private.credit_reservations to service_role;

-- Credit state of a user at p_now: caps, spent, held, remaining, resets.
create or replace function private.credit_status(p_user_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_period record;
  v_day_spent numeric := 0;
  v_month_spent numeric := 0;
  v_day_held numeric;
  v_month_held numeric;
begin
  select * into v_period from private.credit_period(p_user_id, p_now);
  select case when b.day = v_period.day then b.day_spent else 0 end,
         case when b.month_start = v_period.month_start then b.month_spent else 0 end
    into v_day_spent, v_month_spent
    from private.credit_balances as b
   where b.user_id = p_user_id;
  v_day_spent := coalesce(v_day_spent, 0);
  v_month_spent := coalesce(v_month_spent, 0);
  select coalesce(sum(r.amount) filter (where r.day = v_period.day), 0),
         coalesce(sum(r.amount) filter (where r.month_start = v_period.month_start), 0)
    into v_day_held, v_month_held
    from private.credit_reservations as r
   where r.user_id = p_user_id and r.status = 'pending' and r.expires_at > p_now;
  return jsonb_build_object(
    'user_id', p_user_id,
    'plan_name', v_period.plan_name,
    'allowed', v_day_spent + v_day_held < v_period.max_credits_per_day
               and v_month_spent + v_month_held < v_period.max_credits_per_month,
    'day', jsonb_build_object(
      'limit', v_period.max_credits_per_day,
      'used', v_day_spent,
      'reserved', v_day_held,
      'remaining', greatest(v_period.max_credits_per_day - v_day_spent - v_day_held, 0),
      'period_start', v_period.day,
      'resets_at', ((v_period.day + 1)::timestamp at time zone 'UTC')),
    'month', jsonb_build_object(
      'limit', v_period.max_credits_per_month,
      'used', v_month_spent,
      'reserved', v_month_held,
      'remaining', greatest(v_period.max_credits_per_month - v_month_spent - v_month_held, 0),
      'period_start', v_period.month_start,
      'resets_at', (v_period.next_month_start::timestamp at time zone 'UTC')));
end;
$$;

comment on function private.credit_status(uuid, timestamptz) is
  'Credits of a user at p_now: per day and billing month the limit, used, reserved (live holds), remaining and reset time.';

create or replace function private.check_credits(p_user_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_role text := coalesce(auth.jwt() ->> 'role', '');
begin
  if v_uid is null and v_role <> 'service_role' then
    raise exception 'you must be signed in to check credits' using errcode = '42501';
  end if;
  if p_user_id is not null and p_user_id is distinct from v_uid
     and v_role <> 'service_role' and not public.is_current_user_admin() then
    raise exception 'only admins may check another user''s credits' using errcode = '42501';
  end if;
  if coalesce(p_user_id, v_uid) is null then
    raise exception 'invalid user: p_user_id is required for the service role' using errcode = '22023';
  end if;
  return private.credit_status(coalesce(p_user_id, v_uid), private.usage_now());
end;
$$;

comment on function private.check_credits(uuid) is
  'Definer core of public.check_credits: reads private credit state for the caller, or for p_user_id when the caller is an admin or the service role.';

create or replace function public.check_credits(p_user_id uuid default null)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return private.check_credits(p_user_id);
end;
$$;

comment on function public.check_credits(uuid) is
  'Credits used, reserved and remaining today and this billing month, with reset times, for the caller (admins and the service role may pass p_user_id). allowed is false once either cap is reached.';

revoke execute on function private.credit_status(uuid, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.check_credits(uuid) from public, anon, authenticated, service_role;
revoke execute on function public.check_credits(uuid) from public, anon, authenticated, service_role;
grant execute on function private.credit_status(uuid, timestamptz) to service_role;
grant execute on function private.check_credits(uuid) to authenticated, service_role;
grant execute on function public.check_credits(uuid) to authenticated, service_role;

-- Phase one: hold an estimate against both caps, or refuse and hold nothing.
create or replace function public.reserve_credits(
  p_user_id uuid,
  p_amount numeric default null,
  p_model text default null,
  p_input_tokens integer default null,
  p_max_output_tokens integer default null,
  p_idempotency_key text default null,
  p_ttl interval default interval '10 minutes',
  p_now timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_amount numeric;
  v_model public.model_config;
  v_period record;
  v_existing private.credit_reservations;
  v_day_spent numeric;
  v_month_spent numeric;
  v_day_held numeric;
  v_month_held numeric;
  v_reason text;
  v_id uuid;
begin
  if p_user_id is null then
    raise exception 'invalid user: p_user_id is required' using errcode = '22023';
  end if;
  if p_amount is not null and p_model is not null then
    raise exception 'invalid estimate: give p_amount or p_model with token counts, not both' using errcode = '22023';
  end if;
  if p_amount is null and p_model is null then
    raise exception 'invalid estimate: give p_amount, or p_model with p_input_tokens and p_max_output_tokens' using errcode = '22023';
  end if;
  perform private.require_finite(p_amount, 'p_amount');
  if p_amount is not null and p_amount <= 0 then
    raise exception 'invalid amount: must be greater than 0' using errcode = '22023';
  end if;
  if not pg_catalog.isfinite(p_now) then
    raise exception 'invalid p_now: must be a finite time' using errcode = '22023';
  end if;
  if char_length(p_model) > 100 then
    raise exception 'invalid model: at most 100 characters' using errcode = '22023';
  end if;
  if p_model is not null and (coalesce(p_input_tokens, -1) < 0 or coalesce(p_max_output_tokens, -1) < 0) then
    raise exception 'invalid tokens: p_input_tokens and p_max_output_tokens must be 0 or more' using errcode = '22023';
  end if;
  if p_ttl is null or p_ttl < interval '1 second' or p_ttl > interval '1 day' then
    raise exception 'invalid ttl: must be between 1 second and 1 day' using errcode = '22023';
  end if;
  if char_length(p_idempotency_key) not between 1 and 255 then
    raise exception 'invalid idempotency key: 1 to 255 characters' using errcode = '22023';
  end if;
  if p_model is not null then
    select m.* into v_model from public.model_config as m where m.model_id = p_model;
    if not found then
      raise exception 'unknown model "%"', p_model using errcode = '22023';
    end if;
    -- worst case: every input token uncached, every allowed output token used
    v_amount := (p_input_tokens::numeric * v_model.input_pricing_per_million_tokens
                 + p_max_output_tokens::numeric * v_model.output_pricing_per_million_tokens) / 1000000;
    if v_amount <= 0 then
      raise exception 'invalid estimate: the tokens give a cost of 0' using errcode = '22023';
    end if;
  else
    v_amount := p_amount;
  end if;
  select * into v_period from private.credit_period(p_user_id, p_now);

  -- Lock the user's balance row (creating it, and rolling its windows over):
  -- every reservation of this user is serialized here, so parallel requests
  -- cannot all pass the check and then overspend.
  begin
  insert into private.credit_balances as b (user_id, day, day_spent, month_start, month_spent, updated_at)
  values (p_user_id, v_period.day, 0, v_period.month_start, 0, p_now)
  on conflict (user_id) do update
     set day_spent = case when b.day < excluded.day then 0 else b.day_spent end,
         day = greatest(b.day, excluded.day),
         month_spent = case when b.month_start < excluded.month_start then 0 else b.month_spent end,
         month_start = greatest(b.month_start, excluded.month_start)
  returning case when b.day = v_period.day then b.day_spent else 0 end,
            case when b.month_start = v_period.month_start then b.month_spent else 0 end
       into v_day_spent, v_month_spent;
  exception when foreign_key_violation then
    raise exception 'user % does not exist', p_user_id using errcode = '23503';
  end;

  if p_idempotency_key is not null then
    select r.* into v_existing from private.credit_reservations as r
     where r.user_id = p_user_id and r.idempotency_key = p_idempotency_key;
    if found then
      return jsonb_build_object('allowed', true, 'reservation_id', v_existing.id, 'amount', v_existing.amount,
                                'status', v_existing.status, 'expires_at', v_existing.expires_at, 'replayed', true)
             || jsonb_build_object('credits', private.credit_status(p_user_id, p_now));
    end if;
  end if;

  select coalesce(sum(r.amount) filter (where r.day = v_period.day), 0),
         coalesce(sum(r.amount) filter (where r.month_start = v_period.month_start), 0)
    into v_day_held, v_month_held
    from private.credit_reservations as r
   where r.user_id = p_user_id and r.status = 'pending' and r.expires_at > p_now;

  if v_day_spent + v_day_held + v_amount > v_period.max_credits_per_day then
    v_reason := 'daily_credit_limit';
  elsif v_month_spent + v_month_held + v_amount > v_period.max_credits_per_month then
    v_reason := 'monthly_credit_limit';
  end if;
  if v_reason is not null then
    return jsonb_build_object('allowed', false, 'reason', v_reason, 'reservation_id', null, 'amount', v_amount)
           || jsonb_build_object('credits', private.credit_status(p_user_id, p_now));
  end if;

  insert into private.credit_reservations (user_id, amount, day, month_start, model_id, idempotency_key, created_at, expires_at)
  values (p_user_id, v_amount, v_period.day, v_period.month_start, p_model, p_idempotency_key, p_now, p_now + p_ttl)
  returning id into v_id;

  return jsonb_build_object('allowed', true, 'reservation_id', v_id, 'amount', v_amount, 'status', 'pending',
                            'expires_at', p_now + p_ttl, 'replayed', false)
         || jsonb_build_object('credits', private.credit_status(p_user_id, p_now));
end;
$$;

comment on function public.reserve_credits(uuid, numeric, text, integer, integer, text, interval, timestamptz) is
  'Service role only. Phase one of a metered call: holds p_amount credits (or the worst-case cost of p_model with p_input_tokens and p_max_output_tokens) if it fits under both caps with everything spent and held; otherwise allowed = false, reason daily_credit_limit / monthly_credit_limit, and nothing is held. Settle with record_usage(p_reservation_id), or void_credit_reservation. Idempotent on p_idempotency_key.';

create or replace function public.void_credit_reservation(p_reservation_id uuid, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row private.credit_reservations;
begin
  if not pg_catalog.isfinite(p_now) then
    raise exception 'invalid p_now: must be a finite time' using errcode = '22023';
  end if;
  select r.* into v_row from private.credit_reservations as r where r.id = p_reservation_id for update;
  if not found then
    raise exception 'credit reservation % not found', p_reservation_id using errcode = 'PT404';
  end if;
  if v_row.status = 'settled' then
    raise exception 'credit reservation % is already settled', p_reservation_id using errcode = 'PT409';
  end if;
  if v_row.status = 'pending' then
    update private.credit_reservations set status = 'voided', finished_at = p_now
     where id = p_reservation_id
    returning * into v_row;
  end if;
  return jsonb_build_object('reservation_id', v_row.id, 'user_id', v_row.user_id, 'amount', v_row.amount,
                            'status', v_row.status, 'finished_at', v_row.finished_at);
end;
$$;

comment on function public.void_credit_reservation(uuid, timestamptz) is
  'Service role only. Releases a hold whose model call failed. Voiding twice is a no-op; voiding a settled reservation is PT409.';

revoke execute on function public.reserve_credits(uuid, numeric, text, integer, integer, text, interval, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.void_credit_reservation(uuid, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.reserve_credits(uuid, numeric, text, integer, integer, text, interval, timestamptz) to service_role;
grant execute on function public.void_credit_reservation(uuid, timestamptz) to service_role;

-- ---------------------------------------------------------------------------
-- record_usage: one model call, in one transaction
-- ---------------------------------------------------------------------------
create or replace function public.record_usage(
  p_user_id uuid,
  p_model text,
  p_input_tokens integer,
  p_output_tokens integer,
  p_cached_input_tokens integer default 0,
  p_reasoning_tokens integer default 0,
  p_conversation_id uuid default null,
  p_agent_type text default 'chat_model_agent',
  p_duration_ms integer default null,
  p_metadata jsonb default '{}'::jsonb,
  p_idempotency_key text default null,
  p_reservation_id uuid default null,
  p_now timestamptz default now()
)
returns public.usage_logs
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_model_id text;
  v_provider text;
  v_input_price numeric;
  v_output_price numeric;
  v_cached_price numeric;
  v_input_cost numeric(20,10);
  v_output_cost numeric(20,10);
  v_day date;
  v_row public.usage_logs;
  v_reservation private.credit_reservations;
  v_ignored text;
begin
  -- Validate everything before writing anything: one expression for valid
  -- input (every plpgsql expression costs its set-up once per transaction),
  -- the detailed checks only to say what is wrong.
  if p_user_id is null
     or p_input_tokens is null or p_output_tokens is null or p_input_tokens < 0 or p_output_tokens < 0
     or p_cached_input_tokens is null or p_cached_input_tokens < 0 or p_cached_input_tokens > p_input_tokens
     or p_reasoning_tokens is null or p_reasoning_tokens < 0 or p_reasoning_tokens > p_output_tokens
     or p_input_tokens::bigint + p_output_tokens > 2147483647
     or p_agent_type is null or p_agent_type !~ '^[a-z][a-z0-9_]{0,49}$'
     or p_duration_ms < 0
     or (p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or pg_column_size(p_metadata) > 16384))
     or char_length(p_idempotency_key) not between 1 and 255
     or not pg_catalog.isfinite(p_now)
     or char_length(p_model) > 100 then
    if p_user_id is null then
      raise exception 'invalid user: p_user_id is required' using errcode = '22023';
    end if;
    if p_input_tokens is null or p_output_tokens is null or p_input_tokens < 0 or p_output_tokens < 0 then
      raise exception 'invalid tokens: input and output tokens must be 0 or more' using errcode = '22023',
        detail = format('p_input_tokens = %s, p_output_tokens = %s', p_input_tokens, p_output_tokens);
    end if;
    if p_cached_input_tokens is null or p_cached_input_tokens < 0 or p_cached_input_tokens > p_input_tokens then
      raise exception 'invalid cached input tokens: must be between 0 and the input tokens' using errcode = '22023';
    end if;
    if p_reasoning_tokens is null or p_reasoning_tokens < 0 or p_reasoning_tokens > p_output_tokens then
      raise exception 'invalid reasoning tokens: must be between 0 and the output tokens' using errcode = '22023';
    end if;
    if p_input_tokens::bigint + p_output_tokens > 2147483647 then
      raise exception 'invalid tokens: the total must fit in an integer' using errcode = '22023';
    end if;
    if p_agent_type is null or p_agent_type !~ '^[a-z][a-z0-9_]{0,49}$' then
      raise exception 'invalid agent type: 1 to 50 lowercase letters, digits or underscores' using errcode = '22023';
    end if;
    if p_duration_ms < 0 then
      raise exception 'invalid duration: must be 0 or more milliseconds' using errcode = '22023';
    end if;
    if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or pg_column_size(p_metadata) > 16384) then
      raise exception 'invalid metadata: must be a JSON object of at most 16 KiB' using errcode = '22023';
    end if;
    if char_length(p_idempotency_key) not between 1 and 255 then
      raise exception 'invalid idempotency key: 1 to 255 characters' using errcode = '22023';
    end if;
    if not pg_catalog.isfinite(p_now) then
      raise exception 'invalid p_now: must be a finite time' using errcode = '22023';
    end if;
    if char_length(p_model) > 100 then
      raise exception 'invalid model: at most 100 characters' using errcode = '22023';
    end if;
  end if;
  -- the model's prices and the call's cost (and its UTC day) in one statement
  select m.model_id, m.provider, m.input_pricing_per_million_tokens, m.output_pricing_per_million_tokens, c.cached_price,
         (((p_input_tokens - p_cached_input_tokens)::numeric * m.input_pricing_per_million_tokens
           + p_cached_input_tokens::numeric * c.cached_price) / 1000000)::numeric(20,10),
         (p_output_tokens::numeric * m.output_pricing_per_million_tokens / 1000000)::numeric(20,10),
         (p_now at time zone 'UTC')::date
    into v_model_id, v_provider, v_input_price, v_output_price, v_cached_price, v_input_cost, v_output_cost, v_day
    from public.model_config as m,
         lateral (select coalesce(m.cached_input_pricing_per_million_tokens, m.input_pricing_per_million_tokens) as cached_price) as c
   where m.model_id = p_model;
  if not found then
    raise exception 'unknown model "%"', coalesce(p_model, 'null') using errcode = '22023',
      hint = 'Models and their prices are in public.model_config.';
  end if;
  if p_conversation_id is not null
     and not exists (select 1 from public.conversations as c where c.id = p_conversation_id and c.user_id = p_user_id) then
    raise exception 'conversation % not found for this user', p_conversation_id using errcode = '23503';
  end if;

  -- Usage records commit asynchronously: a crash can lose the records of
  -- about the last 0.6 s (3 x wal_writer_delay) before the WAL was flushed,
  -- and in exchange a commit does not wait for an fsync. A lost record is
  -- lost whole: the usage row, the day's aggregate, the credits spent, the
  -- settled reservation and the conversation totals are this one
  -- transaction's commit, so usage and credits can never disagree (the
  -- reservation is pending again and expires; the user is not charged for
  -- that call). Every call that moves money or plans (reserve_credits,
  -- void_credit_reservation, set_user_plan, payments) commits synchronously.
  -- docs/usage.md "Durability" weighs this.
  v_ignored := pg_catalog.set_config('synchronous_commit', 'off', true);

  -- Settling: lock the reservation first, so two settlements of it queue up.
  if p_reservation_id is not null then
    select r.* into v_reservation from private.credit_reservations as r
     where r.id = p_reservation_id and r.user_id = p_user_id
       for update;
    if not found then
      raise exception 'credit reservation % not found for this user', p_reservation_id using errcode = 'PT404';
    end if;
    if v_reservation.status = 'settled' and p_idempotency_key is not null then
      -- a retry of the call that settled it: answer as the first time
      select l.* into v_row from public.usage_logs as l
       where l.id = v_reservation.usage_log_id and l.idempotency_key = p_idempotency_key;
      if found then
        return v_row;
      end if;
    end if;
    if v_reservation.status <> 'pending' then
      raise exception 'credit reservation % is already %', p_reservation_id, v_reservation.status using errcode = 'PT409';
    end if;
  end if;

  -- The writes every call makes in one statement (each plpgsql statement
  -- costs an executor run): the usage row, and - only when that row was new -
  -- the day's aggregate and the credits spent. The same idempotency key twice
  -- records once: a racing duplicate waits on the unique index for the first
  -- to commit, then inserts nothing, so nothing else is written either. The
  -- reservation and the conversation follow in the same transaction, only
  -- when given (each would otherwise cost an empty update of its table).
  with log as (
    insert into public.usage_logs (
      user_id, conversation_id, agent_type, model_used, provider,
      input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, total_tokens,
      input_cost, output_cost, total_cost,
      input_price_per_million, output_price_per_million, cached_input_price_per_million,
      request_timestamp, response_timestamp, duration_ms, metadata, idempotency_key, reservation_id
    )
    values (
      p_user_id, p_conversation_id, p_agent_type, v_model_id, v_provider,
      p_input_tokens, p_output_tokens, p_cached_input_tokens, p_reasoning_tokens, p_input_tokens + p_output_tokens,
      v_input_cost, v_output_cost, v_input_cost + v_output_cost,
      v_input_price, v_output_price, v_cached_price,
      p_now - pg_catalog.make_interval(secs => coalesce(p_duration_ms, 0) / 1000.0), p_now, p_duration_ms,
      coalesce(p_metadata, '{}'::jsonb), p_idempotency_key, p_reservation_id
    )
    on conflict (user_id, idempotency_key) where idempotency_key is not null do nothing
    returning *
  ), daily as (
    insert into public.daily_usage as d (
      user_id, date, model_name, total_tokens, input_tokens, output_tokens,
      cached_input_tokens, reasoning_tokens, total_cost, requests_count
    )
    select log.user_id, v_day, log.model_used, log.total_tokens, log.input_tokens, log.output_tokens,
           log.cached_input_tokens, log.reasoning_tokens, log.total_cost, 1
      from log
    on conflict (user_id, date, model_name) do update
       set total_tokens = d.total_tokens + excluded.total_tokens,
           input_tokens = d.input_tokens + excluded.input_tokens,
           output_tokens = d.output_tokens + excluded.output_tokens,
           cached_input_tokens = d.cached_input_tokens + excluded.cached_input_tokens,
           reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
           total_cost = d.total_cost + excluded.total_cost,
           requests_count = d.requests_count + 1,
           updated_at = p_now
  ), anchor as (
    -- the billing month of p_now (as private.credit_period computes it)
    select a.anchor,
           ((extract(year from v_day) - extract(year from a.anchor)) * 12
            + extract(month from v_day) - extract(month from a.anchor))::integer as months
      from (select coalesce((select up.reset_date from public.user_plans as up
                              where up.user_id = p_user_id and up.active), date '2000-01-01') as anchor) as a
  ), balance as (
    -- spend lands in the windows of p_now; a settled reservation's hold
    -- stops counting with its status change below
    insert into private.credit_balances as b (user_id, day, day_spent, month_start, month_spent, updated_at)
    select log.user_id, v_day, log.total_cost,
           (anchor.anchor + pg_catalog.make_interval(months => case
              when (anchor.anchor + pg_catalog.make_interval(months => anchor.months))::date <= v_day
              then anchor.months else anchor.months - 1 end))::date,
           log.total_cost, p_now
      from log, anchor
    on conflict (user_id) do update
       set day_spent = case when b.day < excluded.day then excluded.day_spent
                            when b.day = excluded.day then b.day_spent + excluded.day_spent
                            else b.day_spent end,
           day = greatest(b.day, excluded.day),
           month_spent = case when b.month_start < excluded.month_start then excluded.month_spent
                              when b.month_start = excluded.month_start then b.month_spent + excluded.month_spent
                              else b.month_spent end,
           month_start = greatest(b.month_start, excluded.month_start),
           updated_at = p_now
  )
  select log.* into v_row from log;

  if v_row.id is null then
    select l.* into v_row from public.usage_logs as l
     where l.user_id = p_user_id and l.idempotency_key = p_idempotency_key;
    return v_row;
  end if;
  if p_reservation_id is not null then
    update private.credit_reservations as r
       set status = 'settled', finished_at = p_now, usage_log_id = v_row.id
     where r.id = p_reservation_id;
  end if;
  if p_conversation_id is not null then
    -- the chat domain's conversations.total_* are kept here, not by message inserts
    update public.conversations as c
       set total_input_tokens = c.total_input_tokens + v_row.input_tokens,
           total_output_tokens = c.total_output_tokens + v_row.output_tokens,
           total_cost = c.total_cost + v_row.total_cost
     where c.id = p_conversation_id and c.user_id = p_user_id;
  end if;
  return v_row;
end;
$$;

comment on function public.record_usage(uuid, text, integer, integer, integer, integer, uuid, text, integer, jsonb, text, uuid, timestamptz) is
  'Service role only (the code that made the model call). Records one call in one transaction: cost from the model''s current price, a usage_logs row (with that price), daily_usage upserted, credits spent, the conversation''s totals bumped, and p_reservation_id settled. The same p_idempotency_key twice records once and returns the first row. Tokens: input includes cached, output includes reasoning.';

revoke execute on function public.record_usage(uuid, text, integer, integer, integer, integer, uuid, text, integer, jsonb, text, uuid, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.record_usage(uuid, text, integer, integer, integer, integer, uuid, text, integer, jsonb, text, uuid, timestamptz) to service_role;

-- Reconciliation: the credits spent in each balance's current day against the
-- usage rows of that day. record_usage writes both in one transaction, so an
-- asynchronous commit lost in a crash takes both and this stays empty; a row
-- here means something wrote one without the other (a manual fix, a direct
-- service-role insert) and says by how much.
create or replace function private.credit_usage_drift()
returns table (user_id uuid, day date, credits_spent numeric, usage_cost numeric)
language sql
stable
security invoker
set search_path = ''
as $$
  select b.user_id, b.day, b.day_spent, coalesce(l.cost, 0)
    from private.credit_balances as b
    left join lateral (
      select sum(u.total_cost) as cost
        from public.usage_logs as u
       where u.user_id = b.user_id
         and u.response_timestamp >= (b.day::timestamp at time zone 'UTC')
         and u.response_timestamp < ((b.day + 1)::timestamp at time zone 'UTC')
    ) as l on true
   where b.day_spent <> coalesce(l.cost, 0);
$$;

comment on function private.credit_usage_drift() is
  'Users whose credits spent today (credit_balances) differ from the cost of their usage_logs rows of that day: empty unless something wrote one without the other. For monitoring; record_usage writes both in one transaction.';

revoke execute on function private.credit_usage_drift() from public, anon, authenticated, service_role;
grant execute on function private.credit_usage_drift() to service_role;

-- ---------------------------------------------------------------------------
-- Usage reads
-- ---------------------------------------------------------------------------
-- The guard of the caller's usage reads: signed in, and a range of at most
-- 366 UTC days with its start on or before its end.
create or replace function private.require_usage_reader(p_start_date date, p_end_date date)
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception 'you must be signed in to read usage' using errcode = '42501';
  end if;
  if p_start_date is null or p_end_date is null or p_start_date > p_end_date
     or not pg_catalog.isfinite(p_start_date) or not pg_catalog.isfinite(p_end_date) then
    raise exception 'invalid date range: p_start_date must be on or before p_end_date' using errcode = '22023';
  end if;
  if p_end_date - p_start_date > 366 then
    raise exception 'invalid date range: at most 366 days' using errcode = '22023';
  end if;
  return v_uid;
end;
$$;

comment on function private.require_usage_reader(date, date) is
  'The caller''s user id for get_current_user_usage_summary and get_current_user_daily_usage: 42501 when not signed in, 22023 for a reversed, open or longer than 366-day range.';

revoke execute on function private.require_usage_reader(date, date) from public, anon, authenticated, service_role;
grant execute on function private.require_usage_reader(date, date) to authenticated;

create or replace function public.get_current_user_usage_summary(
  p_start_date date default (current_date - 30),
  p_end_date date default current_date
)
returns table (
  total_calls bigint,
  total_input_tokens bigint,
  total_output_tokens bigint,
  total_tokens bigint,
  total_cost numeric,
  agent_breakdown jsonb
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_usage_reader(p_start_date, p_end_date);
begin
  return query
  with logs as (
    select l.agent_type, l.input_tokens, l.output_tokens, l.total_tokens, l.total_cost
      from public.usage_logs as l
     where l.user_id = v_uid
       and l.request_timestamp >= (p_start_date::timestamp at time zone 'UTC')
       and l.request_timestamp < ((p_end_date + 1)::timestamp at time zone 'UTC')
  ), per_agent as (
    select logs.agent_type, count(*) as calls, sum(logs.input_tokens) as input_tokens,
           sum(logs.output_tokens) as output_tokens, sum(logs.total_tokens) as tokens, sum(logs.total_cost) as cost
      from logs
     group by logs.agent_type
  )
  select coalesce(sum(a.calls), 0)::bigint,
         coalesce(sum(a.input_tokens), 0)::bigint,
         coalesce(sum(a.output_tokens), 0)::bigint,
         coalesce(sum(a.tokens), 0)::bigint,
         coalesce(sum(a.cost), 0)::numeric,
         coalesce(jsonb_object_agg(a.agent_type, jsonb_build_object(
           'calls', a.calls, 'input_tokens', a.input_tokens, 'output_tokens', a.output_tokens,
           'total_tokens', a.tokens, 'total_cost', a.cost)) filter (where a.agent_type is not null), '{}'::jsonb)
    from per_agent as a;
end;
$$;

comment on function public.get_current_user_usage_summary(date, date) is
  'The caller''s usage between two UTC dates inclusive (seed 002): calls, tokens, cost, and agent_breakdown {agent_type: {calls, input_tokens, output_tokens, total_tokens, total_cost}}. Defaults: the last 30 days.';

create or replace function public.get_current_user_daily_usage(
  p_start_date date default (current_date - 30),
  p_end_date date default current_date
)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_usage_reader(p_start_date, p_end_date);
  v_result jsonb;
begin
  select jsonb_agg(jsonb_build_object(
           'date', g.day,
           'requests', coalesce(d.requests, 0),
           'input_tokens', coalesce(d.input_tokens, 0),
           'output_tokens', coalesce(d.output_tokens, 0),
           'total_tokens', coalesce(d.total_tokens, 0),
           'total_cost', coalesce(d.total_cost, 0)) order by g.day)
    into v_result
    from (select d::date as day
            from pg_catalog.generate_series(p_start_date::timestamp, p_end_date::timestamp, interval '1 day') as d) as g
    left join (
      select u.date, sum(u.requests_count) as requests, sum(u.input_tokens) as input_tokens,
             sum(u.output_tokens) as output_tokens, sum(u.total_tokens) as total_tokens, sum(u.total_cost) as total_cost
        from public.daily_usage as u
       where u.user_id = v_uid and u.date between p_start_date and p_end_date
       group by u.date
    ) as d on d.date = g.day;
  return coalesce(v_result, '[]'::jsonb);
end;
$$;

comment on function public.get_current_user_daily_usage(date, date) is
  'The caller''s daily series for charts: one element per UTC day in the range (zeros included) with requests, tokens and cost summed over models.';

revoke execute on function public.get_current_user_usage_summary(date, date) from public, anon, authenticated, service_role;
revoke execute on function public.get_current_user_daily_usage(date, date) from public, anon, authenticated, service_role;
grant execute on function public.get_current_user_usage_summary(date, date) to authenticated;
grant execute on function public.get_current_user_daily_usage(date, date) to authenticated;

-- ---------------------------------------------------------------------------
-- Rate limiting: GCRA over an unlogged state table
-- ---------------------------------------------------------------------------
-- One theoretical arrival time (tat) per user and bucket. A limit of L per
-- window W admits a request of cost c when max(tat, now) + c*W/L - now <= W,
-- and then stores that sum as the new tat. O(1) per window, no reset job.
-- W/L is rarely a whole number of microseconds (60 s / 7), and a timestamp
-- holds nothing finer: a rounded step loses the last request of a burst
-- (rounded up) or hands out extra ones over time (rounded down). So the tat is
-- kept exactly, as whole microseconds (tat) plus tat_remainder/L of one, and
-- every step is computed in integer units of 1/L microsecond.
create unlogged table if not exists private.rate_limit_state (
  user_id uuid not null,
  bucket text not null,
  tat timestamptz not null,
  tat_remainder integer not null default 0,
  primary key (user_id, bucket)
);

comment on table private.rate_limit_state is
  'GCRA state per user and bucket (endpoint:window): the exact theoretical arrival time is tat plus tat_remainder/limit of a microsecond. UNLOGGED: writing it costs no WAL and no fsync; a crash empties it, which only gives everyone a full quota again. Rows of deleted users expire by purge_rate_limit_state.';

create table if not exists public.rate_limit_violations (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  endpoint text not null,
  bucket text not null,
  limit_value integer not null,
  window_start timestamptz not null,
  denied_count integer not null default 1,
  first_denied_at timestamptz not null,
  last_denied_at timestamptz not null,
  unique (user_id, bucket, window_start)
);

comment on table public.rate_limit_violations is
  'Denied rate-limit checks (seed 001 rate_limit_violations). At most one row per user, bucket and minute, with a count: a client hammering the API cannot grow it faster than that.';

create index if not exists rate_limit_violations_window on public.rate_limit_violations (window_start);

alter table private.rate_limit_state enable row level security;
alter table public.rate_limit_violations enable row level security;

create policy rate_limit_violations_select on public.rate_limit_violations
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table private.rate_limit_state from public, anon, authenticated, service_role;
revoke all on table public.rate_limit_violations from anon, authenticated, service_role;
grant select on table public.rate_limit_violations to authenticated;
grant select, delete on table public.rate_limit_violations to service_role;

-- The rules to check for a user and endpoint: the plan's (plan_rate_limits)
-- and per-agent rules from admin_config rateLimit.perMinute/perHour/perDay.
-- Empty array: unknown endpoint. max_requests null: unlimited. An array
-- rather than a set: a plain function call is several times cheaper than a
-- set-returning one on this hot path.
create type private.rate_limit_rule as (bucket text, max_requests integer, window_seconds integer);

comment on type private.rate_limit_rule is
  'One rate-limit rule: a state bucket key (endpoint:window_seconds, or the admin domain''s agent keys), max_requests per window_seconds (null = unlimited).';

-- The fast path's rule: for each plan and plan endpoint with exactly one
-- limited window (every rule the seeds define), that window. Kept from
-- public.plan_rate_limits by a statement trigger, so check_rate_limit reads it
-- in the same statement as the state row it updates, and a change to the plan
-- limits applies to the next call. Endpoints ending in _agent are left out:
-- private.rate_limit_rules reads those as agent rules.
create table if not exists private.plan_single_window_rules (
  plan_name text not null,
  endpoint text not null,
  bucket text not null,
  max_requests integer not null,
  window_seconds integer not null,
  primary key (plan_name, endpoint)
);

comment on table private.plan_single_window_rules is
  'Derived from public.plan_rate_limits (trigger plan_rate_limits_single_window_rules): each plan endpoint with exactly one window, limited. check_rate_limit''s fast path reads its rule here; every other case goes through private.rate_limit_rules.';

alter table private.plan_single_window_rules enable row level security;
revoke all on table private.plan_single_window_rules from public, anon, authenticated, service_role;

create or replace function private.refresh_plan_single_window_rules()
returns trigger
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- a handful of rows: rebuilt whole. The lock queues concurrent catalog
  -- changes, so each rebuild reads the other's committed rows.
  lock table private.plan_single_window_rules in exclusive mode;
  delete from private.plan_single_window_rules;
  insert into private.plan_single_window_rules (plan_name, endpoint, bucket, max_requests, window_seconds)
  select l.plan_name, l.endpoint, l.endpoint || ':' || min(l.window_seconds), min(l.max_requests), min(l.window_seconds)
    from public.plan_rate_limits as l
   where l.endpoint not like '%\_agent'
   group by l.plan_name, l.endpoint
  having count(*) = 1 and count(l.max_requests) = 1;
  return null;
end;
$$;

comment on function private.refresh_plan_single_window_rules() is
  'Statement trigger of public.plan_rate_limits: rebuilds private.plan_single_window_rules, so a plan limit change applies to the next check.';

revoke execute on function private.refresh_plan_single_window_rules() from public, anon, authenticated, service_role;

create trigger plan_rate_limits_single_window_rules
  after insert or update or delete on public.plan_rate_limits
  for each statement execute function private.refresh_plan_single_window_rules();
create trigger plan_rate_limits_single_window_rules_truncate
  after truncate on public.plan_rate_limits
  for each statement execute function private.refresh_plan_single_window_rules();

-- Endpoints: a plan endpoint ('chat'), an agent type ('document_agent': the
-- agent's limits only) or '<plan endpoint>:<agent type>' ('chat:document_agent':
-- the plan's limits and the agent's). The agent's limits are those of
-- '<agent_type>_<activeProvider>' in public.admin_config (the admin domain,
-- 20261122080000_admin.sql; plpgsql resolves it when called), read on every
-- call, so an admin's change applies to the next request. Buckets are per
-- agent, not per provider: switching provider does not hand out fresh quotas.
create or replace function private.rate_limit_rules(p_user_id uuid, p_endpoint text)
returns private.rate_limit_rule[]
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_rules private.rate_limit_rule[];
  v_agent text;
  v_limits jsonb;
begin
  if p_endpoint not like '%\_agent' then
    -- the hot path: a plan endpoint, the plan's rules only
    select array_agg(row(l.endpoint || ':' || l.window_seconds, l.max_requests, l.window_seconds)::private.rate_limit_rule
                     order by l.window_seconds)
      into v_rules
      from public.plan_rate_limits as l
     where l.endpoint = p_endpoint
       and l.plan_name = coalesce((select up.plan_name from public.user_plans as up
                                    where up.user_id = p_user_id and up.active), 'basic');
    return coalesce(v_rules, '{}');
  end if;

  v_agent := pg_catalog.split_part(p_endpoint, ':', 2);
  if v_agent = '' then
    v_agent := p_endpoint;
  else
    select array_agg(row(l.endpoint || ':' || l.window_seconds, l.max_requests, l.window_seconds)::private.rate_limit_rule
                     order by l.window_seconds)
      into v_rules
      from public.plan_rate_limits as l
     where l.endpoint = pg_catalog.split_part(p_endpoint, ':', 1)
       and l.plan_name = coalesce((select up.plan_name from public.user_plans as up
                                    where up.user_id = p_user_id and up.active), 'basic');
    if v_rules is null then
      return '{}';  -- unknown plan endpoint
    end if;
  end if;

  select c.config_data -> 'rateLimit' into v_limits
    from public.admin_config as c
   where c.config_key = v_agent || '_' || coalesce(
           (select s.config_data ->> 'activeProvider' from public.admin_config as s where s.config_key = 'app_settings'),
           'google');
  if v_limits is null then
    return coalesce(v_rules, '{}');  -- no such agent: unknown endpoint unless the plan knows it
  end if;
  -- plan windows first, then the agent's: the same lock order on every call
  return coalesce(v_rules, '{}') || array[
    row('agent:' || v_agent || ':60', (v_limits ->> 'perMinute')::integer, 60)::private.rate_limit_rule,
    row('agent:' || v_agent || ':3600', (v_limits ->> 'perHour')::integer, 3600)::private.rate_limit_rule,
    row('agent:' || v_agent || ':86400', (v_limits ->> 'perDay')::integer, 86400)::private.rate_limit_rule];
end;
$$;

comment on function private.rate_limit_rules(uuid, text) is
  'Rate-limit rules for a user and endpoint, in a fixed (lock) order. Plan endpoint: the plan''s rules (public.plan_rate_limits). Agent type (document_agent): the agent''s rateLimit.perMinute/perHour/perDay from admin_config <agent>_<activeProvider>. <plan endpoint>:<agent type>: both. Empty = unknown endpoint.';

revoke execute on function private.rate_limit_rules(uuid, text) from public, anon, authenticated, service_role;

-- GCRA over every rule of the endpoint. With p_consume, takes p_cost from all
-- of them or from none (a denial is logged in rate_limit_violations).
-- Resolves the user (the caller; p_user_id only for the service role) and
-- the clock (app.usage_now, else now()) itself: on this path every extra
-- function call is measurable.
create or replace function private.check_rate_limit(
  p_endpoint text, p_cost integer, p_user_id uuid, p_consume boolean
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- No initializers: every plpgsql expression is re-prepared once per
  -- transaction, and an API request is one transaction, so on this path the
  -- number of expressions evaluated is what costs (docs/usage.md).
  v_uid uuid;
  v_now timestamptz;
  v_rules private.rate_limit_rule[];
  v_bucket text;
  v_max integer;
  v_window_seconds integer;
  v_rule private.rate_limit_rule;
  v_allowed boolean;
  v_reason text;
  v_window interval;
  -- the call's cost in units of 1/limit microsecond: cost * window (exact)
  v_units bigint;
  v_tat timestamptz;
  v_rem bigint;
  v_consumed text[];
  v_consumed_units bigint[];
  v_consumed_max integer[];
  v_remaining bigint;
  v_retry numeric;
  v_windows jsonb;
  v_bind jsonb;
  v_bind_remaining bigint;
  v_bind_retry numeric;
  v_entry jsonb;
begin
  if p_user_id is null then
    v_uid := auth.uid();
  elsif p_user_id is distinct from auth.uid() and coalesce(auth.jwt() ->> 'role', '') <> 'service_role' then
    raise exception 'only the service role may check another user''s rate limit' using errcode = '42501';
  else
    v_uid := p_user_id;
  end if;
  if v_uid is null or p_endpoint is null or p_endpoint !~ '^[a-z][a-z0-9_:.-]{0,63}$'
     or p_cost is null or p_cost < 1 or p_cost > 1000000 then
    if v_uid is null then
      raise exception 'you must be signed in to be rate limited' using errcode = '42501';
    elsif p_endpoint is null or p_endpoint !~ '^[a-z][a-z0-9_:.-]{0,63}$' then
      raise exception 'invalid endpoint: lowercase letters, digits, _ : . - (at most 64)' using errcode = '22023';
    end if;
    raise exception 'invalid cost: must be between 1 and 1000000' using errcode = '22023';
  end if;

  v_now := coalesce(nullif(pg_catalog.current_setting('app.usage_now', true), '')::timestamptz, pg_catalog.now());

  -- Fast path: a plan endpoint with a single limited window (every rule the
  -- seeds define), a state row that exists and a call that fits: one
  -- statement reads the rule (private.plan_single_window_rules, kept from
  -- plan_rate_limits by a trigger) and the user's plan, and updates the row.
  -- Anything else (several windows, unlimited, an agent's rules, a denial, a
  -- first call that creates the row) finds no row here and takes the general
  -- path below, which gives the same answer. private.consume_quota runs the
  -- same statement: change both together.
  --
  -- Exact arithmetic (see private.rate_limit_state): the theoretical arrival
  -- time is tat + tat_remainder/limit microseconds. Advancing it by cost *
  -- window / limit is adding units = cost * window (in microseconds) to the
  -- remainder and carrying whole multiples of the limit into tat as
  -- microseconds; it fits when (new tat, new remainder) <= (now + window, 0).
  -- A remainder stored under another limit (an admin changed it) is capped
  -- below one microsecond. Bounds: window <= 31 days and cost <= 1,000,000
  -- keep units below 2.7e18, inside bigint. The check and the update are one
  -- statement: a concurrent caller's update makes this one wait and re-check
  -- the condition on the new row (READ COMMITTED re-evaluation), so
  -- admissions are exact.
  if p_consume then
    update private.rate_limit_state as s
       set tat = greatest(s.tat, v_now)
                 + ((case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
                     + 1000000::bigint * r.window_seconds * p_cost) / r.max_requests) * interval '1 microsecond',
           tat_remainder = (case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
                            + 1000000::bigint * r.window_seconds * p_cost) % r.max_requests
      from private.plan_single_window_rules as r
     where r.plan_name = coalesce((select up.plan_name from public.user_plans as up
                                    where up.user_id = v_uid and up.active), 'basic')
       and r.endpoint = p_endpoint
       and s.user_id = v_uid and s.bucket = r.bucket
       and (greatest(s.tat, v_now)
            + ((case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
                + 1000000::bigint * r.window_seconds * p_cost) / r.max_requests) * interval '1 microsecond',
            (case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
             + 1000000::bigint * r.window_seconds * p_cost) % r.max_requests)
           <= (v_now + pg_catalog.make_interval(secs => r.window_seconds), 0)
    returning s.tat, s.tat_remainder, r.bucket, r.max_requests, r.window_seconds
         into v_tat, v_rem, v_bucket, v_max, v_window_seconds;
  else
    -- the same question without the write (no row: a full window)
    select t.tat, t.rem, t.bucket, t.max_requests, t.window_seconds
      into v_tat, v_rem, v_bucket, v_max, v_window_seconds
      from (select greatest(s.tat, v_now) as tat,
                   case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end as rem,
                   1000000::bigint * r.window_seconds * p_cost as units,
                   r.bucket, r.max_requests, r.window_seconds
              from private.plan_single_window_rules as r
              left join private.rate_limit_state as s on s.user_id = v_uid and s.bucket = r.bucket
             where r.plan_name = coalesce((select up.plan_name from public.user_plans as up
                                            where up.user_id = v_uid and up.active), 'basic')
               and r.endpoint = p_endpoint) as t
     where (t.tat + ((t.rem + t.units) / t.max_requests) * interval '1 microsecond', (t.rem + t.units) % t.max_requests)
           <= (v_now + pg_catalog.make_interval(secs => t.window_seconds), 0);
  end if;

  if v_tat is not null then
    -- allowed on the fast path: its one window, from the scalars read above
    -- (the loop below builds the same entry from a rule; going through it
    -- would mean the rule array and every per-window statement)
    v_allowed := true;
    v_bind := jsonb_build_object('bucket', v_bucket, 'limit', v_max, 'window_seconds', v_window_seconds,
      'remaining', pg_catalog.floor(((v_window_seconds - extract(epoch from (v_tat - v_now))) * v_max - v_rem / 1000000.0)
                                    / v_window_seconds)::bigint,
      'reset_at', v_tat,
      'reset_after_seconds', pg_catalog.ceil(extract(epoch from (v_tat - v_now)) + v_rem / 1000000.0 / v_max),
      'retry_after_seconds', null);
    v_windows := jsonb_build_array(v_bind);
  else
    v_rules := private.rate_limit_rules(v_uid, p_endpoint);

    -- General path: every window in order, all or nothing.
    if cardinality(v_rules) = 0 then
      raise exception 'unknown endpoint "%"', p_endpoint
        using errcode = '22023', hint = 'Rate-limited endpoints are listed in public.plan_rate_limits.';
    end if;
    v_allowed := true;
    v_consumed := '{}'::text[];
    v_consumed_units := '{}'::bigint[];
    v_consumed_max := '{}'::integer[];
    v_windows := '[]'::jsonb;

    foreach v_rule in array v_rules loop
      continue when v_rule.max_requests is null;
      v_window := pg_catalog.make_interval(secs => v_rule.window_seconds);
      v_units := 1000000::bigint * v_rule.window_seconds * p_cost;
      v_max := v_rule.max_requests;
      v_retry := null;
      v_tat := null;
      v_rem := null;

      if p_consume and v_allowed and p_cost <= v_max then
        -- The check and the update are one statement: a concurrent caller's
        -- update makes this one wait and re-check the condition on the new
        -- row (READ COMMITTED re-evaluation), so admissions are exact.
        update private.rate_limit_state as s
           set tat = greatest(s.tat, v_now)
                     + ((case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end + v_units) / v_max)
                       * interval '1 microsecond',
               tat_remainder = (case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end + v_units) % v_max
         where s.user_id = v_uid and s.bucket = v_rule.bucket
           and (greatest(s.tat, v_now)
                + ((case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end + v_units) / v_max)
                  * interval '1 microsecond',
                (case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end + v_units) % v_max)
               <= (v_now + v_window, 0)
        returning s.tat, s.tat_remainder into v_tat, v_rem;
        if v_tat is null then
          -- no row yet (first call in this bucket), or it does not fit
          insert into private.rate_limit_state (user_id, bucket, tat, tat_remainder)
          values (v_uid, v_rule.bucket, v_now + (v_units / v_max) * interval '1 microsecond', v_units % v_max)
          on conflict (user_id, bucket) do nothing
          returning tat, tat_remainder into v_tat, v_rem;
        end if;
        if v_tat is null then
          -- the row exists: denied, unless a concurrent first call created it just now
          update private.rate_limit_state as s
             set tat = greatest(s.tat, v_now)
                       + ((case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end + v_units) / v_max)
                         * interval '1 microsecond',
                 tat_remainder = (case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end + v_units) % v_max
           where s.user_id = v_uid and s.bucket = v_rule.bucket
             and (greatest(s.tat, v_now)
                  + ((case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end + v_units) / v_max)
                    * interval '1 microsecond',
                  (case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end + v_units) % v_max)
                 <= (v_now + v_window, 0)
          returning s.tat, s.tat_remainder into v_tat, v_rem;
        end if;
        if v_tat is not null then
          v_consumed := v_consumed || v_rule.bucket;
          v_consumed_units := v_consumed_units || v_units;
          v_consumed_max := v_consumed_max || v_max;
        end if;
      end if;

      if v_tat is null then
        -- not consumed: a peek, a rule after a denial, or a denial (consuming
        -- and still allowed here means this window refused)
        select greatest(s.tat, v_now), case when s.tat >= v_now then least(s.tat_remainder, v_max - 1) else 0 end
          into v_tat, v_rem
          from private.rate_limit_state as s
         where s.user_id = v_uid and s.bucket = v_rule.bucket;
        v_tat := coalesce(v_tat, v_now);
        v_rem := coalesce(v_rem, 0);
        if (v_tat + ((v_rem + v_units) / v_max) * interval '1 microsecond', (v_rem + v_units) % v_max) > (v_now + v_window, 0)
           or (p_consume and v_allowed) then
          v_allowed := false;
          if p_cost > v_max then
            v_reason := coalesce(v_reason, 'cost_exceeds_limit');
          else
            -- the wait until tat + cost * window / limit - window <= now
            v_retry := greatest(extract(epoch from (v_tat - v_now)) + (v_rem + v_units)::numeric / v_max / 1000000
                                - v_rule.window_seconds, 0);
            v_reason := coalesce(v_reason, 'rate_limited');
          end if;
        end if;
      end if;

      v_remaining := pg_catalog.floor(((v_rule.window_seconds - extract(epoch from (v_tat - v_now))) * v_max - v_rem / 1000000.0)
                                      / v_rule.window_seconds)::bigint;
      v_entry := jsonb_build_object(
        'bucket', v_rule.bucket, 'limit', v_max, 'window_seconds', v_rule.window_seconds,
        'remaining', greatest(v_remaining, 0),
        'reset_at', v_tat,
        'reset_after_seconds', pg_catalog.ceil(extract(epoch from (v_tat - v_now)) + v_rem / 1000000.0 / v_max),
        'retry_after_seconds', pg_catalog.ceil(v_retry));
      v_windows := v_windows || v_entry;
      -- The window the headers describe: the one that denied with the longest wait, else the tightest.
      if v_bind is null
         or (v_retry is not null and (v_bind_retry is null or v_retry > v_bind_retry))
         or (v_bind_retry is null and v_retry is null and v_remaining < v_bind_remaining) then
        v_bind := v_entry;
        v_bind_remaining := v_remaining;
        v_bind_retry := v_retry;
      end if;
    end loop;

    if p_consume and not v_allowed then
      -- a denial's log row is telemetry: no fsync wait for it
      perform pg_catalog.set_config('synchronous_commit', 'off', true);
      -- All or nothing: give back what earlier windows took, exactly (borrow
      -- a microsecond when the remainder is smaller than the part given
      -- back). Their rows are still locked by this transaction.
      for i in 1 .. coalesce(array_length(v_consumed, 1), 0) loop
        update private.rate_limit_state
           set tat = tat - (v_consumed_units[i] / v_consumed_max[i]
                            + (tat_remainder < v_consumed_units[i] % v_consumed_max[i])::integer) * interval '1 microsecond',
               tat_remainder = (tat_remainder - v_consumed_units[i] % v_consumed_max[i] + v_consumed_max[i]) % v_consumed_max[i]
         where user_id = v_uid and bucket = v_consumed[i];
      end loop;
      insert into public.rate_limit_violations as v
        (user_id, endpoint, bucket, limit_value, window_start, first_denied_at, last_denied_at)
      values (v_uid, p_endpoint, v_bind ->> 'bucket', (v_bind ->> 'limit')::integer,
              pg_catalog.date_trunc('minute', v_now), v_now, v_now)
      on conflict (user_id, bucket, window_start) do update
         set denied_count = v.denied_count + 1, last_denied_at = greatest(v.last_denied_at, excluded.last_denied_at);
    end if;
  end if;

  -- the binding window's figures at the top level (bucket renamed policy)
  return (coalesce(v_bind, '{"bucket": null, "limit": null, "window_seconds": null, "remaining": null, "reset_at": null,
                             "reset_after_seconds": null, "retry_after_seconds": null}'::jsonb) - 'bucket')
         || jsonb_build_object('allowed', v_allowed, 'endpoint', p_endpoint, 'cost', p_cost, 'reason', v_reason,
                               'policy', v_bind -> 'bucket', 'windows', v_windows);
end;
$$;

comment on function private.check_rate_limit(text, integer, uuid, boolean) is
  'Definer core of check_rate_limit (p_consume) and get_rate_limit_status: GCRA over every rule of the endpoint for the caller (service role: p_user_id) at app.usage_now or now(); consuming takes p_cost from all windows or none and logs a denial.';

revoke execute on function private.check_rate_limit(text, integer, uuid, boolean) from public, anon, authenticated, service_role;
grant execute on function private.check_rate_limit(text, integer, uuid, boolean) to authenticated, service_role;

create or replace function public.check_rate_limit(p_endpoint text, p_cost integer default 1, p_user_id uuid default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return private.check_rate_limit(p_endpoint, p_cost, p_user_id, true);
end;
$$;

comment on function public.check_rate_limit(text, integer, uuid) is
  'Consumes p_cost from every rate-limit window of p_endpoint for the caller (service role: p_user_id), all or nothing. Returns allowed, limit, remaining, reset_at, reset_after_seconds, retry_after_seconds (for RateLimit/Retry-After headers), reason, policy and every window. A denied call consumes nothing. 22023 for an unknown endpoint or bad cost.';

create or replace function public.get_rate_limit_status(p_endpoint text, p_cost integer default 1, p_user_id uuid default null)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return private.check_rate_limit(p_endpoint, p_cost, p_user_id, false);
end;
$$;

comment on function public.get_rate_limit_status(text, integer, uuid) is
  'What check_rate_limit would answer for a call of p_cost, without consuming anything or logging a violation.';

-- seed 001 resetLimit(userId, endpoint): admins and the service role.
create or replace function private.reset_rate_limit(p_user_id uuid, p_endpoint text)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  if coalesce(auth.jwt() ->> 'role', '') <> 'service_role' and not public.is_current_user_admin() then
    raise exception 'only admins and the service role may reset rate limits' using errcode = '42501';
  end if;
  if p_user_id is null then
    raise exception 'invalid user: p_user_id is required' using errcode = '22023';
  end if;
  if p_endpoint is not null and cardinality(private.rate_limit_rules(p_user_id, p_endpoint)) = 0 then
    raise exception 'unknown endpoint "%"', p_endpoint using errcode = '22023';
  end if;
  delete from private.rate_limit_state as s
   where s.user_id = p_user_id
     and (p_endpoint is null
          or s.bucket in (select r.bucket from pg_catalog.unnest(private.rate_limit_rules(p_user_id, p_endpoint)) as r));
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function private.reset_rate_limit(uuid, text) is
  'Definer core of public.reset_rate_limit: forgets a user''s rate-limit state for one endpoint (or all).';

create or replace function public.reset_rate_limit(p_user_id uuid, p_endpoint text default null)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return private.reset_rate_limit(p_user_id, p_endpoint);
end;
$$;

comment on function public.reset_rate_limit(uuid, text) is
  'Admins and the service role (seed 001 resetLimit): gives a user a full quota again on p_endpoint, or on every endpoint when null. Returns the number of windows reset.';

-- Housekeeping: a state row whose tat is in the past equals no row.
create or replace function private.purge_rate_limit_state(p_now timestamptz default now())
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  delete from private.rate_limit_state as s where s.tat < p_now;
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function private.purge_rate_limit_state(timestamptz) is
  'Deletes rate-limit state that no longer limits anyone (tat in the past: a full quota, same as no row). Safe at any time.';

create or replace function private.purge_rate_limit_violations(p_older_than interval default interval '30 days', p_now timestamptz default now())
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  delete from public.rate_limit_violations as v where v.window_start < p_now - p_older_than;
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function private.purge_rate_limit_violations(interval, timestamptz) is
  'Deletes rate_limit_violations rows older than p_older_than (default 30 days).';

revoke execute on function public.check_rate_limit(text, integer, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.get_rate_limit_status(text, integer, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.reset_rate_limit(uuid, text) from public, anon, authenticated, service_role;
revoke execute on function public.reset_rate_limit(uuid, text) from public, anon, authenticated, service_role;
revoke execute on function private.purge_rate_limit_state(timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.purge_rate_limit_violations(interval, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.check_rate_limit(text, integer, uuid) to authenticated, service_role;
grant execute on function public.get_rate_limit_status(text, integer, uuid) to authenticated, service_role;
grant execute on function private.reset_rate_limit(uuid, text) to authenticated, service_role;
grant execute on function public.reset_rate_limit(uuid, text) to authenticated, service_role;

-- The write quota of a user-callable insert path (docs/conventions.md "Bounds
-- on input"): one unit of p_endpoint's plan windows (public.plan_rate_limits,
-- seeded reference data: 'writes', 'telemetry', 'jobs', or a feature's own
-- endpoint such as 'quiz_generation') for the signed-in caller, or PT429 when
-- they are spent. The service role is not limited: its writes are the
-- backend's own, already bounded where the user's request came in. Security
-- definer: on the fast path it updates private.rate_limit_state itself rather
-- than building check_rate_limit's answer, which every user write would pay.
create or replace function private.consume_quota(p_endpoint text, p_cost integer default 1)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid;
  v_now timestamptz;
  v_result jsonb;
begin
  v_uid := auth.uid();
  if v_uid is null or coalesce(auth.jwt() ->> 'role' = 'service_role', false) then
    return;
  end if;
  v_now := coalesce(nullif(pg_catalog.current_setting('app.usage_now', true), '')::timestamptz, pg_catalog.now());
  -- check_rate_limit's fast path (the same statement: change both together),
  -- without building its answer; any other case asks check_rate_limit. A
  -- cost out of bounds finds no row here and gets check_rate_limit's 22023.
  update private.rate_limit_state as s
     set tat = greatest(s.tat, v_now)
               + ((case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
                   + 1000000::bigint * r.window_seconds * p_cost) / r.max_requests) * interval '1 microsecond',
         tat_remainder = (case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
                          + 1000000::bigint * r.window_seconds * p_cost) % r.max_requests
    from private.plan_single_window_rules as r
   where r.plan_name = coalesce((select up.plan_name from public.user_plans as up
                                  where up.user_id = v_uid and up.active), 'basic')
     and r.endpoint = p_endpoint
     and s.user_id = v_uid and s.bucket = r.bucket
     and p_cost between 1 and 1000000
     and (greatest(s.tat, v_now)
          + ((case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
              + 1000000::bigint * r.window_seconds * p_cost) / r.max_requests) * interval '1 microsecond',
          (case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
           + 1000000::bigint * r.window_seconds * p_cost) % r.max_requests)
         <= (v_now + pg_catalog.make_interval(secs => r.window_seconds), 0);
  if found then
    return;
  end if;
  v_result := private.check_rate_limit(p_endpoint, p_cost, null, true);
  if not (v_result ->> 'allowed')::boolean then
    raise exception 'rate limit exceeded for %: try again in % seconds', p_endpoint, v_result ->> 'retry_after_seconds'
      using errcode = 'PT429',
            detail = pg_catalog.jsonb_build_object('endpoint', p_endpoint, 'limit', v_result -> 'limit',
                                                   'retry_after_seconds', v_result -> 'retry_after_seconds')::text;
  end if;
end;
$$;

comment on function private.consume_quota(text, integer) is
  'Consumes p_cost of the signed-in caller''s p_endpoint rate limit; PT429 (detail: endpoint, limit, retry_after_seconds) when spent. No-op for the service role. 22023 when the endpoint has no rules (seed the plan limits).';

revoke execute on function private.consume_quota(text, integer) from public, anon, authenticated, service_role;
grant execute on function private.consume_quota(text, integer) to authenticated, service_role;

-- Housekeeping on a schedule (cron.schedule upserts by job name, so
-- re-running is harmless; private.scheduled_job_status shows each last run).
-- State rows whose tat has passed equal no row: purging them every 15
-- minutes keeps rate_limit_state near the number of users active in the
-- last window. Violations are kept 30 days.
select cron.schedule('purge-rate-limit-state', '*/15 * * * *', 'select private.purge_rate_limit_state()');
select cron.schedule('purge-rate-limit-violations', '50 3 * * *', 'select private.purge_rate_limit_violations()');
