-- Administration and configuration: agent configs (validation; their per-agent
-- rate limits are applied by private.rate_limit_rules in the usage migration),
-- model administration, feature flags, service configurations with history and
-- encrypted secrets, service registry.
--
-- Seeds: 002 (admin_config, validate_admin_config_data, {agent_type}_{provider}
-- keys, app_settings, model configuration managed by admins without
-- deployments), 004 (service_registry, register_service, service health
-- overview, feature_flags, feature_flag_evaluations, is_feature_enabled,
-- configurations, configuration_history, set_config, get_config,
-- get_service_configs). Mapping and choices: docs/admin.md.
--
-- public.set_config(...) shares its name with pg_catalog.set_config(text,
-- text, boolean). pg_catalog is searched first and our function takes
-- (text, text, jsonb, text, text, boolean, text): set_config('k', 'v', true)
-- and set_config('k', 'v', false) still resolve to pg_catalog's (a boolean
-- never converts to jsonb), and every internal call here is qualified.

-- ===========================================================================
-- admin_config (seed 002): operational settings edited by admins. This domain
-- owns the table and validates agent configs and app_settings; the
-- observability domain validates and reads its 'logging_settings' row, and
-- the usage domain reads agents' rate limits (both from plpgsql, so they may
-- be created before the table).
-- ===========================================================================
create table if not exists public.admin_config (
  id uuid primary key default gen_random_uuid(),
  config_key varchar(100) not null unique,
  config_data jsonb not null,
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  constraint admin_config_key_format check (config_key ~ '^[a-z0-9_]{1,100}$'),
  constraint admin_config_data_object check (jsonb_typeof(config_data) = 'object' and pg_column_size(config_data) <= 65536)
);

comment on table public.admin_config is
  'Operational settings edited by admins (seed 002): agent configs, app_settings, logging_settings. Admins only; the service role bypasses RLS.';
comment on column public.admin_config.config_key is 'Unique key: {agent_type}_{provider}, app_settings, logging_settings.';
comment on column public.admin_config.updated_by is 'The admin who last wrote the row, taken from the JWT (set null when that user is deleted).';

create index if not exists admin_config_updated_by_idx on public.admin_config (updated_by);

alter table public.admin_config enable row level security;

create policy admin_config_select on public.admin_config
  for select to authenticated using ((select public.is_current_user_admin()));
create policy admin_config_insert on public.admin_config
  for insert to authenticated with check ((select public.is_current_user_admin()));
create policy admin_config_update on public.admin_config
  for update to authenticated
  using ((select public.is_current_user_admin()))
  with check ((select public.is_current_user_admin()));
create policy admin_config_delete on public.admin_config
  for delete to authenticated using ((select public.is_current_user_admin()));

revoke all on table public.admin_config from anon, authenticated, service_role;
grant select, delete on table public.admin_config to authenticated;
grant insert (config_key, config_data), update (config_key, config_data) on table public.admin_config to authenticated;
grant select, insert, update, delete on table public.admin_config to service_role;

create trigger admin_config_set_updated_at
  before update of config_key, config_data on public.admin_config
  for each row execute function private.set_updated_at();

-- updated_by is whoever the JWT says wrote the row; a service-role or SQL
-- write (no user in the JWT) keeps the value it supplies.
create or replace function private.set_admin_config_updated_by()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := (select auth.uid());
begin
  if v_uid is not null then
    new.updated_by := v_uid;
  end if;
  return new;
end;
$$;

comment on function private.set_admin_config_updated_by() is
  'Trigger on admin_config: fills updated_by from the JWT''s user, so an admin cannot attribute a change to someone else.';
revoke execute on function private.set_admin_config_updated_by() from public, anon, authenticated, service_role;

create trigger admin_config_set_updated_by
  before insert or update on public.admin_config
  for each row execute function private.set_admin_config_updated_by();

-- The observability domain's check of the logging_settings row
-- (private.validate_logging_settings, plpgsql).
create trigger admin_config_validate_logging_settings
  before insert or update of config_key, config_data on public.admin_config
  for each row execute function private.validate_logging_settings();

-- Configuration changes are audited (seed 004 "audit configuration changes").
select private.enable_audit('public.admin_config', array['updated_at']);

-- Agent-config validation (seed 002 validate_admin_config_data)
create or replace function private.validate_admin_config_data()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v jsonb := new.config_data;
  v_agent text;
  v_field text;
begin
  perform private.require_json_size(new.config_data, 'config_data', 65536);
  if new.config_key = 'app_settings' then
    if jsonb_typeof(v -> 'activeProvider') is distinct from 'string' then
      raise exception 'invalid admin_config app_settings: missing field "activeProvider" (a provider name)' using errcode = '22023';
    end if;
    if jsonb_typeof(v -> 'availableProviders') is distinct from 'array' then
      raise exception 'invalid admin_config app_settings: missing field "availableProviders" (an array of provider names)' using errcode = '22023';
    end if;
    if not (v -> 'availableProviders') ? (v ->> 'activeProvider') then
      raise exception 'invalid admin_config app_settings: activeProvider "%" is not in availableProviders', v ->> 'activeProvider'
        using errcode = '22023';
    end if;
    return new;
  end if;

  -- {agent_type}_{provider}: every agent type ends in _agent
  v_agent := substring(new.config_key from '^([a-z0-9_]+_agent)_[a-z0-9]+$');
  if v_agent is null then
    return new;
  end if;

  foreach v_field in array array['enabled', 'rateLimit'] loop
    if not v ? v_field then
      raise exception 'invalid agent config %: missing field "%"', new.config_key, v_field using errcode = '22023';
    end if;
  end loop;
  if jsonb_typeof(v -> 'enabled') <> 'boolean' then
    raise exception 'invalid agent config %: "enabled" must be true or false', new.config_key using errcode = '22023';
  end if;
  if jsonb_typeof(v -> 'rateLimit') <> 'object' then
    raise exception 'invalid agent config %: "rateLimit" must be an object with perMinute, perHour, perDay', new.config_key
      using errcode = '22023';
  end if;
  foreach v_field in array array['perMinute', 'perHour', 'perDay'] loop
    if not (v -> 'rateLimit') ? v_field then
      raise exception 'invalid agent config %: missing field "rateLimit.%"', new.config_key, v_field using errcode = '22023';
    end if;
    if jsonb_typeof(v -> 'rateLimit' -> v_field) <> 'number'
       or (v -> 'rateLimit' ->> v_field)::numeric <> trunc((v -> 'rateLimit' ->> v_field)::numeric)
       or (v -> 'rateLimit' ->> v_field)::numeric not between 1 and 1000000 then
      raise exception 'invalid agent config %: "rateLimit.%" must be a whole number from 1 to 1000000', new.config_key, v_field
        using errcode = '22023';
    end if;
  end loop;

  -- every agent is a tool agent: its tools are what it can do
  if not v ? 'tools' then
    raise exception 'invalid agent config %: missing field "tools"', new.config_key using errcode = '22023';
  end if;
  if jsonb_typeof(v -> 'tools') not in ('object', 'array') then
    raise exception 'invalid agent config %: "tools" must be an object or an array', new.config_key using errcode = '22023';
  end if;
  if v_agent = 'provider_tools_agent' and not v ? 'systemPrompt' then
    raise exception 'invalid agent config %: missing field "systemPrompt"', new.config_key using errcode = '22023';
  end if;
  if v_agent = 'chat_model_agent' and not v ? 'capabilities' then
    raise exception 'invalid agent config %: missing field "capabilities"', new.config_key using errcode = '22023';
  end if;
  if v ? 'systemPrompt' and jsonb_typeof(v -> 'systemPrompt') <> 'string' then
    raise exception 'invalid agent config %: "systemPrompt" must be a string', new.config_key using errcode = '22023';
  end if;
  return new;
end;
$$;

comment on function private.validate_admin_config_data() is
  'Trigger on admin_config (seed 002 validate_admin_config_data): agent configs ({agent_type}_{provider}) need enabled, rateLimit.perMinute/perHour/perDay and tools; provider_tools_agent needs systemPrompt; chat_model_agent needs capabilities; app_settings needs activeProvider among availableProviders. 22023 naming the missing field.';
revoke execute on function private.validate_admin_config_data() from public, anon, authenticated, service_role;

create trigger admin_config_validate_data
  before insert or update of config_key, config_data on public.admin_config
  for each row execute function private.validate_admin_config_data();

-- Per-agent rate limits (an agent's rateLimit in admin_config) are applied by
-- private.rate_limit_rules in 20261122030000_usage.sql, which reads
-- admin_config on every call.

-- ===========================================================================
-- Model administration (model_config and its price history are the usage
-- domain's; these are the admin RPCs over them)
-- ===========================================================================
create or replace function private.require_admin_or_service(p_action text)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if public.is_current_user_admin() or coalesce(auth.jwt() ->> 'role', '') = 'service_role' then
    return;
  end if;
  -- plain SQL (migrations, pg_cron, psql as postgres): no API role is set.
  -- The role setting, unlike current_user, is unchanged inside definer functions.
  if coalesce(nullif(pg_catalog.current_setting('role', true), ''), 'none') not in ('anon', 'authenticated', 'service_role') then
    return;
  end if;
  if auth.uid() is null then
    raise exception 'you must be signed in to %', p_action using errcode = '42501';
  end if;
  raise exception 'only admins may %', p_action using errcode = '42501';
end;
$$;

comment on function private.require_admin_or_service(text) is
  'Raises 42501 unless the caller is an admin (app_metadata.role) or the service role; p_action goes into the message.';
revoke execute on function private.require_admin_or_service(text) from public, anon, authenticated, service_role;
grant execute on function private.require_admin_or_service(text) to authenticated, service_role;

create or replace function public.add_model_config(
  p_model_id text,
  p_name text,
  p_provider text,
  p_input_pricing_per_million_tokens numeric,
  p_output_pricing_per_million_tokens numeric,
  p_cached_input_pricing_per_million_tokens numeric default null,
  p_description text default null,
  p_thinking_enabled boolean default false,
  p_is_active boolean default true,
  p_metadata jsonb default '{}'::jsonb
)
returns public.model_config
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.model_config;
begin
  perform private.require_admin_or_service('add models');
  if p_model_id is null or p_model_id !~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$' then
    raise exception 'invalid model_id: letters, digits and . _ : / - (at most 100)' using errcode = '22023';
  end if;
  if p_name is null or char_length(p_name) not between 1 and 200 then
    raise exception 'invalid name: 1 to 200 characters' using errcode = '22023';
  end if;
  if p_provider is null or p_provider !~ '^[a-z][a-z0-9_-]{0,49}$' then
    raise exception 'invalid provider: lowercase letters, digits, _ and - (at most 50)' using errcode = '22023';
  end if;
  perform private.require_finite(p_input_pricing_per_million_tokens, 'p_input_pricing_per_million_tokens');
  perform private.require_finite(p_output_pricing_per_million_tokens, 'p_output_pricing_per_million_tokens');
  perform private.require_finite(p_cached_input_pricing_per_million_tokens, 'p_cached_input_pricing_per_million_tokens');
  if p_input_pricing_per_million_tokens is null or p_input_pricing_per_million_tokens < 0
     or p_output_pricing_per_million_tokens is null or p_output_pricing_per_million_tokens < 0
     or p_cached_input_pricing_per_million_tokens < 0 then
    raise exception 'invalid price: input and output prices are required and no price may be negative' using errcode = '22023';
  end if;
  perform private.require_text_length(p_description, 'p_description', 2000);
  if p_metadata is null or jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'invalid metadata: must be a JSON object' using errcode = '22023';
  end if;
  perform private.require_json_size(p_metadata, 'p_metadata', 16384);
  if exists (select 1 from public.model_config as m where m.model_id = p_model_id) then
    raise exception 'model % already exists: use update_model_config', p_model_id using errcode = '23505';
  end if;
  insert into public.model_config (model_id, name, description, provider, is_active, thinking_enabled,
    input_pricing_per_million_tokens, output_pricing_per_million_tokens, cached_input_pricing_per_million_tokens, metadata)
  values (p_model_id, p_name, p_description, p_provider, coalesce(p_is_active, true), coalesce(p_thinking_enabled, false),
    p_input_pricing_per_million_tokens, p_output_pricing_per_million_tokens, p_cached_input_pricing_per_million_tokens, p_metadata)
  returning * into v_row;
  return v_row;
end;
$$;

comment on function public.add_model_config(text, text, text, numeric, numeric, numeric, text, boolean, boolean, jsonb) is
  'Admins and the service role: adds a model with its list prices (recorded in model_price_history). Not the default: use set_default_model.';

create or replace function public.update_model_config(
  p_model_id text,
  p_name text default null,
  p_description text default null,
  p_input_pricing_per_million_tokens numeric default null,
  p_output_pricing_per_million_tokens numeric default null,
  p_cached_input_pricing_per_million_tokens numeric default null,
  p_thinking_enabled boolean default null,
  p_metadata jsonb default null
)
returns public.model_config
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.model_config;
begin
  perform private.require_admin_or_service('change models');
  if p_name is not null and char_length(p_name) not between 1 and 200 then
    raise exception 'invalid name: 1 to 200 characters' using errcode = '22023';
  end if;
  perform private.require_finite(p_input_pricing_per_million_tokens, 'p_input_pricing_per_million_tokens');
  perform private.require_finite(p_output_pricing_per_million_tokens, 'p_output_pricing_per_million_tokens');
  perform private.require_finite(p_cached_input_pricing_per_million_tokens, 'p_cached_input_pricing_per_million_tokens');
  if p_input_pricing_per_million_tokens < 0 or p_output_pricing_per_million_tokens < 0
     or p_cached_input_pricing_per_million_tokens < 0 then
    raise exception 'invalid price: no price may be negative' using errcode = '22023';
  end if;
  perform private.require_text_length(p_description, 'p_description', 2000);
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'invalid metadata: must be a JSON object' using errcode = '22023';
  end if;
  perform private.require_json_size(p_metadata, 'p_metadata', 16384);
  -- a new price applies to usage recorded from now on; past usage_logs rows
  -- keep the price they were charged at, and model_price_history gets a row
  update public.model_config as m
     set name = coalesce(p_name, m.name),
         description = coalesce(p_description, m.description),
         input_pricing_per_million_tokens = coalesce(p_input_pricing_per_million_tokens, m.input_pricing_per_million_tokens),
         output_pricing_per_million_tokens = coalesce(p_output_pricing_per_million_tokens, m.output_pricing_per_million_tokens),
         cached_input_pricing_per_million_tokens = coalesce(p_cached_input_pricing_per_million_tokens, m.cached_input_pricing_per_million_tokens),
         thinking_enabled = coalesce(p_thinking_enabled, m.thinking_enabled),
         metadata = coalesce(p_metadata, m.metadata)
   where m.model_id = p_model_id
  returning * into v_row;
  if v_row.id is null then
    raise exception 'model % not found', p_model_id using errcode = 'PT404';
  end if;
  return v_row;
end;
$$;

comment on function public.update_model_config(text, text, text, numeric, numeric, numeric, boolean, jsonb) is
  'Admins and the service role: changes a model''s name, description, prices, thinking flag or metadata (null = unchanged). Prices apply from now on; past usage keeps its charged price.';

-- The row set_model_active and set_default_model change, locked: their
-- checks read it, so a concurrent change cannot slip between check and update.
create or replace function private.lock_model(p_model_id text)
returns public.model_config
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row public.model_config;
begin
  select * into v_row from public.model_config as m where m.model_id = p_model_id for update;
  if v_row.id is null then
    raise exception 'model % not found', p_model_id using errcode = 'PT404';
  end if;
  return v_row;
end;
$$;

comment on function private.lock_model(text) is
  'The model_config row of p_model_id, locked for update; PT404 when there is none.';
revoke execute on function private.lock_model(text) from public, anon, authenticated, service_role;
grant execute on function private.lock_model(text) to authenticated, service_role;

create or replace function public.set_model_active(p_model_id text, p_is_active boolean)
returns public.model_config
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.model_config;
begin
  perform private.require_admin_or_service('activate or deactivate models');
  if p_is_active is null then
    raise exception 'invalid p_is_active: true or false' using errcode = '22023';
  end if;
  v_row := private.lock_model(p_model_id);
  if v_row.is_default and not p_is_active then
    raise exception 'cannot deactivate % : it is the default model of provider %; make another model the default first',
      p_model_id, v_row.provider using errcode = 'PT409';
  end if;
  update public.model_config as m set is_active = p_is_active where m.id = v_row.id returning * into v_row;
  return v_row;
end;
$$;

comment on function public.set_model_active(text, boolean) is
  'Admins and the service role: makes a model available (true) or not (false). The provider''s default cannot be deactivated (PT409). Inactive models keep their usage history.';

create or replace function public.set_default_model(p_model_id text)
returns public.model_config
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.model_config;
begin
  perform private.require_admin_or_service('set the default model');
  v_row := private.lock_model(p_model_id);
  if not v_row.is_active then
    raise exception 'cannot make % the default: it is inactive; activate it first', p_model_id using errcode = 'PT409';
  end if;
  -- the usage domain's trigger unsets the provider's previous default
  update public.model_config as m set is_default = true where m.id = v_row.id returning * into v_row;
  return v_row;
end;
$$;

comment on function public.set_default_model(text) is
  'Admins and the service role: makes an active model its provider''s default; the previous default is unset in the same statement.';

create or replace function public.get_active_models(p_provider text default null)
returns setof public.model_config
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if auth.uid() is null and coalesce(auth.jwt() ->> 'role', '') <> 'service_role' then
    raise exception 'you must be signed in to list models' using errcode = '42501';
  end if;
  return query
    select m.* from public.model_config as m
     where m.is_active and (p_provider is null or m.provider = p_provider)
     order by m.provider, m.is_default desc, m.name;
end;
$$;

comment on function public.get_active_models(text) is
  'Signed-in users and the service role: the active models (optionally of one provider), each provider''s default first.';

revoke execute on function public.add_model_config(text, text, text, numeric, numeric, numeric, text, boolean, boolean, jsonb) from public, anon, authenticated, service_role;
revoke execute on function public.update_model_config(text, text, text, numeric, numeric, numeric, boolean, jsonb) from public, anon, authenticated, service_role;
revoke execute on function public.set_model_active(text, boolean) from public, anon, authenticated, service_role;
revoke execute on function public.set_default_model(text) from public, anon, authenticated, service_role;
revoke execute on function public.get_active_models(text) from public, anon, authenticated, service_role;
grant execute on function public.add_model_config(text, text, text, numeric, numeric, numeric, text, boolean, boolean, jsonb) to authenticated, service_role;
grant execute on function public.update_model_config(text, text, text, numeric, numeric, numeric, boolean, jsonb) to authenticated, service_role;
grant execute on function public.set_model_active(text, boolean) to authenticated, service_role;
grant execute on function public.set_default_model(text) to authenticated, service_role;
grant execute on function public.get_active_models(text) to authenticated, service_role;

-- ===========================================================================
-- Feature flags (seed 004)
-- ===========================================================================
create table if not exists public.feature_flags (
  id uuid primary key default gen_random_uuid(),
  flag_key text not null,
  environment text not null default 'all',
  description text,
  enabled boolean not null default false,
  strategy text not null default 'all',
  rollout_percentage numeric(5,2) not null default 0,
  user_ids uuid[] not null default '{}',
  conditions jsonb not null default '[]'::jsonb,
  version integer not null default 1,
  updated_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint feature_flags_key_environment unique (flag_key, environment),
  constraint feature_flags_key_format check (flag_key ~ '^[a-z0-9][a-z0-9_.:-]{0,99}$'),
  constraint feature_flags_environment_format check (environment ~ '^[a-z][a-z0-9_-]{0,31}$'),
  constraint feature_flags_strategy check (strategy in ('all', 'percentage', 'user_list', 'condition')),
  constraint feature_flags_percentage check (rollout_percentage between 0 and 100),
  constraint feature_flags_user_ids_size check (cardinality(user_ids) <= 10000),
  constraint feature_flags_conditions_array check (jsonb_typeof(conditions) = 'array' and pg_column_size(conditions) <= 65536),
  constraint feature_flags_description_length check (char_length(description) <= 2000)
);

comment on table public.feature_flags is
  'Feature flags per environment (seed 004); a flag''s environment row wins over its ''all'' row. enabled=false is the kill switch. Strategies: all, percentage (stable md5 bucket per flag and user), user_list, condition (context attributes). user_ids are always on (an override) whatever the strategy. Admins and the service role manage; users evaluate through is_feature_enabled / evaluate_feature_flag.';
comment on column public.feature_flags.rollout_percentage is 'percentage strategy: share of users (0-100, 0.01 steps) that get the flag; a user is in when md5 bucket < percentage*100.';
comment on column public.feature_flags.user_ids is 'Users who always get the flag while it is enabled (the user_list strategy''s list, or an override for any strategy).';
comment on column public.feature_flags.conditions is 'condition strategy: [{"attribute","operator","values"}], all must hold. Operators: in, not_in, eq, neq, gt, gte, lt, lte. Attributes come from the evaluation context; plan and user_id are set by the server.';
comment on column public.feature_flags.version is 'Bumped on every change; evaluations record the version they saw.';

create index if not exists feature_flags_updated_by on public.feature_flags (updated_by);

-- One row per flag, environment, user, flag version and UTC day: the first
-- evaluation that day. Bounded writes (an evaluation that was already seen
-- that day writes nothing) and it answers who saw which variant of which
-- version; counts per flag/variant/day are a group by (feature_flag_stats).
create table if not exists public.feature_flag_evaluations (
  flag_key text not null,
  environment text not null,
  day date not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  flag_version integer not null,
  variant text not null,
  reason text not null,
  first_evaluated_at timestamptz not null default now(),
  flag_id uuid,
  primary key (flag_key, environment, day, user_id, flag_version)
);

comment on table public.feature_flag_evaluations is
  'Flag exposures (seed 004 feature_flag_evaluations): one row per flag, environment, user, flag version and UTC day with the variant and OpenFeature reason of the first evaluation. Anonymous evaluations are not recorded. Purged after 90 days.';
comment on column public.feature_flag_evaluations.flag_id is
  'The feature_flags row evaluated. A flag deleted and created again under the same key starts again at version 1, so a repeat check is answered from this row''s variant only while the flag row with this id is still at flag_version.';

create index if not exists feature_flag_evaluations_user on public.feature_flag_evaluations (user_id, day);
create index if not exists feature_flag_evaluations_day on public.feature_flag_evaluations (day);

create or replace function private.feature_flags_before_write()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_cond jsonb;
begin
  for v_cond in select e from jsonb_array_elements(new.conditions) as e loop
    if jsonb_typeof(v_cond) <> 'object' or jsonb_typeof(v_cond -> 'attribute') is distinct from 'string'
       or (v_cond ->> 'attribute') !~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$' then
      raise exception 'invalid conditions: each condition needs "attribute" (a context attribute name)' using errcode = '22023';
    end if;
    if (v_cond ->> 'operator') is null or (v_cond ->> 'operator') not in ('in', 'not_in', 'eq', 'neq', 'gt', 'gte', 'lt', 'lte') then
      raise exception 'invalid conditions: "operator" of % must be one of in, not_in, eq, neq, gt, gte, lt, lte', v_cond ->> 'attribute'
        using errcode = '22023';
    end if;
    if jsonb_typeof(v_cond -> 'values') is distinct from 'array' or jsonb_array_length(v_cond -> 'values') = 0 then
      raise exception 'invalid conditions: "values" of % must be a non-empty array', v_cond ->> 'attribute' using errcode = '22023';
    end if;
  end loop;
  if new.strategy = 'condition' and jsonb_array_length(new.conditions) = 0 then
    raise exception 'invalid conditions: the condition strategy needs at least one condition' using errcode = '22023';
  end if;
  if tg_op = 'UPDATE' then
    new.version := old.version + 1;
    new.updated_at := pg_catalog.now();
  end if;
  new.updated_by := coalesce(auth.uid(), case when tg_op = 'UPDATE' then null else new.updated_by end);
  return new;
end;
$$;

comment on function private.feature_flags_before_write() is
  'Trigger on feature_flags: validates conditions, bumps version and updated_at on change, takes updated_by from the JWT.';
revoke execute on function private.feature_flags_before_write() from public, anon, authenticated, service_role;

create trigger feature_flags_before_write
  before insert or update on public.feature_flags
  for each row execute function private.feature_flags_before_write();

select private.enable_audit('public.feature_flags', array['updated_at', 'version']);

alter table public.feature_flags enable row level security;
alter table public.feature_flag_evaluations enable row level security;

create policy feature_flags_select on public.feature_flags
  for select to authenticated using ((select public.is_current_user_admin()));
create policy feature_flags_insert on public.feature_flags
  for insert to authenticated with check ((select public.is_current_user_admin()));
create policy feature_flags_update on public.feature_flags
  for update to authenticated
  using ((select public.is_current_user_admin()))
  with check ((select public.is_current_user_admin()));
create policy feature_flags_delete on public.feature_flags
  for delete to authenticated using ((select public.is_current_user_admin()));
create policy feature_flag_evaluations_select on public.feature_flag_evaluations
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.feature_flags from anon, authenticated, service_role;
revoke all on table public.feature_flag_evaluations from anon, authenticated, service_role;
grant select, delete on table public.feature_flags to authenticated;
grant insert (flag_key, environment, description, enabled, strategy, rollout_percentage, user_ids, conditions),
      update (description, enabled, strategy, rollout_percentage, user_ids, conditions)
   on table public.feature_flags to authenticated;
grant select, insert, update, delete on table public.feature_flags to service_role;
grant select on table public.feature_flag_evaluations to authenticated;
grant select, delete on table public.feature_flag_evaluations to service_role;

-- The stable bucket of a user for a flag: the first 32 bits of
-- md5('<flag_key>:<user_id>') as an unsigned integer, modulo 10000 (0..9999).
-- md5 is defined by RFC 1321 and gives the same bits on every PostgreSQL
-- version and in every language (hashtext is internal and may change between
-- major versions). The flag key in the input keeps flags independent.
create or replace function private.feature_flag_bucket(p_flag_key text, p_user_id uuid)
returns integer
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select (('x' || substr(md5(p_flag_key || ':' || p_user_id::text), 1, 8))::bit(32)::bigint % 10000)::integer;
$$;

comment on function private.feature_flag_bucket(text, uuid) is
  'Stable rollout bucket 0..9999 of a user for a flag: first 32 bits of md5(flag_key || '':'' || user_id) mod 10000 (reproducible anywhere; not hashtext).';
revoke execute on function private.feature_flag_bucket(text, uuid) from public, anon, authenticated, service_role;
grant execute on function private.feature_flag_bucket(text, uuid) to authenticated, service_role;

-- Does a context satisfy every condition? Numbers compare as numbers, the
-- rest as text; a missing attribute fails every operator but not_in/neq.
create or replace function private.feature_flag_conditions_match(p_conditions jsonb, p_context jsonb)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_cond jsonb;
  v_actual jsonb;
  v_op text;
  v_ok boolean;
begin
  for v_cond in select e from jsonb_array_elements(p_conditions) as e loop
    v_actual := p_context -> (v_cond ->> 'attribute');
    v_op := v_cond ->> 'operator';
    if v_actual is null or jsonb_typeof(v_actual) = 'null' then
      v_ok := v_op in ('not_in', 'neq');
    elsif v_op in ('in', 'eq') then
      v_ok := exists (select 1 from jsonb_array_elements(v_cond -> 'values') as x
                       where x #>> '{}' = v_actual #>> '{}');
    elsif v_op in ('not_in', 'neq') then
      v_ok := not exists (select 1 from jsonb_array_elements(v_cond -> 'values') as x
                           where x #>> '{}' = v_actual #>> '{}');
    elsif jsonb_typeof(v_actual) = 'number' and jsonb_typeof(v_cond -> 'values' -> 0) = 'number' then
      v_ok := case v_op
        when 'gt' then (v_actual #>> '{}')::numeric > (v_cond -> 'values' ->> 0)::numeric
        when 'gte' then (v_actual #>> '{}')::numeric >= (v_cond -> 'values' ->> 0)::numeric
        when 'lt' then (v_actual #>> '{}')::numeric < (v_cond -> 'values' ->> 0)::numeric
        else (v_actual #>> '{}')::numeric <= (v_cond -> 'values' ->> 0)::numeric end;
    else
      v_ok := case v_op
        when 'gt' then (v_actual #>> '{}') > (v_cond -> 'values' ->> 0)
        when 'gte' then (v_actual #>> '{}') >= (v_cond -> 'values' ->> 0)
        when 'lt' then (v_actual #>> '{}') < (v_cond -> 'values' ->> 0)
        else (v_actual #>> '{}') <= (v_cond -> 'values' ->> 0) end;
    end if;
    if not v_ok then
      return false;
    end if;
  end loop;
  return true;
end;
$$;

comment on function private.feature_flag_conditions_match(jsonb, jsonb) is
  'True when p_context satisfies every condition of a flag (in, not_in, eq, neq, gt, gte, lt, lte).';
revoke execute on function private.feature_flag_conditions_match(jsonb, jsonb) from public, anon, authenticated, service_role;

-- Definer core: reads flags users may not read (user lists) and records the
-- exposure. Returns the OpenFeature-shaped details when p_details, else just
-- the value as a jsonb boolean; never raises for an unknown flag (off, reason
-- ERROR, error_code FLAG_NOT_FOUND).
--
-- A user's first evaluation of a flag version each UTC day is recorded in
-- feature_flag_evaluations with its variant and the flag row's id. For every
-- strategy except condition the answer depends only on the flag row (every
-- change to it bumps its version) and on the user, so the recorded variant is
-- the answer to every later boolean check that day: one statement resolves the
-- flag row (the environment's row sorts before 'all') and joins today's
-- exposure of it, and the strategy is not evaluated again. The flag row's id
-- matters because a flag deleted and created again under the same key starts
-- again at version 1. Otherwise the strategy is decided in plpgsql branches,
-- so only the branch taken is set up (the condition matcher and plan lookup
-- only for condition flags), and the first evaluation is recorded (ON
-- CONFLICT DO NOTHING covers a concurrent first one); a repeat evaluation
-- writes nothing and takes no row lock or transaction id.
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
  -- Bounded before anything is read or recorded: flag keys are at most 100
  -- characters, environments 32, and a context is a few attributes.
  if pg_catalog.length(p_flag_key) > 100 then
    raise exception 'invalid p_flag_key: at most 100 characters' using errcode = '22023';
  end if;
  if pg_catalog.length(p_environment) > 32 then
    raise exception 'invalid p_environment: at most 32 characters' using errcode = '22023';
  end if;
  if pg_catalog.pg_column_size(p_context) > 16384 then
    raise exception 'invalid p_context: at most 16384 bytes of JSON' using errcode = '22023';
  end if;
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

create or replace function public.is_feature_enabled(
  p_flag_key text,
  p_user_id uuid default null,
  p_environment text default 'production',
  p_context jsonb default '{}'::jsonb
)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return private.evaluate_feature_flag(p_flag_key, p_user_id, p_environment, p_context, false)::boolean;
end;
$$;

comment on function public.is_feature_enabled(text, uuid, text, jsonb) is
  'Seed 004: is the flag on for the caller (p_user_id: only the caller, or anyone for admins and the service role) in p_environment? Unknown flags are off. The first evaluation per user, flag version and day is recorded; later checks that day are answered from it (condition flags are evaluated every time).';

create or replace function public.evaluate_feature_flag(
  p_flag_key text,
  p_user_id uuid default null,
  p_environment text default 'production',
  p_context jsonb default '{}'::jsonb
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return private.evaluate_feature_flag(p_flag_key, p_user_id, p_environment, p_context, true);
end;
$$;

comment on function public.evaluate_feature_flag(text, uuid, text, jsonb) is
  'OpenFeature-shaped evaluation details: {flag_key, value, variant, reason (STATIC, TARGETING_MATCH, SPLIT, DEFAULT, DISABLED, ERROR), error_code (FLAG_NOT_FOUND, TARGETING_KEY_MISSING), environment, flag_version}. Never raises for an unknown flag.';

revoke execute on function public.is_feature_enabled(text, uuid, text, jsonb) from public, anon, authenticated, service_role;
revoke execute on function public.evaluate_feature_flag(text, uuid, text, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.is_feature_enabled(text, uuid, text, jsonb) to authenticated, service_role;
grant execute on function public.evaluate_feature_flag(text, uuid, text, jsonb) to authenticated, service_role;

create or replace function public.upsert_feature_flag(
  p_flag_key text,
  p_environment text default 'all',
  p_enabled boolean default false,
  p_strategy text default 'all',
  p_rollout_percentage numeric default 0,
  p_user_ids uuid[] default '{}',
  p_conditions jsonb default '[]'::jsonb,
  p_description text default null
)
returns public.feature_flags
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.feature_flags;
begin
  perform private.require_admin_or_service('manage feature flags');
  if p_flag_key is null or p_flag_key !~ '^[a-z0-9][a-z0-9_.:-]{0,99}$' then
    raise exception 'invalid flag_key: lowercase letters, digits and _ . : - (at most 100)' using errcode = '22023';
  end if;
  if p_environment is null or p_environment !~ '^[a-z][a-z0-9_-]{0,31}$' then
    raise exception 'invalid environment: lowercase letters, digits, _ and - (at most 32)' using errcode = '22023';
  end if;
  if p_strategy is null or p_strategy not in ('all', 'percentage', 'user_list', 'condition') then
    raise exception 'invalid strategy: all, percentage, user_list or condition' using errcode = '22023';
  end if;
  perform private.require_finite(p_rollout_percentage, 'p_rollout_percentage');
  if p_rollout_percentage is null or p_rollout_percentage not between 0 and 100 then
    raise exception 'invalid rollout_percentage: 0 to 100' using errcode = '22023';
  end if;
  if p_conditions is null or jsonb_typeof(p_conditions) <> 'array' then
    raise exception 'invalid conditions: must be a JSON array' using errcode = '22023';
  end if;
  perform private.require_json_size(p_conditions, 'p_conditions', 65536);
  perform private.require_text_length(p_description, 'p_description', 2000);
  if cardinality(p_user_ids) > 10000 then
    raise exception 'invalid user_ids: at most 10000' using errcode = '22023';
  end if;
  insert into public.feature_flags as f (flag_key, environment, enabled, strategy, rollout_percentage, user_ids, conditions, description)
  values (p_flag_key, p_environment, coalesce(p_enabled, false), p_strategy, p_rollout_percentage,
          coalesce(p_user_ids, '{}'), p_conditions, p_description)
  on conflict (flag_key, environment) do update
     set enabled = excluded.enabled, strategy = excluded.strategy, rollout_percentage = excluded.rollout_percentage,
         user_ids = excluded.user_ids, conditions = excluded.conditions,
         description = coalesce(excluded.description, f.description)
  returning * into v_row;
  return v_row;
end;
$$;

comment on function public.upsert_feature_flag(text, text, boolean, text, numeric, uuid[], jsonb, text) is
  'Admins and the service role: creates or replaces a flag''s definition for an environment (''all'' = the fallback). Every change bumps version and is audited.';

create or replace function public.set_feature_flag_enabled(p_flag_key text, p_enabled boolean, p_environment text default 'all')
returns public.feature_flags
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.feature_flags;
begin
  perform private.require_admin_or_service('manage feature flags');
  if p_enabled is null then
    raise exception 'invalid p_enabled: true or false' using errcode = '22023';
  end if;
  update public.feature_flags as f set enabled = p_enabled
   where f.flag_key = p_flag_key and f.environment = p_environment
  returning * into v_row;
  if v_row.id is null then
    raise exception 'feature flag % (%) not found', p_flag_key, p_environment using errcode = 'PT404';
  end if;
  return v_row;
end;
$$;

comment on function public.set_feature_flag_enabled(text, boolean, text) is
  'Admins and the service role: the kill switch (false turns the flag off for everyone in that environment row; the definition is kept).';

create or replace function public.get_feature_flag_stats(p_flag_key text, p_start_date date default (current_date - 30), p_end_date date default current_date)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform private.require_admin_or_service('read flag statistics');
  if p_start_date is null or p_end_date is null or p_start_date > p_end_date then
    raise exception 'invalid date range: p_start_date must be on or before p_end_date' using errcode = '22023';
  end if;
  return coalesce((
    select jsonb_agg(jsonb_build_object('day', s.day, 'environment', s.environment, 'flag_version', s.flag_version,
             'variant', s.variant, 'users', s.users) order by s.day, s.environment, s.flag_version, s.variant)
      from (select e.day, e.environment, e.flag_version, e.variant, count(*) as users
              from public.feature_flag_evaluations as e
             where e.flag_key = p_flag_key and e.day between p_start_date and p_end_date
             group by 1, 2, 3, 4) as s), '[]'::jsonb);
end;
$$;

comment on function public.get_feature_flag_stats(text, date, date) is
  'Admins and the service role: per day, environment, flag version and variant, how many distinct users evaluated the flag.';

revoke execute on function public.upsert_feature_flag(text, text, boolean, text, numeric, uuid[], jsonb, text) from public, anon, authenticated, service_role;
revoke execute on function public.set_feature_flag_enabled(text, boolean, text) from public, anon, authenticated, service_role;
revoke execute on function public.get_feature_flag_stats(text, date, date) from public, anon, authenticated, service_role;
grant execute on function public.upsert_feature_flag(text, text, boolean, text, numeric, uuid[], jsonb, text) to authenticated, service_role;
grant execute on function public.set_feature_flag_enabled(text, boolean, text) to authenticated, service_role;
grant execute on function public.get_feature_flag_stats(text, date, date) to authenticated, service_role;

create or replace function private.purge_feature_flag_evaluations(p_older_than interval default interval '90 days')
returns bigint
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_count bigint;
begin
  delete from public.feature_flag_evaluations as e
   where e.day < ((pg_catalog.now() - p_older_than) at time zone 'UTC')::date;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function private.purge_feature_flag_evaluations(interval) is
  'Deletes flag exposures older than p_older_than (daily pg_cron job admin-purge-flag-evaluations).';
revoke execute on function private.purge_feature_flag_evaluations(interval) from public, anon, authenticated, service_role;

-- ===========================================================================
-- Configurations with history and encrypted secrets (seed 004)
-- ===========================================================================
create table if not exists public.configurations (
  id uuid primary key default gen_random_uuid(),
  service_name text not null,
  config_key text not null,
  environment text not null default 'all',
  value_type text not null,
  config_value jsonb,
  encrypted_value bytea,
  is_secret boolean not null default false,
  description text,
  version integer not null default 1,
  updated_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint configurations_key unique (service_name, config_key, environment),
  constraint configurations_service_format check (service_name ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  constraint configurations_key_format check (config_key ~ '^[A-Za-z][A-Za-z0-9_.:-]{0,199}$'),
  constraint configurations_environment_format check (environment ~ '^[a-z][a-z0-9_-]{0,31}$'),
  constraint configurations_value_type check (value_type in ('string', 'number', 'boolean', 'json')),
  constraint configurations_description_length check (char_length(description) <= 2000),
  -- a secret has only its ciphertext; anything else only its value
  constraint configurations_secret_storage check (
    (is_secret and config_value is null and encrypted_value is not null)
    or (not is_secret and config_value is not null and encrypted_value is null))
);

comment on table public.configurations is
  'Service configuration values per environment (seed 004); get_config resolves the environment row, else ''all''. Secrets are stored only as pgp_sym_encrypt ciphertext (key: Vault secret config_encryption_key, outside the table) and decrypted only for the service role. Admins read non-secret values; writes go through set_config.';
comment on column public.configurations.encrypted_value is 'Secrets only: pgcrypto ciphertext of the JSON value. Never granted to authenticated.';

create index if not exists configurations_updated_by on public.configurations (updated_by);

create table if not exists public.configuration_history (
  id bigint generated always as identity primary key,
  configuration_id uuid not null,
  service_name text not null,
  config_key text not null,
  environment text not null,
  operation text not null,
  old_value jsonb,
  new_value jsonb,
  old_version integer,
  new_version integer,
  is_secret boolean not null,
  changed_by uuid references auth.users (id) on delete set null,
  changed_by_role text,
  changed_at timestamptz not null default now(),
  constraint configuration_history_operation check (operation in ('INSERT', 'UPDATE', 'DELETE'))
);

comment on table public.configuration_history is
  'Every change to configurations (seed 004 configuration_history, written by trigger): old and new value and version, who and when. Secret values are never copied here (old_value/new_value null, is_secret true).';

create index if not exists configuration_history_config on public.configuration_history (service_name, config_key, changed_at desc);
create index if not exists configuration_history_changed_by on public.configuration_history (changed_by);

create or replace function private.configurations_before_update()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.version := old.version + 1;
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

comment on function private.configurations_before_update() is 'Trigger on configurations: bumps version and updated_at.';
revoke execute on function private.configurations_before_update() from public, anon, authenticated, service_role;

create trigger configurations_before_update
  before update on public.configurations
  for each row
  when (old.config_value is distinct from new.config_value or old.encrypted_value is distinct from new.encrypted_value
        or old.value_type is distinct from new.value_type or old.is_secret is distinct from new.is_secret
        or old.description is distinct from new.description)
  execute function private.configurations_before_update();

create or replace function private.configurations_record_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.config_value is not distinct from new.config_value
     and old.encrypted_value is not distinct from new.encrypted_value
     and old.value_type = new.value_type and old.is_secret = new.is_secret
     and old.description is not distinct from new.description then
    return null;
  end if;
  insert into public.configuration_history (configuration_id, service_name, config_key, environment, operation,
    old_value, new_value, old_version, new_version, is_secret, changed_by, changed_by_role)
  values (coalesce(new.id, old.id), coalesce(new.service_name, old.service_name), coalesce(new.config_key, old.config_key),
          coalesce(new.environment, old.environment), tg_op,
          case when tg_op <> 'INSERT' then old.config_value end,
          case when tg_op <> 'DELETE' then new.config_value end,
          case when tg_op <> 'INSERT' then old.version end,
          case when tg_op <> 'DELETE' then new.version end,
          coalesce(new.is_secret, false) or coalesce(old.is_secret, false),
          auth.uid(), coalesce(auth.jwt() ->> 'role', session_user));
  return null;
end;
$$;

comment on function private.configurations_record_history() is
  'Trigger on configurations: appends the change to configuration_history (secret values are never copied). Definer: nobody writes history directly.';
revoke execute on function private.configurations_record_history() from public, anon, authenticated, service_role;

create trigger configurations_record_history
  after insert or update or delete on public.configurations
  for each row execute function private.configurations_record_history();

alter table public.configurations enable row level security;
alter table public.configuration_history enable row level security;

create policy configurations_select on public.configurations
  for select to authenticated using ((select public.is_current_user_admin()));
create policy configurations_delete on public.configurations
  for delete to authenticated using ((select public.is_current_user_admin()));
create policy configuration_history_select on public.configuration_history
  for select to authenticated using ((select public.is_current_user_admin()));

revoke all on table public.configurations from anon, authenticated, service_role;
revoke all on table public.configuration_history from anon, authenticated, service_role;
-- admins see everything but the ciphertext
grant select (id, service_name, config_key, environment, value_type, config_value, is_secret, description, version,
              updated_by, created_at, updated_at), delete
   on table public.configurations to authenticated;
grant select, insert, update, delete on table public.configurations to service_role;
grant select on table public.configuration_history to authenticated, service_role;

-- Definer: writes the row (users have no insert/update grant) and encrypts
-- with a key only definer functions can read.
create or replace function private.set_config(
  p_service_name text, p_config_key text, p_config_value jsonb, p_environment text, p_value_type text,
  p_is_secret boolean, p_description text
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.configurations;
  v_type text;
begin
  perform private.require_admin_or_service('change configurations');
  if p_service_name is null or p_service_name !~ '^[a-z][a-z0-9_.-]{0,99}$' then
    raise exception 'invalid service_name: lowercase letters, digits and _ . - (at most 100)' using errcode = '22023';
  end if;
  if p_config_key is null or p_config_key !~ '^[A-Za-z][A-Za-z0-9_.:-]{0,199}$' then
    raise exception 'invalid config_key: letters, digits and _ . : - (at most 200)' using errcode = '22023';
  end if;
  if p_environment is null or p_environment !~ '^[a-z][a-z0-9_-]{0,31}$' then
    raise exception 'invalid environment: lowercase letters, digits, _ and - (at most 32)' using errcode = '22023';
  end if;
  if p_value_type is null or p_value_type not in ('string', 'number', 'boolean', 'json') then
    raise exception 'invalid value_type: string, number, boolean or json' using errcode = '22023';
  end if;
  if p_config_value is null or jsonb_typeof(p_config_value) = 'null' then
    raise exception 'invalid config_value: required (delete the configuration to remove it)' using errcode = '22023';
  end if;
  v_type := jsonb_typeof(p_config_value);
  if (p_value_type = 'string' and v_type <> 'string') or (p_value_type = 'number' and v_type <> 'number')
     or (p_value_type = 'boolean' and v_type <> 'boolean') or (p_value_type = 'json' and v_type not in ('object', 'array')) then
    raise exception 'invalid config_value: a % value was given for value_type %', v_type, p_value_type using errcode = '22023';
  end if;
  if pg_catalog.octet_length(p_config_value::text) > 65536 then
    raise exception 'invalid config_value: at most 64 KiB' using errcode = '22023';
  end if;
  perform private.require_text_length(p_description, 'p_description', 2000);

  insert into public.configurations as c (service_name, config_key, environment, value_type, config_value, encrypted_value,
                                          is_secret, description, updated_by)
  values (p_service_name, p_config_key, p_environment, p_value_type,
          case when coalesce(p_is_secret, false) then null else p_config_value end,
          case when coalesce(p_is_secret, false)
               then extensions.pgp_sym_encrypt(p_config_value::text, private.encryption_key('config_encryption_key')) end,
          coalesce(p_is_secret, false), p_description, auth.uid())
  on conflict (service_name, config_key, environment) do update
     set value_type = excluded.value_type, config_value = excluded.config_value, encrypted_value = excluded.encrypted_value,
         is_secret = excluded.is_secret, description = coalesce(excluded.description, c.description),
         updated_by = excluded.updated_by
  returning * into v_row;

  return jsonb_build_object('service_name', v_row.service_name, 'config_key', v_row.config_key,
    'environment', v_row.environment, 'value_type', v_row.value_type, 'is_secret', v_row.is_secret,
    'value', v_row.config_value, 'version', v_row.version, 'updated_at', v_row.updated_at);
end;
$$;

comment on function private.set_config(text, text, jsonb, text, text, boolean, text) is
  'Definer core of public.set_config: validates, encrypts secrets (pgp_sym_encrypt, key config_encryption_key) and upserts; history follows by trigger.';
revoke execute on function private.set_config(text, text, jsonb, text, text, boolean, text) from public, anon, authenticated, service_role;
grant execute on function private.set_config(text, text, jsonb, text, text, boolean, text) to authenticated, service_role;

create or replace function public.set_config(
  p_service_name text,
  p_config_key text,
  p_config_value jsonb,
  p_environment text default 'all',
  p_value_type text default 'string',
  p_is_secret boolean default false,
  p_description text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
  return private.set_config(p_service_name, p_config_key, p_config_value, p_environment, p_value_type, p_is_secret, p_description);
end;
$$;

comment on function public.set_config(text, text, jsonb, text, text, boolean, text) is
  'Seed 004: admins and the service role set a configuration value for a service and environment (''all'' = the fallback), typed (string, number, boolean, json); p_is_secret stores it encrypted and write-only for admins. Not pg_catalog.set_config: that one takes (text, text, boolean).';

-- Secrets decrypt only for the service role; for anyone else they stay null.
create or replace function private.get_config(p_service_name text, p_config_key text, p_environment text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_row public.configurations;
begin
  perform private.require_admin_or_service('read configurations');
  select c.* into v_row
    from public.configurations as c
   where c.service_name = p_service_name and c.config_key = p_config_key and c.environment in (p_environment, 'all')
   order by c.environment = 'all'
   limit 1;
  if v_row.id is null then
    return null;
  end if;
  if v_row.is_secret then
    if coalesce(auth.jwt() ->> 'role', '') <> 'service_role' then
      raise exception 'configuration %.% is a secret: only the service role may read it', p_service_name, p_config_key
        using errcode = '42501';
    end if;
    return extensions.pgp_sym_decrypt(v_row.encrypted_value, private.encryption_key('config_encryption_key'))::jsonb;
  end if;
  return v_row.config_value;
end;
$$;

comment on function private.get_config(text, text, text) is
  'Definer core of get_config: the value for the environment, else ''all''; a secret only for the service role (decrypted), 42501 for anyone else.';
revoke execute on function private.get_config(text, text, text) from public, anon, authenticated, service_role;
grant execute on function private.get_config(text, text, text) to authenticated, service_role;

create or replace function public.get_config(p_service_name text, p_config_key text, p_environment text default 'all')
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return private.get_config(p_service_name, p_config_key, p_environment);
end;
$$;

comment on function public.get_config(text, text, text) is
  'Seed 004: a configuration value (jsonb) for a service: the p_environment row, else the ''all'' row, else null. Admins and the service role; secrets only for the service role.';

create or replace function private.get_service_configs(p_service_name text, p_environment text, p_include_secrets boolean)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_service boolean := coalesce(auth.jwt() ->> 'role', '') = 'service_role';
  v_key text;
begin
  perform private.require_admin_or_service('read configurations');
  if coalesce(p_include_secrets, false) and not v_service then
    raise exception 'only the service role may read secrets: call with p_include_secrets => false' using errcode = '42501';
  end if;
  if coalesce(p_include_secrets, false) and exists (
       select 1 from public.configurations as c
        where c.service_name = p_service_name and c.environment in (p_environment, 'all') and c.is_secret) then
    v_key := private.encryption_key('config_encryption_key');
  end if;
  return coalesce((
    select jsonb_object_agg(r.config_key, jsonb_build_object(
             'value', case when not r.is_secret then r.config_value
                           when v_key is not null then extensions.pgp_sym_decrypt(r.encrypted_value, v_key)::jsonb end,
             'value_type', r.value_type, 'environment', r.environment, 'is_secret', r.is_secret,
             'version', r.version, 'updated_at', r.updated_at))
      from (select distinct on (c.config_key) c.*
              from public.configurations as c
             where c.service_name = p_service_name and c.environment in (p_environment, 'all')
             order by c.config_key, c.environment = 'all') as r), '{}'::jsonb);
end;
$$;

comment on function private.get_service_configs(text, text, boolean) is
  'Definer core of get_service_configs: every key of a service resolved for the environment (else ''all''); secrets'' values are null unless p_include_secrets and the service role.';
revoke execute on function private.get_service_configs(text, text, boolean) from public, anon, authenticated, service_role;
grant execute on function private.get_service_configs(text, text, boolean) to authenticated, service_role;

create or replace function public.get_service_configs(
  p_service_name text,
  p_environment text default 'all',
  p_include_secrets boolean default false
)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return private.get_service_configs(p_service_name, p_environment, p_include_secrets);
end;
$$;

comment on function public.get_service_configs(text, text, boolean) is
  'Seed 004: all configurations of a service for an environment, as {config_key: {value, value_type, environment, is_secret, version, updated_at}}. Secrets appear with value null; p_include_secrets decrypts them and is honoured only for the service role (42501 for others).';

revoke execute on function public.set_config(text, text, jsonb, text, text, boolean, text) from public, anon, authenticated, service_role;
revoke execute on function public.get_config(text, text, text) from public, anon, authenticated, service_role;
revoke execute on function public.get_service_configs(text, text, boolean) from public, anon, authenticated, service_role;
grant execute on function public.set_config(text, text, jsonb, text, text, boolean, text) to authenticated, service_role;
grant execute on function public.get_config(text, text, text) to authenticated, service_role;
grant execute on function public.get_service_configs(text, text, boolean) to authenticated, service_role;

-- ===========================================================================
-- Service registry (seed 004)
-- ===========================================================================
create table if not exists public.service_registry (
  id uuid primary key default gen_random_uuid(),
  service_name text not null unique,
  service_type text not null,
  version text not null,
  endpoint text,
  capabilities jsonb not null default '[]'::jsonb,
  status text not null default 'healthy',
  metadata jsonb not null default '{}'::jsonb,
  heartbeat_interval_seconds integer not null default 30,
  last_heartbeat_at timestamptz not null default now(),
  registered_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint service_registry_name_format check (service_name ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  constraint service_registry_type_format check (service_type ~ '^[a-z][a-z0-9_-]{0,49}$'),
  constraint service_registry_version_length check (char_length(version) between 1 and 50),
  constraint service_registry_endpoint_length check (endpoint is null or char_length(endpoint) <= 2048),
  constraint service_registry_capabilities_array check (jsonb_typeof(capabilities) = 'array' and pg_column_size(capabilities) <= 16384),
  constraint service_registry_metadata_object check (jsonb_typeof(metadata) = 'object' and pg_column_size(metadata) <= 16384),
  -- the health overview computes ages from it
  constraint service_registry_heartbeat_finite check (isfinite(last_heartbeat_at)),
  constraint service_registry_status check (status in ('healthy', 'degraded', 'unhealthy', 'stopped')),
  constraint service_registry_interval check (heartbeat_interval_seconds between 1 and 3600)
);

comment on table public.service_registry is
  'Services and their health (seed 004 service_registry): registered with register_service, kept alive with service_heartbeat; a service that misses 3 heartbeat intervals is marked unhealthy (mark_stale_services, every minute). Admins read; the service role manages.';

alter table public.service_registry enable row level security;
create policy service_registry_select on public.service_registry
  for select to authenticated using ((select public.is_current_user_admin()));
revoke all on table public.service_registry from anon, authenticated, service_role;
grant select on table public.service_registry to authenticated;
grant select, insert, update, delete on table public.service_registry to service_role;

create or replace function public.register_service(
  p_service_name text,
  p_service_type text,
  p_version text,
  p_endpoint text default null,
  p_capabilities jsonb default '[]'::jsonb,
  p_heartbeat_interval_seconds integer default 30,
  p_now timestamptz default now()
)
returns public.service_registry
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.service_registry;
begin
  if p_service_name is null or p_service_name !~ '^[a-z][a-z0-9_.-]{0,99}$' then
    raise exception 'invalid service_name: lowercase letters, digits and _ . - (at most 100)' using errcode = '22023';
  end if;
  if p_service_type is null or p_service_type !~ '^[a-z][a-z0-9_-]{0,49}$' then
    raise exception 'invalid service_type: lowercase letters, digits, _ and - (at most 50)' using errcode = '22023';
  end if;
  if p_version is null or char_length(p_version) not between 1 and 50 then
    raise exception 'invalid version: 1 to 50 characters' using errcode = '22023';
  end if;
  if p_endpoint is not null and (char_length(p_endpoint) > 2048 or p_endpoint !~ '^[a-z][a-z0-9+.-]*://') then
    raise exception 'invalid endpoint: a URL (scheme://...) of at most 2048 characters' using errcode = '22023';
  end if;
  if p_capabilities is null or jsonb_typeof(p_capabilities) <> 'array' then
    raise exception 'invalid capabilities: must be a JSON array' using errcode = '22023';
  end if;
  if p_heartbeat_interval_seconds is null or p_heartbeat_interval_seconds not between 1 and 3600 then
    raise exception 'invalid heartbeat_interval_seconds: 1 to 3600' using errcode = '22023';
  end if;
  insert into public.service_registry as s (service_name, service_type, version, endpoint, capabilities, status,
                                            heartbeat_interval_seconds, last_heartbeat_at, registered_at, updated_at)
  values (p_service_name, p_service_type, p_version, p_endpoint, p_capabilities, 'healthy',
          p_heartbeat_interval_seconds, p_now, p_now, p_now)
  on conflict (service_name) do update
     set service_type = excluded.service_type, version = excluded.version, endpoint = excluded.endpoint,
         capabilities = excluded.capabilities, status = 'healthy',
         heartbeat_interval_seconds = excluded.heartbeat_interval_seconds,
         last_heartbeat_at = excluded.last_heartbeat_at, updated_at = excluded.updated_at
  returning * into v_row;
  return v_row;
end;
$$;

comment on function public.register_service(text, text, text, text, jsonb, integer, timestamptz) is
  'Seed 004, service role: registers a service (or re-registers it: new version, endpoint, capabilities), healthy as of p_now.';

create or replace function public.service_heartbeat(
  p_service_name text,
  p_status text default 'healthy',
  p_metadata jsonb default null,
  p_now timestamptz default now()
)
returns public.service_registry
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.service_registry;
begin
  if p_status is null or p_status not in ('healthy', 'degraded', 'unhealthy', 'stopped') then
    raise exception 'invalid status: healthy, degraded, unhealthy or stopped' using errcode = '22023';
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'invalid metadata: must be a JSON object' using errcode = '22023';
  end if;
  update public.service_registry as s
     set status = p_status, last_heartbeat_at = p_now, updated_at = p_now, metadata = coalesce(p_metadata, s.metadata)
   where s.service_name = p_service_name
  returning * into v_row;
  if v_row.id is null then
    raise exception 'service % is not registered: call register_service first', p_service_name using errcode = 'PT404';
  end if;
  return v_row;
end;
$$;

comment on function public.service_heartbeat(text, text, jsonb, timestamptz) is
  'Service role: a service reports it is alive (and its own status and metadata) as of p_now.';

create or replace function public.mark_stale_services(p_now timestamptz default now())
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.service_registry as s
     set status = 'unhealthy', updated_at = p_now
   where s.status in ('healthy', 'degraded')
     and s.last_heartbeat_at < p_now - pg_catalog.make_interval(secs => 3 * s.heartbeat_interval_seconds);
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function public.mark_stale_services(timestamptz) is
  'Service role and pg_cron (every minute): marks unhealthy every healthy or degraded service that missed 3 heartbeat intervals as of p_now; returns how many.';

revoke execute on function public.register_service(text, text, text, text, jsonb, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.service_heartbeat(text, text, jsonb, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.mark_stale_services(timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.register_service(text, text, text, text, jsonb, integer, timestamptz) to service_role;
grant execute on function public.service_heartbeat(text, text, jsonb, timestamptz) to service_role;
grant execute on function public.mark_stale_services(timestamptz) to service_role;

-- Health is computed at read time as well, so the overview is right between
-- two runs of the job.
create or replace view public.service_health_overview
with (security_invoker = true) as
  select s.service_name, s.service_type, s.version, s.endpoint, s.capabilities,
         case when s.status in ('healthy', 'degraded')
                   and s.last_heartbeat_at < pg_catalog.now() - pg_catalog.make_interval(secs => 3 * s.heartbeat_interval_seconds)
              then 'unhealthy' else s.status end as status,
         s.last_heartbeat_at,
         extract(epoch from (pg_catalog.now() - s.last_heartbeat_at))::integer as seconds_since_heartbeat,
         s.heartbeat_interval_seconds, s.registered_at
    from public.service_registry as s;

comment on view public.service_health_overview is
  'Seed 004: each service with its effective status (unhealthy once 3 heartbeat intervals pass without one, even before the job marks it) and seconds since its last heartbeat. Admins and the service role.';

revoke all on table public.service_health_overview from anon, authenticated, service_role;
grant select on table public.service_health_overview to authenticated, service_role;

select private.enable_audit('public.service_registry', array['last_heartbeat_at', 'updated_at', 'metadata']);

-- ===========================================================================
-- Scheduled jobs
-- ===========================================================================
select cron.schedule('admin-mark-stale-services', '* * * * *', 'select public.mark_stale_services()');
select cron.schedule('admin-purge-flag-evaluations', '41 3 * * *', 'select private.purge_feature_flag_evaluations()');
