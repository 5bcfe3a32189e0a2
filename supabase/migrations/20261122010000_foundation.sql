-- Foundation: the schema that holds every domain's internals, and the helpers
-- all later migrations share: set_updated_at, encryption_key, uuid_v7 (seed
-- 000 message ids), is_service_role, retry_backoff, current_correlation_id
-- (seed 004 correlation ids) and lock_partitioned_table (the lock partition
-- maintenance and retention take).
--
-- Conventions every migration in this project follows (docs/conventions.md):
--   * public holds only what clients use: tables under RLS and RPC functions.
--     Internal tables and helpers live in `private`, which the Data API does
--     not expose ([api] schemas in supabase/config.toml).
--   * Every function: `set search_path = ''`, schema-qualified names, execute
--     revoked from public and granted per function to the roles that need it.
--   * Every table: RLS on, explicit grants (new projects expose nothing by
--     default), one policy per operation and role, `(select auth.uid())`.

create schema if not exists private;
comment on schema private is
  'Internal tables and helpers. Not exposed by the Data API; reached only through public RPCs and RLS policies.';

revoke all on schema private from public;
-- RLS policies and security-invoker RPCs call helpers that live here, so the
-- API roles need to resolve names in it; they get no table privileges.
grant usage on schema private to anon, authenticated, service_role;

-- Column domains rather than table CHECKs for single-column rules on
-- write-hot tables: a table CHECK is rebuilt and planned at the start of every
-- writing statement, a domain's constraint is cached per session (docs/conventions.md).
create domain private.nonnegative_integer as integer check (value >= 0);
comment on domain private.nonnegative_integer is 'A count, size or duration: an integer 0 or above (23514 otherwise).';

-- Keeps updated_at honest on every table that has one; attach it with a
-- column list so that bookkeeping columns (last_seen_at, counters) don't bump it.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

comment on function private.set_updated_at() is
  'Trigger: sets updated_at to the transaction time on update.';

revoke execute on function private.set_updated_at() from public, anon, authenticated, service_role;

-- Encryption keys for data encrypted at rest (pgcrypto). The key is never in
-- the table it protects nor in a migration: on hosted Supabase it is a Vault
-- secret named p_name; without Vault (the local stack, self-hosted) it is the
-- database or role setting app.<p_name>. Definer, so callers need no access
-- to Vault; only other private definer functions call it.
create or replace function private.encryption_key(p_name text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_key text;
  v_vault regclass := pg_catalog.to_regclass('vault.decrypted_secrets');
begin
  if v_vault is not null then
    -- dynamic SQL: projects without Vault have no such view
    execute pg_catalog.format('select decrypted_secret from %s where name = $1 order by created_at desc limit 1', v_vault)
      into v_key using p_name;
  end if;
  v_key := coalesce(nullif(v_key, ''), nullif(pg_catalog.current_setting('app.' || p_name, true), ''));
  if v_key is null or pg_catalog.char_length(v_key) < 32 then
    raise exception 'encryption key % is not configured', p_name
      using errcode = '55000',
            hint = pg_catalog.format('Store a random key of at least 32 characters as the Vault secret %s (or set app.%s).', p_name, p_name);
  end if;
  return v_key;
end;
$$;

comment on function private.encryption_key(text) is
  'The encryption key named p_name: the Vault secret of that name, else the setting app.<p_name>; at least 32 characters. Raises 55000 when neither is set.';

revoke execute on function private.encryption_key(text) from public, anon, authenticated, service_role;

-- Time-ordered ids (UUID version 7 layout: 48-bit millisecond timestamp, then
-- random bits). Messages are the hottest insert path; a random v4 primary key
-- writes into a random index page on every insert, a v7 key appends.
-- plpgsql rather than sql: a `language sql` function with a SET clause is
-- neither inlined nor cached, so it is parsed and planned on every call (as a
-- column default, once per inserted row); plpgsql keeps its expression's plan
-- for the session.
create or replace function private.uuid_v7()
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return pg_catalog.encode(
    pg_catalog.set_bit(pg_catalog.set_bit(
      pg_catalog.overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()),
        pg_catalog.substr(pg_catalog.int8send(pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint), 3),
        1, 6),
      52, 1), 53, 1),
    'hex')::uuid;
end;
$$;

comment on function private.uuid_v7() is
  'A new UUID with the version 7 layout (millisecond timestamp first), so that ids of new rows sort by creation time.';

revoke execute on function private.uuid_v7() from public, anon, authenticated, service_role;
-- Column defaults run with the inserting role's rights.
grant execute on function private.uuid_v7() to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Shared helper: the caller is the service role (the secret key). An SQL
-- function with a `set search_path` clause can be neither inlined nor cached,
-- so each call runs the SQL-function executor: the hot functions
-- (create_transaction, update_transaction_status, find_nearby_locations)
-- write the same expression inline instead (auth.jwt() and auth.uid() have no
-- SET clause and inline).
-- ---------------------------------------------------------------------------
create or replace function private.is_service_role()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  -- The SET clause (required project-wide) keeps this from being inlined, so
  -- each call runs the SQL-function executor; hot paths write the expression
  -- inline instead.
  select coalesce(auth.jwt() ->> 'role' = 'service_role', false);
$$;

comment on function private.is_service_role() is
  'True when the request carries the service role''s JWT (the secret key). For plpgsql on cold paths (hot ones inline the expression); policies should use (select auth.jwt()).';

revoke execute on function private.is_service_role() from public, anon, authenticated, service_role;
grant execute on function private.is_service_role() to authenticated, service_role;

-- Shared helper: the signed-in caller of a user-only RPC (chat, identity,
-- payments, notifications, integrations), the same 42501 everywhere.
create or replace function private.require_user()
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := (select auth.uid());
begin
  if v_uid is null then
    raise exception 'you must be signed in' using errcode = '42501';
  end if;
  return v_uid;
end;
$$;

comment on function private.require_user() is 'The caller''s user id; 42501 when not signed in.';

revoke execute on function private.require_user() from public, anon, authenticated, service_role;
grant execute on function private.require_user() to authenticated;

-- ---------------------------------------------------------------------------
-- Shared input bounds (docs/conventions.md "Bounds on input"): what every
-- user-callable writer checks before it writes, with one message per class.
-- Hot paths may write the same test inline; the message stays the same.
-- ---------------------------------------------------------------------------

-- Numbers: PostgreSQL's numeric and double precision accept NaN and
-- +/-Infinity (a double precision argument is passed as ::numeric, which keeps both), which pass every "not negative" check (NaN > 0 is false, NaN
-- = NaN is true) and then break sums and averages.
create or replace function private.require_finite(p_value numeric, p_name text)
returns numeric
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_value in ('NaN', 'Infinity', '-Infinity') then
    raise exception 'invalid %: must be a finite number', p_name using errcode = '22023';
  end if;
  return p_value;
end;
$$;

comment on function private.require_finite(numeric, text) is 'p_value unchanged (null too); 22023 for NaN and +/-Infinity.';

revoke execute on function private.require_finite(numeric, text) from public, anon, authenticated, service_role;
grant execute on function private.require_finite(numeric, text) to authenticated, service_role;

-- Times a caller supplies (a run time, a schedule, a range bound): finite and
-- inside [p_not_before, p_not_after], so no value can sort ahead of everyone
-- else's rows or overflow an aggregate (age(), extract(epoch)) over the column.
create or replace function private.require_time_between(
  p_value timestamptz, p_name text, p_not_before timestamptz, p_not_after timestamptz
)
returns timestamptz
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if p_value is not null and (not pg_catalog.isfinite(p_value) or p_value < p_not_before or p_value > p_not_after) then
    raise exception 'invalid %: must be between % and %', p_name, p_not_before, p_not_after using errcode = '22023';
  end if;
  return p_value;
end;
$$;

comment on function private.require_time_between(timestamptz, text, timestamptz, timestamptz) is
  'p_value unchanged (null too); 22023 when it is infinite or outside [p_not_before, p_not_after]. Users'' run and schedule times: now() - private.user_time_skew() to now() + private.user_time_horizon().';

revoke execute on function private.require_time_between(timestamptz, text, timestamptz, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.require_time_between(timestamptz, text, timestamptz, timestamptz) to authenticated, service_role;

-- The window a user's own times must fall in: a small clock skew into the
-- past, a year into the future.
create or replace function private.user_time_skew()
returns interval
language sql
immutable
security invoker
set search_path = ''
as $$ select interval '5 minutes' $$;

create or replace function private.user_time_horizon()
returns interval
language sql
immutable
security invoker
set search_path = ''
as $$ select interval '1 year' $$;

comment on function private.user_time_skew() is 'How far into the past a user-supplied run or schedule time may be (clock skew).';
comment on function private.user_time_horizon() is 'How far into the future a user-supplied run or schedule time may be.';

revoke execute on function private.user_time_skew(), private.user_time_horizon() from public, anon, authenticated, service_role;
grant execute on function private.user_time_skew(), private.user_time_horizon() to authenticated, service_role;

-- Sizes of free-form arguments: jsonb by its stored size, text by characters.
create or replace function private.require_json_size(p_value jsonb, p_name text, p_max_bytes integer)
returns jsonb
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if pg_catalog.pg_column_size(p_value) > p_max_bytes then
    raise exception 'invalid %: at most % bytes of JSON', p_name, p_max_bytes using errcode = '22023';
  end if;
  return p_value;
end;
$$;

create or replace function private.require_text_length(p_value text, p_name text, p_max_chars integer)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if pg_catalog.length(p_value) > p_max_chars then
    raise exception 'invalid %: at most % characters', p_name, p_max_chars using errcode = '22023';
  end if;
  return p_value;
end;
$$;

comment on function private.require_json_size(jsonb, text, integer) is 'p_value unchanged (null too); 22023 when its stored size exceeds p_max_bytes.';
comment on function private.require_text_length(text, text, integer) is 'p_value unchanged (null too); 22023 when longer than p_max_chars characters.';

revoke execute on function private.require_json_size(jsonb, text, integer), private.require_text_length(text, text, integer)
  from public, anon, authenticated, service_role;
grant execute on function private.require_json_size(jsonb, text, integer), private.require_text_length(text, text, integer)
  to authenticated, service_role;

-- The write quota of a table users insert into (through an RPC or the table
-- endpoint alike): every row a signed-in user adds costs one unit of their
-- plan's quota for the endpoint named by the trigger's argument ('writes'
-- when none), through private.consume_quota (usage migration; resolved when a
-- row arrives). PT429 when spent; the service role is not limited.
create or replace function private.consume_quota_per_row()
returns trigger
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  perform private.consume_quota(coalesce(tg_argv[0], 'writes'));
  return new;
end;
$$;

comment on function private.consume_quota_per_row() is
  'Trigger (before insert, for each row): the inserting user consumes one unit of the quota named by the trigger argument (default writes); PT429 when spent.';

revoke execute on function private.consume_quota_per_row() from public, anon, authenticated, service_role;

-- Exponential backoff shared by every retrying sender (notifications, webhooks):
-- base * 2^(attempt-1), capped. No jitter: workers are few and the schedule
-- stays predictable (and testable).
create or replace function private.retry_backoff(p_attempt integer, p_base interval, p_cap interval)
returns interval
language sql
immutable
security invoker
set search_path = ''
as $$
  select least(p_base * pg_catalog.power(2, greatest(p_attempt, 1) - 1)::double precision, p_cap);
$$;

comment on function private.retry_backoff(integer, interval, interval) is
  'Delay before retry number p_attempt: p_base * 2^(p_attempt-1), at most p_cap.';

revoke execute on function private.retry_backoff(integer, interval, interval) from public, anon, authenticated, service_role;

-- Correlation id of the current request: app.correlation_id if a caller set
-- it, else the X-Correlation-Id / X-Request-Id header PostgREST exposes in
-- request.headers; null when neither is a uuid.
create or replace function private.current_correlation_id()
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v text := nullif(pg_catalog.current_setting('app.correlation_id', true), '');
  v_headers text;
begin
  if v is null then
    v_headers := nullif(pg_catalog.current_setting('request.headers', true), '');
    if v_headers is null then
      return null;
    end if;
    v := coalesce(v_headers::jsonb ->> 'x-correlation-id', v_headers::jsonb ->> 'x-request-id');
  end if;
  if v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return v::uuid;
  end if;
  return null;
end;
$$;

comment on function private.current_correlation_id() is
  'The request''s correlation id (setting app.correlation_id, or header X-Correlation-Id / X-Request-Id), or null.';

revoke execute on function private.current_correlation_id() from public, anon, authenticated, service_role;

-- The lock every change to a partitioned table's set of partitions takes:
-- creating them ahead (private.ensure_partitions) and dropping them past
-- retention (private.drop_expired_partitions, private.drop_partitions_before).
-- Transaction-scoped and re-entrant, so a function holding it may call
-- another that takes it again.
create or replace function private.lock_partitioned_table(p_parent regclass)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(20261122, pg_catalog.hashtext(p_parent::text));
end;
$$;

comment on function private.lock_partitioned_table(regclass) is
  'Takes the transaction-scoped lock that serialises partition maintenance and retention of one partitioned table.';

revoke execute on function private.lock_partitioned_table(regclass) from public, anon, authenticated, service_role;
