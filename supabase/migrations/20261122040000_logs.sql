-- Logs (observability): logging settings (the admin_config 'logging_settings'
-- row, read and validated here), the shared helpers of every log writer, and
-- the error, user and agent activity, API request and health logs with their
-- write RPCs, error resolution and the system health summary. Metrics and
-- analytics, the audit trail and log retention are the next three migrations
-- (20261122040100_metrics.sql, 20261122040200_audit.sql,
-- 20261122040300_retention.sql).
--
-- Seeds: 002 (logging_settings, error_logs, user_activity_logs,
-- agent_activity_logs, get_logging_config, is_user_activity_logging_enabled,
-- is_agent_activity_logging_enabled), 001 (system_health_logs,
-- api_request_logs, structured logging), 004 (correlation ids, monthly
-- partitions). Mapping and choices: docs/observability.md.
--
-- Every log write goes through an RPC that takes the actor from the JWT: seed
-- 002's "System can insert ... (true)" policies let anyone write any row as
-- anyone; here the API roles have no insert privilege on a log table at all.
-- High-volume tables are partitioned by month and kept by the maintenance in
-- 20261122010200_maintenance.sql (our own functions rather than pg_partman:
-- the reasons are in that file's header).

-- ---------------------------------------------------------------------------
-- Logging settings (seed 002 get_logging_config & co.)
-- ---------------------------------------------------------------------------

-- What applies when the row or a key is missing. The stored row is merged on
-- top, one level deep, so a partial row never switches a setting off by omission.
create or replace function private.default_logging_settings()
returns jsonb
language sql
immutable
security invoker
set search_path = ''
as $$
  select '{
    "error_logging_enabled": true,
    "user_activity_logging_enabled": false,
    "agent_activity_logging_enabled": false,
    "log_retention_days": {"error_logs": 90, "user_activity_logs": 30, "agent_activity_logs": 7},
    "category_toggles": {},
    "performance_settings": {"batch_writes": true, "batch_size": 100},
    "privacy_settings": {"anonymize_ip": false}
  }'::jsonb;
$$;

comment on function private.default_logging_settings() is 'Seed 002''s default logging_settings, used for any key the stored row lacks.';

-- Rejects a logging_settings document whose known keys have the wrong type,
-- so that a typo cannot silently switch logging off or keep logs forever.
create or replace function private.validate_logging_settings()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v jsonb := new.config_data;
  v_key text;
  v_val jsonb;
begin
  if new.config_key <> 'logging_settings' then
    return new;
  end if;
  foreach v_key in array array['error_logging_enabled', 'user_activity_logging_enabled', 'agent_activity_logging_enabled'] loop
    if v ? v_key and jsonb_typeof(v -> v_key) <> 'boolean' then
      raise exception 'invalid logging_settings: % must be true or false', v_key using errcode = '22023';
    end if;
  end loop;
  foreach v_key in array array['log_retention_days', 'category_toggles', 'performance_settings', 'privacy_settings'] loop
    if v ? v_key and jsonb_typeof(v -> v_key) <> 'object' then
      raise exception 'invalid logging_settings: % must be an object', v_key using errcode = '22023';
    end if;
  end loop;
  for v_key, v_val in select e.key, e.value from jsonb_each(coalesce(v -> 'log_retention_days', '{}')) as e loop
    if v_key not in ('error_logs', 'user_activity_logs', 'agent_activity_logs') then
      raise exception 'invalid logging_settings: unknown log_retention_days key %', v_key using errcode = '22023';
    end if;
    if jsonb_typeof(v_val) <> 'number' or v_val::numeric <> trunc(v_val::numeric) or v_val::numeric not between 1 and 3650 then
      raise exception 'invalid logging_settings: log_retention_days.% must be a whole number of days from 1 to 3650', v_key
        using errcode = '22023';
    end if;
  end loop;
  for v_key, v_val in select e.key, e.value from jsonb_each(coalesce(v -> 'category_toggles', '{}')) as e loop
    if jsonb_typeof(v_val) <> 'boolean' then
      raise exception 'invalid logging_settings: category_toggles.% must be true or false', v_key using errcode = '22023';
    end if;
  end loop;
  if jsonb_typeof(v -> 'privacy_settings' -> 'anonymize_ip') is distinct from 'boolean'
     and v -> 'privacy_settings' ? 'anonymize_ip' then
    raise exception 'invalid logging_settings: privacy_settings.anonymize_ip must be true or false' using errcode = '22023';
  end if;
  return new;
end;
$$;

comment on function private.validate_logging_settings() is
  'Trigger on admin_config: checks the types of the known logging_settings keys (22023 otherwise).';
revoke execute on function private.validate_logging_settings() from public, anon, authenticated, service_role;

-- Definer: every signed-in caller's log writes depend on these settings, but
-- only admins may read admin_config.
create or replace function private.get_logging_config()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- plpgsql: admin_config is the admin domain's, created by a later migration
  return (
    select case when s.config_data is null then d.v
                else d.v || s.config_data || jsonb_build_object(
                  'log_retention_days', (d.v -> 'log_retention_days') || coalesce(s.config_data -> 'log_retention_days', '{}'),
                  'category_toggles', (d.v -> 'category_toggles') || coalesce(s.config_data -> 'category_toggles', '{}'),
                  'performance_settings', (d.v -> 'performance_settings') || coalesce(s.config_data -> 'performance_settings', '{}'),
                  'privacy_settings', (d.v -> 'privacy_settings') || coalesce(s.config_data -> 'privacy_settings', '{}')) end
      from (select private.default_logging_settings() as v) as d
      left join public.admin_config as s on s.config_key = 'logging_settings');
end;
$$;

comment on function private.get_logging_config() is
  'The effective logging settings: the admin_config ''logging_settings'' row merged one level deep over the defaults.';

create or replace function public.get_logging_config()
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select private.get_logging_config();
$$;

comment on function public.get_logging_config() is
  'The effective logging settings (seed 002): enabled flags, retention days, category toggles, performance and privacy settings; defaults for missing keys.';

create or replace function public.is_user_activity_logging_enabled()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce((private.get_logging_config() ->> 'user_activity_logging_enabled')::boolean, false);
$$;

comment on function public.is_user_activity_logging_enabled() is 'Whether log_user_activity records anything (logging_settings.user_activity_logging_enabled).';

create or replace function public.is_agent_activity_logging_enabled()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce((private.get_logging_config() ->> 'agent_activity_logging_enabled')::boolean, false);
$$;

comment on function public.is_agent_activity_logging_enabled() is 'Whether log_agent_activity records anything (logging_settings.agent_activity_logging_enabled).';

-- ---------------------------------------------------------------------------
-- Shared helpers for the log writers
-- ---------------------------------------------------------------------------

-- The user a log row is about. A signed-in user is always themselves; only
-- the service role (or a direct SQL session: pg_cron, migrations) may name
-- another user or none.
create or replace function private.log_actor(p_user_id uuid)
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  -- the claims once (auth.uid() and auth.jwt() would each parse them again);
  -- a plain call rather than (select ...): this runs once per call, and a
  -- subquery would cost an executor start each time
  v_jwt jsonb := auth.jwt();
  v_uid uuid := (v_jwt ->> 'sub')::uuid;
  v_role text := coalesce(v_jwt ->> 'role', pg_catalog.current_setting('role', true));
begin
  if v_uid is not null then
    if p_user_id is not null and p_user_id <> v_uid then
      raise exception 'cannot write a log entry as another user' using errcode = '42501',
        hint = 'Leave p_user_id out: the user comes from your JWT. Only the service role may name a user.';
    end if;
    return v_uid;
  end if;
  if v_role in ('anon', 'authenticated') then
    raise exception 'you must be signed in to write a log entry' using errcode = '42501';
  end if;
  return p_user_id;
end;
$$;

comment on function private.log_actor(uuid) is
  'The user for a log row: the JWT''s user (42501 if p_user_id names someone else), or p_user_id for the service role and SQL sessions.';

-- True for the service role, admins, and direct SQL sessions (pg_cron).
create or replace function private.is_operator()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select case coalesce((select auth.jwt()) ->> 'role', pg_catalog.current_setting('role', true))
           when 'authenticated' then public.is_current_user_admin()
           when 'anon' then false
           else true end;
$$;

comment on function private.is_operator() is
  'True for admins, the service role and direct SQL sessions (pg_cron, migrations); false for other API callers.';

-- The operator guard of the maintenance and metrics workers; p_action ends
-- the message ('only admins and the service role may <p_action>').
create or replace function private.require_operator(p_action text)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if not private.is_operator() then
    raise exception 'only admins and the service role may %', p_action using errcode = '42501';
  end if;
end;
$$;

comment on function private.require_operator(text) is
  'Raises 42501 ''only admins and the service role may <p_action>'' unless private.is_operator().';

-- Required short label: trimmed, non-empty, at most p_max characters.
create or replace function private.require_label(p_value text, p_field text, p_max integer)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v text := btrim(p_value);
begin
  if v is null or v = '' then
    raise exception 'invalid %: required', p_field using errcode = '22023';
  end if;
  if char_length(v) > p_max then
    raise exception 'invalid %: at most % characters', p_field, p_max using errcode = '22023';
  end if;
  return v;
end;
$$;

comment on function private.require_label(text, text, integer) is 'Validates a required text field (trimmed, 1..p_max characters); 22023 otherwise.';

-- Optional text: null stays null; longer than p_max is an error.
create or replace function private.optional_text(p_value text, p_field text, p_max integer)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if char_length(p_value) > p_max then
    raise exception 'invalid %: at most % characters', p_field, p_max using errcode = '22023';
  end if;
  return nullif(p_value, '');
end;
$$;

comment on function private.optional_text(text, text, integer) is 'Validates an optional text field (at most p_max characters; '''' becomes null); 22023 otherwise.';

-- Optional JSON object of at most 16 KiB.
create or replace function private.optional_object(p_value jsonb, p_field text)
returns jsonb
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_value is null then
    return '{}'::jsonb;
  end if;
  if jsonb_typeof(p_value) <> 'object' then
    raise exception 'invalid %: must be a JSON object', p_field using errcode = '22023';
  end if;
  if pg_catalog.pg_column_size(p_value) > 16384 then
    raise exception 'invalid %: at most 16 KiB', p_field using errcode = '22023';
  end if;
  return p_value;
end;
$$;

comment on function private.optional_object(jsonb, text) is 'Validates an optional JSON object of at most 16 KiB (null becomes {}); 22023 otherwise.';

-- An IP address as stored: validated, and with the host part zeroed (IPv4 /24,
-- IPv6 /48) when privacy_settings.anonymize_ip is on.
create or replace function private.prepare_ip(p_ip text, p_anonymize boolean)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v inet;
  v_host_bits integer;
  v_keep_bits integer;
begin
  if p_ip is null or p_ip = '' then
    return null;
  end if;
  begin
    v := p_ip::inet;
  exception when others then
    raise exception 'invalid ip address: %', left(p_ip, 60) using errcode = '22023';
  end;
  v_host_bits := 32;
  v_keep_bits := 24;
  if pg_catalog.family(v) = 6 then
    v_host_bits := 128;
    v_keep_bits := 48;
  end if;
  if pg_catalog.masklen(v) <> v_host_bits then
    raise exception 'invalid ip address: %: a host address, not a network', left(p_ip, 60) using errcode = '22023';
  end if;
  if p_anonymize then
    return pg_catalog.host(pg_catalog.network(pg_catalog.set_masklen(v, v_keep_bits)));
  end if;
  return pg_catalog.host(v);
end;
$$;

comment on function private.prepare_ip(text, boolean) is
  'Validates an IP address (22023 otherwise) and, when p_anonymize, zeroes its host part (IPv4 /24, IPv6 /48).';

-- HTTP method or null.
create or replace function private.optional_method(p_method text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_method is null or p_method = '' then
    return null;
  end if;
  if upper(p_method) not in ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') then
    raise exception 'invalid request method: %', left(p_method, 20) using errcode = '22023';
  end if;
  return upper(p_method);
end;
$$;

comment on function private.optional_method(text) is 'Validates an HTTP method (upper-cased) or null; 22023 otherwise.';

-- The reserved namespace: names only the system writes. The words admin,
-- system and service alone (as an error type or a category), and any name
-- under admin., system., service. or auth. (or with ':' as the separator),
-- e.g. the audit action admin.role_granted. Signed-in callers (admins too)
-- cannot write them: only the service role and SQL sessions can.
create or replace function private.is_reserved_name(p_value text)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
  select pg_catalog.lower(pg_catalog.btrim(p_value)) in ('admin', 'system', 'service')
      or pg_catalog.lower(pg_catalog.btrim(p_value)) ~ '^(admin|system|service|auth)[.:]';
$$;

comment on function private.is_reserved_name(text) is
  'True for the names only the system writes: admin, system, service, and admin.*, system.*, service.*, auth.* (also with '':'').';

-- 42501 when a signed-in caller uses a reserved name (the hot writers inline
-- the same test and raise the same message).
create or replace function private.require_unreserved(p_value text, p_field text)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if (select auth.uid()) is not null and private.is_reserved_name(p_value) then
    raise exception 'invalid %: % is reserved for the system', p_field, pg_catalog.left(pg_catalog.btrim(p_value), 100) using errcode = '42501',
      hint = 'admin, system and service, and names under admin., system., service. and auth., are written by the service role only.';
  end if;
end;
$$;

comment on function private.require_unreserved(text, text) is
  'For a signed-in caller: 42501 ''invalid <field>: <value> is reserved for the system'' when private.is_reserved_name(p_value).';

-- A correlation id belongs to whoever wrote under it first. A signed-in user
-- may write under a new correlation id or one that only they have written
-- under; any entry by someone else (another user, or the service role or a
-- job without a user) makes it foreign.
--
-- The writer of each id is kept in one small table, maintained by an AFTER
-- INSERT trigger on each of the seven tables that carry correlation ids, so
-- every path (RPCs, the service role, SQL sessions, the worker) keeps it right
-- and the check is one primary-key read whatever the history or the number of
-- partitions (probing the tables themselves meant one index descent per
-- partition of each). Two users racing on a new id: the second insert waits on
-- the first one's uncommitted row and then closes the id (user_id null), so
-- the id ends foreign to both.
create table if not exists private.correlation_writers (
  correlation_id uuid primary key,
  user_id uuid,
  last_written_at timestamptz not null default now()
);

comment on table private.correlation_writers is
  'The writer of each correlation id: user_id is the single user who has written under it, null once anyone else (another user, the service role or a job without a user, a service or system audit actor) has. Kept by an insert trigger on each table with correlation ids; read by private.is_foreign_correlation; rows not written for longer than the longest retention are purged (private.purge_correlation_writers).';
comment on column private.correlation_writers.last_written_at is
  'Refreshed by a write at most once a day (a repeat write by the owner does not touch the row otherwise): the purge keeps a row while entries under it can still exist.';

alter table private.correlation_writers enable row level security;
revoke all on table private.correlation_writers from public, anon, authenticated, service_role;

-- Records p_user_id (null: no user) as a writer of p_correlation_id. Read
-- first: the common write, a repeat by the owner, then changes nothing and
-- takes no row lock (an ON CONFLICT DO UPDATE locks the row even when its
-- WHERE is false). A new id is inserted; an owner change closes the id; the
-- date is refreshed when a day old. Definer: the table is the owner's only.
create or replace function private.note_correlation_writer(p_correlation_id uuid, p_user_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from private.correlation_writers as w
              where w.correlation_id = p_correlation_id
                and (w.user_id is null or w.user_id = p_user_id)
                and w.last_written_at >= pg_catalog.now() - interval '1 day') then
    return;
  end if;
  insert into private.correlation_writers as w (correlation_id, user_id, last_written_at)
  values (p_correlation_id, p_user_id, pg_catalog.now())
  on conflict (correlation_id) do update
    set user_id = case when w.user_id = excluded.user_id then w.user_id end,
        last_written_at = greatest(w.last_written_at, excluded.last_written_at)
    where (w.user_id is not null and w.user_id is distinct from excluded.user_id)
       or w.last_written_at < excluded.last_written_at - interval '1 day';
end;
$$;

comment on function private.note_correlation_writer(uuid, uuid) is
  'Records p_user_id (null: the service role, a job or a non-user actor) as a writer of p_correlation_id in private.correlation_writers: a new id becomes p_user_id''s, another writer closes it; a repeat by the owner writes nothing.';

-- The insert trigger of the tables whose writer is their user_id column.
create or replace function private.track_correlation_writer()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.note_correlation_writer(new.correlation_id, new.user_id);
  return null;
end;
$$;

comment on function private.track_correlation_writer() is
  'AFTER INSERT row trigger (when correlation_id is set) of the log, metric and event tables: records the row''s user_id as a writer of its correlation id.';

-- The audit trail's writer is its actor: a user actor is that user (its
-- identifier in the canonical text of a uuid), any other actor is no user.
create or replace function private.track_audit_correlation_writer()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.note_correlation_writer(new.correlation_id,
    case when new.actor_type = 'user'
          and new.actor_identifier ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
         then new.actor_identifier::uuid end);
  return null;
end;
$$;

comment on function private.track_audit_correlation_writer() is
  'AFTER INSERT row trigger (when correlation_id is set) of system_audit_logs: records a user actor as that user, any other actor as no user.';

-- True when anyone other than p_user_id has written under p_correlation_id.
-- Definer: the writers table is the owner's only.
create or replace function private.is_foreign_correlation(p_correlation_id uuid, p_user_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (select 1 from private.correlation_writers as w
                  where w.correlation_id = p_correlation_id and w.user_id is distinct from p_user_id);
end;
$$;

comment on function private.is_foreign_correlation(uuid, uuid) is
  'True when any log, metric, event or audit entry under p_correlation_id was written by someone other than p_user_id (one read of private.correlation_writers).';

-- 42501 when a signed-in caller writes under a correlation id that is not
-- theirs (private.is_foreign_correlation); the service role and SQL sessions
-- write under any.
create or replace function private.require_own_correlation(p_correlation_id uuid)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := (select auth.uid());
begin
  if v_uid is not null and p_correlation_id is not null and private.is_foreign_correlation(p_correlation_id, v_uid) then
    raise exception 'correlation id % belongs to another user''s trace', p_correlation_id using errcode = '42501',
      hint = 'Write under a new correlation id, or one only you have written under.';
  end if;
end;
$$;

comment on function private.require_own_correlation(uuid) is
  'For a signed-in caller: 42501 when p_correlation_id already has entries written by anyone else.';

revoke execute on function private.default_logging_settings() from public, anon, authenticated, service_role;
revoke execute on function private.get_logging_config() from public, anon, authenticated, service_role;
revoke execute on function public.get_logging_config() from public, anon, authenticated, service_role;
revoke execute on function public.is_user_activity_logging_enabled() from public, anon, authenticated, service_role;
revoke execute on function public.is_agent_activity_logging_enabled() from public, anon, authenticated, service_role;
revoke execute on function private.log_actor(uuid) from public, anon, authenticated, service_role;
revoke execute on function private.is_operator() from public, anon, authenticated, service_role;
revoke execute on function private.require_operator(text) from public, anon, authenticated, service_role;
revoke execute on function private.require_label(text, text, integer) from public, anon, authenticated, service_role;
revoke execute on function private.optional_text(text, text, integer) from public, anon, authenticated, service_role;
revoke execute on function private.optional_object(jsonb, text) from public, anon, authenticated, service_role;
revoke execute on function private.prepare_ip(text, boolean) from public, anon, authenticated, service_role;
revoke execute on function private.optional_method(text) from public, anon, authenticated, service_role;
revoke execute on function private.is_reserved_name(text) from public, anon, authenticated, service_role;
revoke execute on function private.require_unreserved(text, text) from public, anon, authenticated, service_role;
revoke execute on function private.note_correlation_writer(uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.track_correlation_writer() from public, anon, authenticated, service_role;
revoke execute on function private.track_audit_correlation_writer() from public, anon, authenticated, service_role;
revoke execute on function private.is_foreign_correlation(uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.require_own_correlation(uuid) from public, anon, authenticated, service_role;

grant execute on function private.get_logging_config() to authenticated, service_role;
grant execute on function public.get_logging_config() to authenticated, service_role;
grant execute on function public.is_user_activity_logging_enabled() to authenticated, service_role;
grant execute on function public.is_agent_activity_logging_enabled() to authenticated, service_role;
grant execute on function private.is_operator() to authenticated, service_role;
grant execute on function private.require_operator(text) to authenticated, service_role;
grant execute on function private.is_reserved_name(text) to authenticated, service_role;
grant execute on function private.require_unreserved(text, text) to authenticated, service_role;
grant execute on function private.is_foreign_correlation(uuid, uuid) to authenticated, service_role;
grant execute on function private.require_own_correlation(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Column domains of the log tables (also used by the metrics, audit and
-- notifications tables). PostgreSQL rebuilds and plans every table CHECK at
-- the start of each statement that writes the table (ExecRelCheck), while a
-- domain's constraints are cached per session (typcache) and run only for the
-- columns a statement assigns. The write-hot tables therefore carry their
-- one-column rules as domains: same refusals, same SQLSTATE (23514). Rules
-- that tie columns together stay table CHECKs.
-- ---------------------------------------------------------------------------
create domain private.finite_timestamptz as timestamptz check (isfinite(value));

comment on domain private.finite_timestamptz is 'A timestamp other than +/-infinity (23514 otherwise).';

create domain private.nonnegative_cost as numeric(10, 6) check (value >= 0 and value <> 'NaN');

comment on domain private.nonnegative_cost is 'A cost in dollars: numeric(10, 6), >= 0, not NaN (23514 otherwise).';

create domain private.http_status as smallint check (value between 100 and 599);

comment on domain private.http_status is 'An HTTP status code, 100 to 599 (23514 otherwise).';

create domain private.error_type as varchar(50)
  check (value in ('auth', 'api', 'admin', 'app', 'user', 'permission', 'system'));

comment on domain private.error_type is 'The kind of an error_logs entry: auth, api, admin, app, user, permission or system (23514 otherwise).';

create domain private.error_severity as varchar(20) check (value in ('info', 'warning', 'error', 'critical'));

comment on domain private.error_severity is 'The severity of an error_logs entry: info, warning, error or critical (23514 otherwise).';

create domain private.error_text as text check (char_length(value) <= 10000);

comment on domain private.error_text is 'An error message of at most 10,000 characters (23514 otherwise).';

create domain private.health_status as varchar(20) check (value in ('healthy', 'degraded', 'unhealthy'));

comment on domain private.health_status is 'A health-check outcome: healthy, degraded or unhealthy (23514 otherwise).';

-- ---------------------------------------------------------------------------
-- error_logs (seed 002). Not partitioned: unresolved errors are kept until an
-- admin resolves them (seed 002 purges only resolved ones), and resolve_error
-- addresses a row by id alone.
-- ---------------------------------------------------------------------------
create table if not exists public.error_logs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete set null,
  error_type private.error_type not null,
  error_category varchar(100) not null,
  error_message private.error_text not null,
  error_details jsonb,
  request_path varchar(500),
  request_method varchar(10),
  user_agent text,
  ip_address varchar(45),
  session_id varchar(100),
  correlation_id uuid,
  severity private.error_severity not null default 'error',
  resolved boolean not null default false,
  resolved_by uuid references auth.users (id) on delete set null,
  resolved_at timestamptz,
  resolution_notes text,
  created_at private.finite_timestamptz not null default now(),
  constraint error_logs_resolution_consistent check (resolved = (resolved_at is not null))
);

comment on table public.error_logs is
  'Application errors (seed 002). Written by log_error (actor from the JWT), resolved by admins with resolve_error; resolved rows purged after log_retention_days.error_logs.';
comment on column public.error_logs.ip_address is 'Client IP, with the host part zeroed when privacy_settings.anonymize_ip is on.';
comment on column public.error_logs.correlation_id is 'Links the error to the user action and agent operations of the same request.';

create index if not exists error_logs_user_created_idx on public.error_logs (user_id, created_at desc);

create index if not exists error_logs_unresolved_idx on public.error_logs (severity, created_at desc) where not resolved;

create index if not exists error_logs_resolved_created_idx on public.error_logs (created_at) where resolved;

create index if not exists error_logs_resolved_by_idx on public.error_logs (resolved_by) where resolved_by is not null;

create index if not exists error_logs_correlation_idx on public.error_logs (correlation_id) where correlation_id is not null;

alter table public.error_logs enable row level security;

create policy error_logs_select on public.error_logs
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.error_logs from anon, authenticated, service_role;
grant select on table public.error_logs to authenticated;
grant select, insert, update, delete on table public.error_logs to service_role;

-- ---------------------------------------------------------------------------
-- user_activity_logs and agent_activity_logs (seed 002), monthly partitions.
-- ---------------------------------------------------------------------------
create table if not exists public.user_activity_logs (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  correlation_id uuid not null,
  activity_type varchar(50) not null,
  activity_category varchar(50) not null,
  activity_metadata jsonb not null default '{}'::jsonb,
  resource_id uuid,
  resource_type varchar(50),
  ip_address varchar(45),
  user_agent text,
  request_path varchar(500),
  request_method varchar(10),
  session_id varchar(100),
  success boolean not null default true,
  error_message text,
  created_at private.finite_timestamptz not null default now(),
  primary key (id, created_at)
) partition by range (created_at);

comment on table public.user_activity_logs is
  'What users did (seed 002), partitioned by month. Written by log_user_activity when user_activity_logging_enabled and the category toggle allow it; users read their own, admins all.';
comment on column public.user_activity_logs.correlation_id is 'Shared with the agent_activity_logs rows the action caused.';

create index if not exists user_activity_logs_user_created_idx on public.user_activity_logs (user_id, created_at desc);

create index if not exists user_activity_logs_correlation_idx on public.user_activity_logs (correlation_id);

-- brin: cheap to keep up on an append-only log, enough for time-range scans
create index if not exists user_activity_logs_created_idx on public.user_activity_logs using brin (created_at);

alter table public.user_activity_logs enable row level security;

create policy user_activity_logs_select on public.user_activity_logs
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.user_activity_logs from anon, authenticated, service_role;
grant select on table public.user_activity_logs to authenticated;
grant select, insert, delete on table public.user_activity_logs to service_role;

create table if not exists public.agent_activity_logs (
  id uuid not null default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete cascade,
  correlation_id uuid not null,
  agent_type varchar(50) not null,
  operation_type varchar(50) not null,
  operation_category varchar(50) not null,
  operation_metadata jsonb not null default '{}'::jsonb,
  resource_id uuid,
  resource_type varchar(50),
  duration_ms private.nonnegative_integer,
  start_time private.finite_timestamptz,
  end_time private.finite_timestamptz,
  model_id varchar(100),
  provider varchar(50),
  thinking_mode boolean not null default false,
  input_tokens private.nonnegative_integer,
  output_tokens private.nonnegative_integer,
  reasoning_tokens private.nonnegative_integer,
  total_tokens private.nonnegative_integer,
  input_cost private.nonnegative_cost,
  output_cost private.nonnegative_cost,
  total_cost private.nonnegative_cost,
  success boolean not null default true,
  error_type varchar(100),
  error_message text,
  retry_count private.nonnegative_integer not null default 0,
  created_at private.finite_timestamptz not null default now(),
  primary key (id, created_at),
  constraint agent_activity_logs_time_order check (end_time is null or start_time is null or end_time >= start_time)
) partition by range (created_at);

comment on table public.agent_activity_logs is
  'AI agent operations with model, tokens, cost and outcome (seed 002), partitioned by month. Written by log_agent_activity when agent_activity_logging_enabled; users read their own, admins all.';
comment on column public.agent_activity_logs.user_id is 'The user the operation ran for; null for system operations (service role only).';
comment on column public.agent_activity_logs.correlation_id is 'The user action (user_activity_logs.correlation_id) that caused the operation.';

create index if not exists agent_activity_logs_user_created_idx on public.agent_activity_logs (user_id, created_at desc);

create index if not exists agent_activity_logs_correlation_idx on public.agent_activity_logs (correlation_id);

create index if not exists agent_activity_logs_agent_created_idx on public.agent_activity_logs (agent_type, created_at desc);

alter table public.agent_activity_logs enable row level security;

create policy agent_activity_logs_select on public.agent_activity_logs
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.agent_activity_logs from anon, authenticated, service_role;
grant select on table public.agent_activity_logs to authenticated;
grant select, insert, delete on table public.agent_activity_logs to service_role;

-- ---------------------------------------------------------------------------
-- api_request_logs and system_health_logs (seed 001), monthly partitions.
-- ---------------------------------------------------------------------------
create table if not exists public.api_request_logs (
  id uuid not null default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete set null,
  method varchar(10) not null,
  path varchar(500) not null,
  status_code private.http_status not null,
  duration_ms private.nonnegative_integer not null,
  request_size private.nonnegative_integer,
  response_size private.nonnegative_integer,
  ip_address varchar(45),
  user_agent text,
  correlation_id uuid,
  created_at private.finite_timestamptz not null default now(),
  primary key (id, created_at)
) partition by range (created_at);

comment on table public.api_request_logs is
  'API requests (seed 001 api_request_logs), partitioned by month. Written by the service role with log_api_request; admins read; cleanup_old_api_logs keeps 30 days.';

create index if not exists api_request_logs_user_created_idx on public.api_request_logs (user_id, created_at desc) where user_id is not null;

create index if not exists api_request_logs_path_created_idx on public.api_request_logs (path, created_at desc);

-- get_activity_trace reads a trace by correlation id
create index if not exists api_request_logs_correlation_idx on public.api_request_logs (correlation_id) where correlation_id is not null;

alter table public.api_request_logs enable row level security;

create policy api_request_logs_select on public.api_request_logs
  for select to authenticated using ((select public.is_current_user_admin()));

revoke all on table public.api_request_logs from anon, authenticated, service_role;
grant select on table public.api_request_logs to authenticated;
grant select, insert, delete on table public.api_request_logs to service_role;

create table if not exists public.system_health_logs (
  id uuid not null default gen_random_uuid(),
  component varchar(100) not null,
  status private.health_status not null,
  latency_ms private.nonnegative_integer,
  details jsonb not null default '{}'::jsonb,
  checked_at private.finite_timestamptz not null default now(),
  primary key (id, checked_at)
) partition by range (checked_at);

comment on table public.system_health_logs is
  'Health-check history (seed 001 system_health_logs, /api/health checks), partitioned by month. Written by record_health_check; admins read get_system_health.';

create index if not exists system_health_logs_component_idx on public.system_health_logs (component, checked_at desc);

alter table public.system_health_logs enable row level security;

create policy system_health_logs_select on public.system_health_logs
  for select to authenticated using ((select public.is_current_user_admin()));

revoke all on table public.system_health_logs from anon, authenticated, service_role;
grant select on table public.system_health_logs to authenticated;
grant select, insert, delete on table public.system_health_logs to service_role;

-- Partitions: created ahead by the daily partition-maintenance job. The
-- retention of the seed 002 tables follows logging_settings (synced by
-- purge_old_activity_logs); these are the seed defaults.
select private.register_partitioned_table('public.user_activity_logs', p_premake => 3, p_retention => interval '30 days');
select private.register_partitioned_table('public.agent_activity_logs', p_premake => 3, p_retention => interval '7 days');
select private.register_partitioned_table('public.api_request_logs', p_premake => 3, p_retention => interval '30 days');
select private.register_partitioned_table('public.system_health_logs', p_premake => 3, p_retention => interval '30 days');

-- The writer of each correlation id (private.correlation_writers), kept by the
-- writes themselves whatever path they take.
create trigger error_logs_correlation_writer
  after insert on public.error_logs
  for each row when (new.correlation_id is not null)
  execute function private.track_correlation_writer();
create trigger user_activity_logs_correlation_writer
  after insert on public.user_activity_logs
  for each row when (new.correlation_id is not null)
  execute function private.track_correlation_writer();
create trigger agent_activity_logs_correlation_writer
  after insert on public.agent_activity_logs
  for each row when (new.correlation_id is not null)
  execute function private.track_correlation_writer();
create trigger api_request_logs_correlation_writer
  after insert on public.api_request_logs
  for each row when (new.correlation_id is not null)
  execute function private.track_correlation_writer();

-- Telemetry (activity, metrics, events, request and health logs, errors) is
-- committed asynchronously when it is the whole transaction: the commit does
-- not wait for its WAL flush, which is what bounds a log write's throughput.
-- A crash can lose the last few hundred milliseconds of telemetry (at most
-- 3 x wal_writer_delay), never corrupt anything, and never the audit trail
-- (log_audit_event stays synchronous). Only when the transaction has written
-- nothing yet: a caller whose own writes must be durable keeps them durable.
-- Other domains' functions call the private writers, which never relax it.
-- The public telemetry wrappers below do it first thing.

-- ---------------------------------------------------------------------------
-- Write RPCs: invoker wrappers around definer writers (the API roles have no
-- insert privilege on the log tables).
-- ---------------------------------------------------------------------------
create or replace function private.log_error(
  p_error_type text,
  p_error_category text,
  p_error_message text,
  p_error_details jsonb,
  p_request_path text,
  p_request_method text,
  p_user_agent text,
  p_ip_address text,
  p_session_id text,
  p_severity text,
  p_correlation_id uuid,
  p_user_id uuid
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.log_actor(p_user_id);
  -- the stored row as is (one index lookup); each read below defaults like get_logging_config()
  v_config jsonb := (select s.config_data from public.admin_config as s where s.config_key = 'logging_settings');
  v_row public.error_logs;
  v_id uuid;
begin
  if p_error_type is null or p_error_type not in ('auth', 'api', 'admin', 'app', 'user', 'permission', 'system') then
    raise exception 'invalid error_type: must be one of auth, api, admin, app, user, permission, system' using errcode = '22023';
  end if;
  perform private.require_unreserved(p_error_type, 'error_type');
  perform private.require_unreserved(p_error_category, 'error_category');
  if coalesce(p_severity, 'error') not in ('info', 'warning', 'error', 'critical') then
    raise exception 'invalid severity: must be one of info, warning, error, critical' using errcode = '22023';
  end if;
  if p_error_message is null or btrim(p_error_message) = '' or char_length(p_error_message) > 10000 then
    raise exception 'invalid error_message: required, at most 10000 characters' using errcode = '22023';
  end if;
  -- validate everything, then honour the switch
  v_row := row(null, v_user, p_error_type,
    private.require_label(p_error_category, 'error_category', 100),
    p_error_message,
    case when p_error_details is not null then private.optional_object(p_error_details, 'error_details') end,
    case when p_request_path is null then null else private.optional_text(p_request_path, 'request_path', 500) end,
    case when p_request_method is null then null else private.optional_method(p_request_method) end,
    case when p_user_agent is null then null else private.optional_text(p_user_agent, 'user_agent', 1000) end,
    private.prepare_ip(p_ip_address, coalesce((v_config -> 'privacy_settings' ->> 'anonymize_ip')::boolean, false)),
    case when p_session_id is null then null else private.optional_text(p_session_id, 'session_id', 100) end,
    coalesce(p_correlation_id, private.current_correlation_id()),
    coalesce(p_severity, 'error'), false, null, null, null, pg_catalog.now());
  perform private.require_own_correlation(v_row.correlation_id);
  if not coalesce((v_config ->> 'error_logging_enabled')::boolean, true) then
    return null;
  end if;
  insert into public.error_logs (user_id, error_type, error_category, error_message, error_details, request_path,
                                 request_method, user_agent, ip_address, session_id, correlation_id, severity)
  values (v_row.user_id, v_row.error_type, v_row.error_category, v_row.error_message, v_row.error_details,
          v_row.request_path, v_row.request_method, v_row.user_agent, v_row.ip_address, v_row.session_id,
          v_row.correlation_id, v_row.severity)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function private.log_error(text, text, text, jsonb, text, text, text, text, text, text, uuid, uuid) is
  'Writer behind public.log_error (definer: the API roles cannot insert into error_logs).';

create or replace function public.log_error(
  p_error_type text,
  p_error_category text,
  p_error_message text,
  p_error_details jsonb default null,
  p_request_path text default null,
  p_request_method text default null,
  p_user_agent text default null,
  p_ip_address text default null,
  p_session_id text default null,
  p_severity text default 'error',
  p_correlation_id uuid default null,
  p_user_id uuid default null
)
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- asynchronous commit when the call is the whole transaction (see the note
  -- above the write RPCs)
  if pg_catalog.pg_current_xact_id_if_assigned() is null then
    perform pg_catalog.set_config('synchronous_commit', 'off', true);
  end if;
  perform private.consume_quota('telemetry');
  return private.log_error(p_error_type, p_error_category, p_error_message, p_error_details, p_request_path,
                           p_request_method, p_user_agent, p_ip_address, p_session_id, p_severity, p_correlation_id, p_user_id);
end;
$$;

comment on function public.log_error(text, text, text, jsonb, text, text, text, text, text, text, uuid, uuid) is
  'Records an error (seed 002 error_logs) for the signed-in user (p_user_id: service role only). Returns the id, or null when error logging is off. 22023 bad input, 42501 another user.';

-- The hot writers (log_user_activity, record_metric, track_event) run on
-- every request, so each is one flat plpgsql body rather than a chain of
-- helpers: when the call is the whole transaction (every API request),
-- plpgsql sets up each expression it evaluates and each call layer anew, and
-- that would cost more than the INSERT itself. Each writer:
--   1. checks the actor and every input in ONE boolean expression (the valid
--      case evaluates nothing else);

--   2. only when that is not true, runs the checks one by one through the
--      shared helpers (private.log_actor, private.require_label, ...), in the
--      order and with the errors (SQLSTATE, message, hint) they define;

--   3. takes the correlation id from the request when none is given;

--   4. runs one INSERT (for log_user_activity an INSERT ... SELECT that reads
--      the logging settings row in the same statement and writes nothing when
--      a switch is off).
-- Two layers (public invoker wrapper -> private definer writer) is the least
-- the security rules allow: the API roles cannot insert into the log tables,
-- so the writer is a definer, and definers live in `private`.
-- private.prepare_ip (an exception block, so a subtransaction) runs only
-- when an IP is given.
create or replace function private.log_user_activity(
  p_activity_type text,
  p_activity_category text,
  p_correlation_id uuid,
  p_activity_metadata jsonb,
  p_resource_id uuid,
  p_resource_type text,
  p_ip_address text,
  p_user_agent text,
  p_request_path text,
  p_request_method text,
  p_session_id text,
  p_success boolean,
  p_error_message text,
  p_user_id uuid
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_jwt jsonb := auth.jwt();
  v_valid boolean;
  v_user uuid;
  v_ip text;
  v_setting text;
  v_headers jsonb;
  v_corr uuid;
  v_id uuid;
begin
  v_valid := coalesce(
       -- the actor (private.log_actor): the JWT's user, who may repeat their own id;
       -- or a caller that is neither anon nor authenticated naming the user
       case when (v_jwt ->> 'sub') is not null then p_user_id is null or p_user_id = (v_jwt ->> 'sub')::uuid
            else p_user_id is not null
                 and coalesce(v_jwt ->> 'role', pg_catalog.current_setting('role', true)) not in ('anon', 'authenticated') end
       and pg_catalog.char_length(pg_catalog.btrim(p_activity_category)) between 1 and 50
       and pg_catalog.char_length(pg_catalog.btrim(p_activity_type)) between 1 and 50
       -- no reserved name from a signed-in caller (private.is_reserved_name)
       and ((v_jwt ->> 'sub') is null
            or not (pg_catalog.lower(pg_catalog.btrim(p_activity_category)) in ('admin', 'system', 'service')
                    or pg_catalog.lower(pg_catalog.btrim(p_activity_category)) ~ '^(admin|system|service|auth)[.:]'
                    or pg_catalog.lower(pg_catalog.btrim(p_activity_type)) in ('admin', 'system', 'service')
                    or pg_catalog.lower(pg_catalog.btrim(p_activity_type)) ~ '^(admin|system|service|auth)[.:]'))
       and (p_activity_metadata is null
            or pg_catalog.jsonb_typeof(p_activity_metadata) = 'object' and pg_catalog.pg_column_size(p_activity_metadata) <= 16384)
       and pg_catalog.char_length(coalesce(p_resource_type, '')) <= 50
       -- (an IP is checked, and maybe anonymised, by private.prepare_ip below)
       and pg_catalog.char_length(coalesce(p_user_agent, '')) <= 1000
       and pg_catalog.char_length(coalesce(p_request_path, '')) <= 500
       and coalesce(pg_catalog.upper(nullif(p_request_method, '')) in ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), true)
       and pg_catalog.char_length(coalesce(p_session_id, '')) <= 100
       and pg_catalog.char_length(coalesce(p_error_message, '')) <= 10000,
       false);
  if not v_valid then
    -- something is wrong: the checks one by one, in order, with the shared
    -- helpers' errors (the IP's in its place, below)
    v_user := private.log_actor(p_user_id);
    perform private.require_label(p_activity_category, 'activity_category', 50);
    if v_user is null then
      raise exception 'invalid user: p_user_id is required for a service-role activity entry' using errcode = '22023';
    end if;
    perform private.require_label(p_activity_type, 'activity_type', 50);
    perform private.require_unreserved(p_activity_category, 'activity_category');
    perform private.require_unreserved(p_activity_type, 'activity_type');
    perform private.optional_object(p_activity_metadata, 'activity_metadata');
    perform private.optional_text(p_resource_type, 'resource_type', 50);
  end if;
  if p_ip_address <> '' then
    v_ip := private.prepare_ip(p_ip_address,
      coalesce(((select s.config_data from public.admin_config as s where s.config_key = 'logging_settings')
                -> 'privacy_settings' ->> 'anonymize_ip')::boolean, false));
  end if;
  if not v_valid then
    perform private.optional_text(p_user_agent, 'user_agent', 1000);
    perform private.optional_text(p_request_path, 'request_path', 500);
    perform private.optional_method(p_request_method);
    perform private.optional_text(p_session_id, 'session_id', 100);
    perform private.optional_text(p_error_message, 'error_message', 10000);
  end if;
  if p_correlation_id is null then
    -- as private.current_correlation_id()
    v_setting := nullif(pg_catalog.current_setting('app.correlation_id', true), '');
    if v_setting is null then
      v_headers := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb;
      if v_headers is not null then
        v_setting := coalesce(v_headers ->> 'x-correlation-id', v_headers ->> 'x-request-id');
      end if;
    end if;
  end if;
  v_corr := coalesce(p_correlation_id,
                     case when v_setting ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v_setting::uuid end);
  -- a signed-in user writes only under their own correlation ids
  if v_corr is not null and (v_jwt ->> 'sub') is not null then
    perform private.require_own_correlation(v_corr);
  end if;
  -- The settings row is read by the insert itself: nothing is written (and
  -- null returned) when user activity logging or the category's toggle
  -- (log_<category>_events; authentication uses log_auth_events) is off, or
  -- when no settings row exists (the default is off). A missing toggle means on.
  insert into public.user_activity_logs (id, user_id, correlation_id, activity_type, activity_category, activity_metadata,
                                         resource_id, resource_type, ip_address, user_agent, request_path, request_method,
                                         session_id, success, error_message, created_at)
  select gen_random_uuid(), coalesce((v_jwt ->> 'sub')::uuid, p_user_id),
         coalesce(v_corr, gen_random_uuid()),
         pg_catalog.btrim(p_activity_type), pg_catalog.btrim(p_activity_category), coalesce(p_activity_metadata, '{}'::jsonb),
         p_resource_id, nullif(p_resource_type, ''), v_ip, nullif(p_user_agent, ''), nullif(p_request_path, ''),
         pg_catalog.upper(nullif(p_request_method, '')), nullif(p_session_id, ''), coalesce(p_success, true),
         nullif(p_error_message, ''), pg_catalog.now()
    from public.admin_config as s
   where s.config_key = 'logging_settings'
     and coalesce((s.config_data ->> 'user_activity_logging_enabled')::boolean, false)
     and coalesce((s.config_data -> 'category_toggles'
                     ->> ('log_' || case pg_catalog.lower(pg_catalog.btrim(p_activity_category)) when 'authentication' then 'auth'
                                    else pg_catalog.lower(pg_catalog.btrim(p_activity_category)) end || '_events'))::boolean,
                  true)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function private.log_user_activity(text, text, uuid, jsonb, uuid, text, text, text, text, text, text, boolean, text, uuid) is
  'Writer behind public.log_user_activity (definer: the API roles cannot insert into user_activity_logs): actor from the JWT, inputs checked, one insert that honours the logging settings. Other domains call it directly (it never relaxes synchronous_commit).';

create or replace function public.log_user_activity(
  p_activity_type text,
  p_activity_category text,
  p_correlation_id uuid default null,
  p_activity_metadata jsonb default null,
  p_resource_id uuid default null,
  p_resource_type text default null,
  p_ip_address text default null,
  p_user_agent text default null,
  p_request_path text default null,
  p_request_method text default null,
  p_session_id text default null,
  p_success boolean default true,
  p_error_message text default null,
  p_user_id uuid default null
)
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_ignored text;
begin
  -- asynchronous commit when the call is the whole transaction (telemetry;
  -- docs/observability.md). An assignment, not PERFORM: a simple expression.
  v_ignored := case when pg_catalog.pg_current_xact_id_if_assigned() is null
                    then pg_catalog.set_config('synchronous_commit', 'off', true) end;
  perform private.consume_quota('telemetry');
  return private.log_user_activity(p_activity_type, p_activity_category, p_correlation_id, p_activity_metadata,
                                   p_resource_id, p_resource_type, p_ip_address, p_user_agent, p_request_path,
                                   p_request_method, p_session_id, p_success, p_error_message, p_user_id);
end;
$$;

comment on function public.log_user_activity(text, text, uuid, jsonb, uuid, text, text, text, text, text, text, boolean, text, uuid) is
  'Records a user action (seed 002 user_activity_logs) for the signed-in user (p_user_id: service role only). Honours user_activity_logging_enabled, category_toggles.log_<category>_events and anonymize_ip. Returns the id, or null when not logged.';

-- How far back an agent operation's start and end times may lie.
create or replace function private.agent_time_window()
returns interval
language sql
immutable
security invoker
set search_path = ''
as $$ select interval '1 day' $$;

comment on function private.agent_time_window() is 'How far in the past log_agent_activity accepts start_time and end_time.';
revoke execute on function private.agent_time_window() from public, anon, authenticated, service_role;
grant execute on function private.agent_time_window() to authenticated, service_role;

create or replace function private.log_agent_activity(
  p_agent_type text,
  p_operation_type text,
  p_operation_category text,
  p_correlation_id uuid,
  p_operation_metadata jsonb,
  p_resource_id uuid,
  p_resource_type text,
  p_duration_ms integer,
  p_start_time timestamptz,
  p_end_time timestamptz,
  p_model_id text,
  p_provider text,
  p_thinking_mode boolean,
  p_input_tokens integer,
  p_output_tokens integer,
  p_reasoning_tokens integer,
  p_total_tokens integer,
  p_input_cost numeric,
  p_output_cost numeric,
  p_total_cost numeric,
  p_success boolean,
  p_error_type text,
  p_error_message text,
  p_retry_count integer,
  p_user_id uuid
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.log_actor(p_user_id);
  -- the stored row as is (one index lookup); each read below defaults like get_logging_config()
  v_config jsonb := (select s.config_data from public.admin_config as s where s.config_key = 'logging_settings');
  v_row public.agent_activity_logs;
begin
  perform private.require_finite(p_input_cost, 'input_cost');
  perform private.require_finite(p_output_cost, 'output_cost');
  perform private.require_finite(p_total_cost, 'total_cost');
  -- an operation is reported when it ends: its times lie within the last
  -- day (so its duration fits duration_ms), finite, never ahead of the clock
  perform private.require_time_between(p_start_time, 'start_time',
    pg_catalog.now() - private.agent_time_window(), pg_catalog.now() + private.user_time_skew());
  perform private.require_time_between(p_end_time, 'end_time',
    pg_catalog.now() - private.agent_time_window(), pg_catalog.now() + private.user_time_skew());
  perform private.require_unreserved(p_agent_type, 'agent_type');
  perform private.require_unreserved(p_operation_type, 'operation_type');
  perform private.require_unreserved(p_operation_category, 'operation_category');
  if least(p_duration_ms, p_input_tokens, p_output_tokens, p_reasoning_tokens, p_total_tokens, p_retry_count) < 0
     or least(p_input_cost, p_output_cost, p_total_cost) < 0 then
    raise exception 'invalid agent activity: durations, token counts, costs and retry_count must not be negative'
      using errcode = '22023';
  end if;
  if p_end_time < p_start_time then
    raise exception 'invalid agent activity: end_time is before start_time' using errcode = '22023';
  end if;
  if greatest(p_input_cost, p_output_cost, p_total_cost) >= 10000 then
    raise exception 'invalid agent activity: a cost must be below 10000' using errcode = '22023';
  end if;
  -- validate everything, then honour the switches
  v_row := row(gen_random_uuid(), v_user,
    coalesce(p_correlation_id, private.current_correlation_id(), gen_random_uuid()),
    private.require_label(p_agent_type, 'agent_type', 50),
    private.require_label(p_operation_type, 'operation_type', 50),
    private.require_label(p_operation_category, 'operation_category', 50),
    case when p_operation_metadata is null then '{}'::jsonb else private.optional_object(p_operation_metadata, 'operation_metadata') end,
    p_resource_id,
    case when p_resource_type is null then null else private.optional_text(p_resource_type, 'resource_type', 50) end,
    coalesce(p_duration_ms, (extract(epoch from p_end_time - p_start_time) * 1000)::integer),
    p_start_time, p_end_time,
    case when p_model_id is null then null else private.optional_text(p_model_id, 'model_id', 100) end,
    case when p_provider is null then null else private.optional_text(p_provider, 'provider', 50) end,
    coalesce(p_thinking_mode, false),
    p_input_tokens, p_output_tokens, p_reasoning_tokens,
    coalesce(p_total_tokens, nullif(coalesce(p_input_tokens, 0) + coalesce(p_output_tokens, 0) + coalesce(p_reasoning_tokens, 0), 0)),
    p_input_cost, p_output_cost,
    coalesce(p_total_cost, case when p_input_cost is not null or p_output_cost is not null
                                then coalesce(p_input_cost, 0) + coalesce(p_output_cost, 0) end),
    coalesce(p_success, true),
    case when p_error_type is null then null else private.optional_text(p_error_type, 'error_type', 100) end,
    case when p_error_message is null then null else private.optional_text(p_error_message, 'error_message', 10000) end,
    coalesce(p_retry_count, 0),
    pg_catalog.now());
  perform private.require_own_correlation(v_row.correlation_id);
  if not (coalesce((v_config ->> 'agent_activity_logging_enabled')::boolean, false)
          and coalesce((v_config -> 'category_toggles' ->> 'log_agent_events')::boolean, true)) then
    return null;
  end if;
  insert into public.agent_activity_logs select v_row.*;
  return v_row.id;
end;
$$;

comment on function private.log_agent_activity(text, text, text, uuid, jsonb, uuid, text, integer, timestamptz, timestamptz, text, text, boolean, integer, integer, integer, integer, numeric, numeric, numeric, boolean, text, text, integer, uuid) is
  'Writer behind public.log_agent_activity (definer: the API roles cannot insert into agent_activity_logs).';

create or replace function public.log_agent_activity(
  p_agent_type text,
  p_operation_type text,
  p_operation_category text,
  p_correlation_id uuid default null,
  p_operation_metadata jsonb default null,
  p_resource_id uuid default null,
  p_resource_type text default null,
  p_duration_ms integer default null,
  p_start_time timestamptz default null,
  p_end_time timestamptz default null,
  p_model_id text default null,
  p_provider text default null,
  p_thinking_mode boolean default false,
  p_input_tokens integer default null,
  p_output_tokens integer default null,
  p_reasoning_tokens integer default null,
  p_total_tokens integer default null,
  p_input_cost numeric default null,
  p_output_cost numeric default null,
  p_total_cost numeric default null,
  p_success boolean default true,
  p_error_type text default null,
  p_error_message text default null,
  p_retry_count integer default 0,
  p_user_id uuid default null
)
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- asynchronous commit when the call is the whole transaction (see the note
  -- above the write RPCs)
  if pg_catalog.pg_current_xact_id_if_assigned() is null then
    perform pg_catalog.set_config('synchronous_commit', 'off', true);
  end if;
  perform private.consume_quota('telemetry');
  return private.log_agent_activity(p_agent_type, p_operation_type, p_operation_category, p_correlation_id,
                                    p_operation_metadata, p_resource_id, p_resource_type, p_duration_ms, p_start_time,
                                    p_end_time, p_model_id, p_provider, p_thinking_mode, p_input_tokens, p_output_tokens,
                                    p_reasoning_tokens, p_total_tokens, p_input_cost, p_output_cost, p_total_cost,
                                    p_success, p_error_type, p_error_message, p_retry_count, p_user_id);
end;
$$;

comment on function public.log_agent_activity(text, text, text, uuid, jsonb, uuid, text, integer, timestamptz, timestamptz, text, text, boolean, integer, integer, integer, integer, numeric, numeric, numeric, boolean, text, text, integer, uuid) is
  'Records an AI agent operation (seed 002 agent_activity_logs) for the signed-in user, or for p_user_id / no user (service role). Pass the correlation id of the user action that caused it. Returns the id, or null when agent logging is off.';

create or replace function private.log_api_request(
  p_method text,
  p_path text,
  p_status_code integer,
  p_duration_ms integer,
  p_request_size integer,
  p_response_size integer,
  p_ip_address text,
  p_user_agent text,
  p_correlation_id uuid,
  p_user_id uuid
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.log_actor(p_user_id);
  v_id uuid;
begin
  if p_method is null then
    raise exception 'invalid request method: required' using errcode = '22023';
  end if;
  if p_status_code is null or p_status_code not between 100 and 599 then
    raise exception 'invalid status_code: must be 100 to 599' using errcode = '22023';
  end if;
  if p_duration_ms is null or p_duration_ms < 0 or p_request_size < 0 or p_response_size < 0 then
    raise exception 'invalid duration_ms/sizes: required duration, none negative' using errcode = '22023';
  end if;
  insert into public.api_request_logs (user_id, method, path, status_code, duration_ms, request_size, response_size,
                                       ip_address, user_agent, correlation_id)
  values (v_user, private.optional_method(p_method), private.require_label(p_path, 'path', 500), p_status_code,
          p_duration_ms, p_request_size, p_response_size,
          private.prepare_ip(p_ip_address, coalesce(((select s.config_data from public.admin_config as s where s.config_key = 'logging_settings') -> 'privacy_settings' ->> 'anonymize_ip')::boolean, false)),
          case when p_user_agent is null then null else private.optional_text(p_user_agent, 'user_agent', 1000) end,
          coalesce(p_correlation_id, private.current_correlation_id()))
  returning id into v_id;
  return v_id;
end;
$$;

comment on function private.log_api_request(text, text, integer, integer, integer, integer, text, text, uuid, uuid) is
  'Writer behind public.log_api_request.';

create or replace function public.log_api_request(
  p_method text,
  p_path text,
  p_status_code integer,
  p_duration_ms integer,
  p_request_size integer default null,
  p_response_size integer default null,
  p_ip_address text default null,
  p_user_agent text default null,
  p_correlation_id uuid default null,
  p_user_id uuid default null
)
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- asynchronous commit when the call is the whole transaction (see the note
  -- above the write RPCs)
  if pg_catalog.pg_current_xact_id_if_assigned() is null then
    perform pg_catalog.set_config('synchronous_commit', 'off', true);
  end if;
  return private.log_api_request(p_method, p_path, p_status_code, p_duration_ms, p_request_size, p_response_size,
                                 p_ip_address, p_user_agent, p_correlation_id, p_user_id);
end;
$$;

comment on function public.log_api_request(text, text, integer, integer, integer, integer, text, text, uuid, uuid) is
  'Records one API request (seed 001 api_request_logs). Service role only (the API gateway / middleware). Returns the id.';

create or replace function private.record_health_check(
  p_component text,
  p_status text,
  p_latency_ms integer,
  p_details jsonb
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_component text;
  v_details jsonb;
  v_id uuid;
begin
  if p_status is null or p_status not in ('healthy', 'degraded', 'unhealthy') then
    raise exception 'invalid status: must be healthy, degraded or unhealthy' using errcode = '22023';
  end if;
  if p_latency_ms < 0 then
    raise exception 'invalid latency_ms: must not be negative' using errcode = '22023';
  end if;
  v_component := private.require_label(p_component, 'component', 100);
  v_details := case when p_details is null then '{}'::jsonb else private.optional_object(p_details, 'details') end;
  -- At most one row per component a minute, however many function instances
  -- report: writers of one component queue on a transaction lock, and each
  -- then sees the rows committed before it (read committed, a new snapshot
  -- per statement).
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('record_health_check:' || v_component, 0));
  if exists (select 1 from public.system_health_logs as l
              where l.component = v_component and l.checked_at > pg_catalog.now() - interval '1 minute') then
    return null;
  end if;
  insert into public.system_health_logs (component, status, latency_ms, details)
  values (v_component, p_status, p_latency_ms, v_details)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function private.record_health_check(text, text, integer, jsonb) is
  'Writer behind public.record_health_check: at most one row per component a minute (null when the component has one from the last minute).';

create or replace function public.record_health_check(
  p_component text,
  p_status text,
  p_latency_ms integer default null,
  p_details jsonb default null
)
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- asynchronous commit when the call is the whole transaction (see the note
  -- above the write RPCs)
  if pg_catalog.pg_current_xact_id_if_assigned() is null then
    perform pg_catalog.set_config('synchronous_commit', 'off', true);
  end if;
  return private.record_health_check(p_component, p_status, p_latency_ms, p_details);
end;
$$;

comment on function public.record_health_check(text, text, integer, jsonb) is
  'Records one health-check result (seed 001 system_health_logs; the /api/health checks), at most one per component a minute. Service role only. Returns the id, or null when the component already has a row from the last minute.';

create or replace function private.resolve_error(p_error_id uuid, p_resolution_notes text)
returns public.error_logs
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_row public.error_logs;
begin
  if not (select public.is_current_user_admin()) then
    raise exception 'only admins may resolve errors' using errcode = '42501';
  end if;
  if char_length(p_resolution_notes) > 10000 then
    raise exception 'invalid resolution_notes: at most 10000 characters' using errcode = '22023';
  end if;
  update public.error_logs as e
     set resolved = true,
         resolved_by = (select auth.uid()),
         resolved_at = pg_catalog.now(),
         resolution_notes = nullif(btrim(p_resolution_notes), '')
   where e.id = p_error_id and not e.resolved
  returning e.* into v_row;
  if v_row.id is null then
    if exists (select 1 from public.error_logs as e where e.id = p_error_id) then
      raise exception 'error % is already resolved', p_error_id using errcode = 'PT409';
    end if;
    raise exception 'error % not found', p_error_id using errcode = 'PT404';
  end if;
  return v_row;
end;
$$;

comment on function private.resolve_error(uuid, text) is 'Writer behind public.resolve_error (definer: resolved_by must be the admin in the JWT).';

create or replace function public.resolve_error(p_error_id uuid, p_resolution_notes text default null)
returns public.error_logs
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.resolve_error(p_error_id, p_resolution_notes);
$$;

comment on function public.resolve_error(uuid, text) is
  'Marks an error resolved by the calling admin with notes (seed 002 resolved/resolved_by/resolved_at/resolution_notes). 42501 not an admin, PT404 no such error, PT409 already resolved.';

revoke execute on function private.log_error(text, text, text, jsonb, text, text, text, text, text, text, uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.log_error(text, text, text, jsonb, text, text, text, text, text, text, uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.log_user_activity(text, text, uuid, jsonb, uuid, text, text, text, text, text, text, boolean, text, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.log_user_activity(text, text, uuid, jsonb, uuid, text, text, text, text, text, text, boolean, text, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.log_agent_activity(text, text, text, uuid, jsonb, uuid, text, integer, timestamptz, timestamptz, text, text, boolean, integer, integer, integer, integer, numeric, numeric, numeric, boolean, text, text, integer, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.log_agent_activity(text, text, text, uuid, jsonb, uuid, text, integer, timestamptz, timestamptz, text, text, boolean, integer, integer, integer, integer, numeric, numeric, numeric, boolean, text, text, integer, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.log_api_request(text, text, integer, integer, integer, integer, text, text, uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.log_api_request(text, text, integer, integer, integer, integer, text, text, uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.record_health_check(text, text, integer, jsonb) from public, anon, authenticated, service_role;
revoke execute on function public.record_health_check(text, text, integer, jsonb) from public, anon, authenticated, service_role;
revoke execute on function private.resolve_error(uuid, text) from public, anon, authenticated, service_role;
revoke execute on function public.resolve_error(uuid, text) from public, anon, authenticated, service_role;

grant execute on function private.log_error(text, text, text, jsonb, text, text, text, text, text, text, uuid, uuid) to authenticated, service_role;
grant execute on function public.log_error(text, text, text, jsonb, text, text, text, text, text, text, uuid, uuid) to authenticated, service_role;
grant execute on function private.log_user_activity(text, text, uuid, jsonb, uuid, text, text, text, text, text, text, boolean, text, uuid) to authenticated, service_role;
grant execute on function public.log_user_activity(text, text, uuid, jsonb, uuid, text, text, text, text, text, text, boolean, text, uuid) to authenticated, service_role;
grant execute on function private.log_agent_activity(text, text, text, uuid, jsonb, uuid, text, integer, timestamptz, timestamptz, text, text, boolean, integer, integer, integer, integer, numeric, numeric, numeric, boolean, text, text, integer, uuid) to authenticated, service_role;
grant execute on function public.log_agent_activity(text, text, text, uuid, jsonb, uuid, text, integer, timestamptz, timestamptz, text, text, boolean, integer, integer, integer, integer, numeric, numeric, numeric, boolean, text, text, integer, uuid) to authenticated, service_role;
grant execute on function private.log_api_request(text, text, integer, integer, integer, integer, text, text, uuid, uuid) to service_role;
grant execute on function public.log_api_request(text, text, integer, integer, integer, integer, text, text, uuid, uuid) to service_role;
grant execute on function private.record_health_check(text, text, integer, jsonb) to service_role;
grant execute on function public.record_health_check(text, text, integer, jsonb) to service_role;
grant execute on function private.resolve_error(uuid, text) to authenticated;
grant execute on function public.resolve_error(uuid, text) to authenticated;

-- Admin view: the latest health of each component.
create or replace function public.get_system_health()
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'status', case when count(*) = 0 then 'unknown'
                   when bool_or(h.status = 'unhealthy') then 'unhealthy'
                   when bool_or(h.status = 'degraded') then 'degraded'
                   else 'healthy' end,
    'checks', coalesce(jsonb_object_agg(h.component, jsonb_build_object('status', h.status, 'latency', h.latency_ms,
                                                                       'checked_at', h.checked_at, 'details', h.details))
                       filter (where h.component is not null), '{}'::jsonb))
    from (select distinct on (l.component) l.component, l.status, l.latency_ms, l.checked_at, l.details
            from public.system_health_logs as l
           order by l.component, l.checked_at desc) as h;
$$;

comment on function public.get_system_health() is
  'The latest check of each component and the overall status (seed 001 /api/health format: healthy, degraded, unhealthy). RLS: admins (and the service role) see the checks.';

revoke execute on function public.get_system_health() from public, anon, authenticated, service_role;
grant execute on function public.get_system_health() to authenticated, service_role;
