-- The Supabase baseline: what a Supabase database already has before any
-- project migration runs. It belongs to the local tooling, never to
-- supabase/migrations. Run as the bootstrap superuser `supabase_admin`, once
-- per database (roles are per cluster and created only when missing), so a
-- second `npm start` can run it again safely.
--
-- Sources for every fact here: ../shared/research/postgrest_supabase.md §1
-- (supabase/postgres init scripts and migrations, GoTrue migrations, the CLI).
-- psql variables: auto_expose (true|false) mirrors [api] auto_expose_new_tables.

\set ON_ERROR_STOP on
set client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Roles (cluster-wide). End state of supabase/postgres after demote-postgres
-- and the 2023 INHERIT change.
-- ---------------------------------------------------------------------------
do $$
declare
  r record;
begin
  for r in
    select * from (values
      ('anon',                       'nologin noinherit'),
      ('authenticated',              'nologin noinherit'),
      ('service_role',               'nologin noinherit bypassrls'),
      ('authenticator',              'login noinherit'),
      ('postgres',                   'login'),
      ('supabase_auth_admin',        'login noinherit nocreaterole'),
      ('supabase_storage_admin',     'login noinherit createrole'),
      ('supabase_replication_admin', 'login replication'),
      ('supabase_read_only_user',    'login bypassrls'),
      ('dashboard_user',             'nologin createdb createrole replication')
    ) as t(name, attrs)
  loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r.name) then
      execute format('create role %I %s', r.name, r.attrs);
    end if;
  end loop;
end
$$;

-- postgres is NOT a superuser on Supabase: this is what catches migrations that
-- would only work for one.
alter role postgres with nosuperuser createdb createrole login replication bypassrls;
alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit bypassrls;
alter role authenticator noinherit;

-- Local passwords, as the CLI sets them.
alter role postgres password 'postgres';
alter role authenticator password 'postgres';
alter role supabase_admin password 'postgres';
alter role supabase_auth_admin password 'postgres';
alter role supabase_storage_admin password 'postgres';

grant anon, authenticated, service_role to postgres;
grant anon, authenticated, service_role to authenticator;
grant pg_read_all_data, pg_signal_backend to postgres;
grant pg_read_all_data to supabase_read_only_user;

alter role postgres set search_path = "$user", public, extensions;
alter role supabase_admin set search_path = "$user", public, auth, extensions;
alter role supabase_auth_admin set search_path = auth;
alter role supabase_storage_admin set search_path = storage;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';

-- ---------------------------------------------------------------------------
-- Database-level access for postgres (the role migrations run as).
-- ---------------------------------------------------------------------------
select format('grant all on database %I to postgres', current_database()) \gexec
grant all on schema public to postgres;
grant usage on schema public to anon, authenticated, service_role;

-- The API's exposed schemas, read by `supabase db advisors` (lints that check
-- exposure are silently empty without it) and by PostgREST's in-database config.
select format('alter database %I set pgrst.db_schemas = %L', current_database(), 'public, graphql_public') \gexec

-- ---------------------------------------------------------------------------
-- Schemas
-- ---------------------------------------------------------------------------
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant create on schema extensions to postgres;

create schema if not exists graphql_public;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;

-- pg_graphql is off by default since 2026-05; without it graphql_public.graphql
-- is a placeholder that answers with an errors object.
create or replace function graphql_public.graphql(
  "operationName" text default null,
  query text default null,
  variables jsonb default null,
  extensions jsonb default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  return jsonb_build_object('errors', jsonb_build_array(jsonb_build_object(
    'message', 'pg_graphql extension is not enabled.')));
end;
$$;
grant execute on function graphql_public.graphql(text, text, jsonb, jsonb) to postgres, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Extensions Supabase pre-installs, and those it lets postgres create. They are
-- created here by the superuser so that a migration's
-- `create extension if not exists ...` is a no-op, as supautils makes it.
-- ---------------------------------------------------------------------------
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pg_stat_statements with schema extensions;
create extension if not exists plpgsql_check with schema extensions;
-- PostGIS: Supabase offers it (a project enables it into `extensions`); the
-- local stack pre-creates it when the Debian package postgresql-15-postgis-3
-- is installed, so a migration's `create extension if not exists postgis with
-- schema extensions` is a no-op here as on a project where it is enabled.
select 'create extension if not exists postgis with schema extensions'
 where exists (select 1 from pg_catalog.pg_available_extensions where name = 'postgis') \gexec
-- Supabase creates pg_cron in pg_catalog (and only in the database named by
-- cron.database_name); its job tables live in schema cron.
select 'create extension if not exists pg_cron with schema pg_catalog'
 where current_database() = current_setting('cron.database_name', true) \gexec
select 'grant usage on schema cron to postgres' where exists (select 1 from pg_catalog.pg_namespace where nspname = 'cron') \gexec
select 'grant all privileges on all tables in schema cron to postgres' where exists (select 1 from pg_catalog.pg_namespace where nspname = 'cron') \gexec

-- ---------------------------------------------------------------------------
-- auth: the GoTrue schema apps rely on (auth.users and its helpers).
-- ---------------------------------------------------------------------------
create schema if not exists auth authorization supabase_admin;
grant usage on schema auth to postgres, anon, authenticated, service_role, dashboard_user;
grant all on schema auth to supabase_auth_admin;

create table if not exists auth.users (
  instance_id uuid,
  id uuid not null primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  confirmation_sent_at timestamptz,
  recovery_token varchar(255),
  recovery_sent_at timestamptz,
  email_change_token_new varchar(255),
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text unique default null,
  phone_confirmed_at timestamptz,
  phone_change text default '',
  phone_change_token varchar(255) default '',
  phone_change_sent_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current varchar(255) default '',
  email_change_confirm_status smallint default 0 check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
  banned_until timestamptz,
  reauthentication_token varchar(255) default '',
  reauthentication_sent_at timestamptz,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false
);
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
create index if not exists users_instance_id_idx on auth.users (instance_id);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';

create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz,
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid not null default gen_random_uuid() primary key,
  constraint identities_provider_id_provider_unique unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);

alter table auth.users owner to supabase_auth_admin;
alter table auth.identities owner to supabase_auth_admin;
alter table auth.users enable row level security;
alter table auth.identities enable row level security;
-- postgres may read auth tables and hang triggers on them (the documented
-- handle_new_user pattern); the API roles get nothing.
grant all on auth.users, auth.identities to postgres;
grant select on auth.users, auth.identities to postgres with grant option;
grant all on auth.users, auth.identities to dashboard_user;

-- GoTrue's current helpers: the JSON claims GUC first, then the legacy
-- per-claim GUC (an empty string counts as unset).
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() to postgres, anon, authenticated, service_role, dashboard_user;

-- ---------------------------------------------------------------------------
-- storage: the part of Supabase Storage's schema that projects write policies
-- against (supabase/postgres init-scripts/00000000000002-storage-schema.sql
-- plus the columns storage-api's own migrations add). The Storage API server
-- itself is not part of the local stack; tests act as it does, inserting into
-- storage.objects as the requesting user's role with their JWT claims.
-- ---------------------------------------------------------------------------
create schema if not exists storage authorization supabase_admin;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin;
grant all on schema storage to dashboard_user;

create table if not exists storage.buckets (
  id text not null primary key,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text
);
create unique index if not exists bname on storage.buckets (name);
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';

create table if not exists storage.objects (
  id uuid not null default gen_random_uuid() primary key,
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  owner_id text,
  user_metadata jsonb
);
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';

create or replace function storage.foldername(name text)
returns text[]
language plpgsql
immutable
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1 : array_length(_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text)
returns text
language plpgsql
immutable
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$$;

create or replace function storage.extension(name text)
returns text
language plpgsql
immutable
as $$
declare
  _parts text[];
  _filename text;
begin
  select string_to_array(name, '/') into _parts;
  select _parts[array_length(_parts, 1)] into _filename;
  return reverse(split_part(reverse(_filename), '.', 1));
end
$$;

alter table storage.buckets owner to supabase_storage_admin;
alter table storage.objects owner to supabase_storage_admin;
alter function storage.foldername(text) owner to supabase_storage_admin;
alter function storage.filename(text) owner to supabase_storage_admin;
alter function storage.extension(text) owner to supabase_storage_admin;
alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;
-- The storage schema's default privileges give the API roles everything on
-- its tables and functions; RLS decides. postgres and dashboard_user too.
grant all on storage.buckets, storage.objects to postgres, anon, authenticated, service_role, dashboard_user;
grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
  to postgres, anon, authenticated, service_role, dashboard_user;

-- On Supabase, `postgres` does not own the storage tables, yet migrations may
-- create, alter and drop policies on them: supautils' `policy_grants` lets it
-- (policy statements only; ALTER TABLE on them is refused). supautils is not
-- packaged for Debian, so locally postgres gets the owner's rights through
-- membership, and the event trigger below refuses every other DDL postgres
-- runs on storage objects with the error Supabase gives, so a migration that
-- would fail there (`alter table storage.objects enable row level security`)
-- fails here too.
grant supabase_storage_admin to postgres;

create or replace function storage.local_stack_policy_grants_only()
returns event_trigger
language plpgsql
as $$
declare
  v_cmd record;
begin
  if current_user in ('supabase_admin', 'supabase_storage_admin') then
    return;
  end if;
  for v_cmd in select * from pg_catalog.pg_event_trigger_ddl_commands() loop
    if v_cmd.schema_name = 'storage' and v_cmd.command_tag not in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY') then
      raise exception 'must be owner of % %', lower(v_cmd.object_type), v_cmd.object_identity
        using errcode = '42501';
    end if;
  end loop;
end
$$;
comment on function storage.local_stack_policy_grants_only() is
  'Local stack only: stands in for supautils policy_grants (postgres may manage policies on storage tables, nothing else).';
revoke execute on function storage.local_stack_policy_grants_only() from public;
select 'create event trigger local_stack_storage_policy_grants on ddl_command_end execute function storage.local_stack_policy_grants_only()'
 where not exists (select 1 from pg_catalog.pg_event_trigger where evtname = 'local_stack_storage_policy_grants') \gexec

-- ---------------------------------------------------------------------------
-- Realtime: the empty publication apps add their tables to.
-- ---------------------------------------------------------------------------
select 'create publication supabase_realtime'
 where not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') \gexec
-- postgres must own it to `alter publication ... add table` in a migration.
alter publication supabase_realtime owner to postgres;

-- ---------------------------------------------------------------------------
-- Default privileges on public. Legacy projects grant everything to the API
-- roles; projects created since 2026-05-30 (and all projects since 2026-10-30)
-- do not, so migrations must grant explicitly. [api] auto_expose_new_tables in
-- supabase/config.toml picks the mode, as it does for `supabase start`.
-- ---------------------------------------------------------------------------
alter default privileges for role postgres in schema public grant all on tables to postgres;
alter default privileges for role postgres in schema public grant all on sequences to postgres;
alter default privileges for role postgres in schema public grant all on functions to postgres;
\if :auto_expose
alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;
\else
alter default privileges for role postgres in schema public revoke select, insert, update, delete on tables from anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke usage, select on sequences from anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke execute on functions from anon, authenticated, service_role;
\endif
