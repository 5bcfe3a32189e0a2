-- The Supabase baseline: what a Supabase database already has before any
-- project migration runs. It belongs to the local tooling, never to
-- supabase/migrations. Run as the bootstrap superuser `supabase_admin`, once
-- per database (roles are per cluster and created only when missing), so a
-- second `npm start` can run it again safely.
--
-- Sources: ../shared/research/postgrest_supabase.md §1, and the repositories
-- named in each section: supabase/postgres (migrations/db/init-scripts,
-- migrations/db/migrations, ansible/files), supabase/auth (migrations/*.up.sql)
-- and supabase/storage (migrations/tenant/*.sql, up to 0060 = storage-api
-- v1.60). Every difference from a Supabase database that remains is listed in
-- docs/local-stack.md, "Differences from a Supabase database".
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
-- 20230327032006_grant_auth_roles_to_supabase_storage_admin,
-- 20231013070755_grant_authenticator_to_supabase_storage_admin: the Storage API
-- switches to the requesting role.
grant anon, authenticated, service_role, authenticator to supabase_storage_admin;
-- Supabase revoked postgres's membership in the auth and storage admin roles
-- (research §1.1): postgres reaches their tables through grants and, for
-- policies, through supautils' policy_grants (below). Revoked here too for a
-- cluster made by an older baseline.
revoke supabase_auth_admin, supabase_storage_admin from postgres;
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

-- pgrst.db_schemas is not a database setting on Supabase (PostgREST takes its
-- schemas from its environment), so a test cannot read it here either;
-- `supabase db advisors` sets it from [api] schemas in its own session.
-- Reset for a cluster made by an older baseline.
select format('alter database %I reset pgrst.db_schemas', current_database()) \gexec

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
-- Extensions a Supabase database already has (init-scripts/
-- 00000000000000-initial-schema.sql; pg_stat_statements from the image's
-- shared_preload_libraries and migrate.sh). Everything else is created by
-- the project's migrations as postgres: on Supabase supautils runs a
-- privileged extension's script as the superuser; locally those extensions
-- are marked trusted (local-stack/supautils.mjs), which does the same.
-- ---------------------------------------------------------------------------
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pg_stat_statements with schema extensions;

-- 20230224042246_grant_extensions_perms_for_postgres: postgres may use and
-- grant whatever the superuser puts in extensions (PostGIS included).
grant all privileges on all tables in schema extensions to postgres with grant option;
grant all privileges on all routines in schema extensions to postgres with grant option;
grant all privileges on all sequences in schema extensions to postgres with grant option;
alter default privileges in schema extensions grant all on tables to postgres with grant option;
alter default privileges in schema extensions grant all on routines to postgres with grant option;
alter default privileges in schema extensions grant all on sequences to postgres with grant option;

-- supautils creates a privileged extension as its superuser
-- (supautils.privileged_extensions_superuser = supabase_admin), so the
-- extension belongs to supabase_admin. A trusted extension belongs to the
-- user who created it, and that matters: pg_cron writes cron.job as the
-- extension's owner, which postgres may not. So when postgres creates one of
-- Supabase's privileged extensions whose script needs a superuser, the
-- extension is handed to supabase_admin (its objects already are). The list
-- is supautils.privileged_extensions of supabase/postgres
-- ansible/files/postgresql_config/supautils.conf.j2.
create or replace function extensions.local_stack_privileged_extension_owner()
returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ext record;
begin
  for v_ext in
    select e.oid, e.extname
    from pg_catalog.pg_event_trigger_ddl_commands() as c
    join pg_catalog.pg_extension as e on e.oid = c.objid
    join pg_catalog.pg_available_extension_versions as v on v.name = e.extname and v.version = e.extversion
    where c.classid = 'pg_catalog.pg_extension'::regclass
      and v.superuser
      and e.extowner <> 'supabase_admin'::regrole
      and e.extname = any (string_to_array(
        'address_standardizer, address_standardizer_data_us, autoinc, bloom, btree_gin, btree_gist, citext, cube, dblink, dict_int, dict_xsyn, earthdistance, fuzzystrmatch, hstore, http, hypopg, index_advisor, insert_username, intarray, isn, ltree, moddatetime, orioledb, pg_cron, pg_graphql, pg_hashids, pg_jsonschema, pg_net, pg_partman, pg_repack, pg_stat_monitor, pg_stat_statements, pg_tle, pg_trgm, pg_walinspect, pgaudit, pgcrypto, pgjwt, pg_prewarm, pgmq, pgroonga, pgroonga_database, pgrouting, pgrowlocks, pgstattuple, pgsodium, pgtap, plcoffee, pljava, plls, plpgsql, plpgsql_check, plv8, postgis, postgis_raster, postgis_sfcgal, postgis_tiger_geocoder, postgis_topology, postgres_fdw, refint, rum, seg, sslinfo, supabase_vault, supautils, tablefunc, tcn, timescaledb, tsm_system_rows, tsm_system_time, unaccent, uuid-ossp, vector, wrappers',
        ', '))
  loop
    -- There is no ALTER EXTENSION ... OWNER TO; the catalog row is the owner.
    -- The bootstrap superuser is pinned, so no shared dependency is kept.
    update pg_catalog.pg_extension set extowner = 'supabase_admin'::regrole where oid = v_ext.oid;
    delete from pg_catalog.pg_shdepend
     where classid = 'pg_catalog.pg_extension'::regclass and objid = v_ext.oid and deptype = 'o';
  end loop;
end;
$$;
revoke execute on function extensions.local_stack_privileged_extension_owner() from public;
select 'create event trigger local_stack_privileged_extension_owner on ddl_command_end when tag in (''CREATE EXTENSION'') execute function extensions.local_stack_privileged_extension_owner()'
 where not exists (select 1 from pg_catalog.pg_event_trigger where evtname = 'local_stack_privileged_extension_owner') \gexec

-- pg_cron's grants, applied when the extension is created: the event trigger
-- of 20231020085357_revoke_writes_on_cron_job_from_postgres.sql plus
-- ansible/files/postgresql_extension_custom_scripts/pg_cron/after-create.sql
-- (the supautils after-create script). postgres may read cron.job but not
-- write it (it schedules through cron.schedule()/unschedule()), and has all
-- privileges on the other cron tables. On Supabase both run as the superuser
-- supautils switched to; locally the statement's user is postgres, hence
-- security definer.
create or replace function extensions.grant_pg_cron_access()
returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (
    select
    from pg_catalog.pg_event_trigger_ddl_commands() as ev
    join pg_catalog.pg_extension as ext on ev.objid = ext.oid
    where ext.extname = 'pg_cron'
  ) then
    grant usage on schema cron to postgres with grant option;
    grant all on all functions in schema cron to postgres with grant option;

    alter default privileges in schema cron grant all on tables to postgres with grant option;
    alter default privileges in schema cron grant all on functions to postgres with grant option;
    alter default privileges in schema cron grant all on sequences to postgres with grant option;

    alter default privileges for user supabase_admin in schema cron grant all on sequences to postgres with grant option;
    alter default privileges for user supabase_admin in schema cron grant all on tables to postgres with grant option;
    alter default privileges for user supabase_admin in schema cron grant all on functions to postgres with grant option;

    grant all privileges on all tables in schema cron to postgres with grant option;
    revoke all on table cron.job from postgres;
    grant select on table cron.job to postgres with grant option;
  end if;
end;
$$;
comment on function extensions.grant_pg_cron_access() is 'Grants access to pg_cron';
revoke execute on function extensions.grant_pg_cron_access() from public;
select 'create event trigger issue_pg_cron_access on ddl_command_end when tag in (''CREATE EXTENSION'') execute function extensions.grant_pg_cron_access()'
 where not exists (select 1 from pg_catalog.pg_event_trigger where evtname = 'issue_pg_cron_access') \gexec

-- ---------------------------------------------------------------------------
-- supautils policy_grants. On Supabase postgres may create, alter and drop
-- policies on these tables it does not own (supautils.conf.j2
-- `supautils.policy_grants`), and nothing else on them. supautils does it by
-- running the policy statement with the owner's rights. Locally three event
-- triggers do the same around each policy statement postgres runs: make
-- postgres a member of the two owner roles for that statement only, refuse
-- the statement if its table is not one of these (42501, as PostgreSQL
-- words it), and take the membership back. A failed statement rolls the
-- membership back with it. Every other statement postgres runs on these
-- tables meets PostgreSQL's own ownership check.
-- ---------------------------------------------------------------------------
create or replace function extensions.local_stack_policy_grant_tables()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array[
    'auth.audit_log_entries', 'auth.identities', 'auth.refresh_tokens', 'auth.sessions', 'auth.users',
    'realtime.messages', 'storage.buckets', 'storage.migrations', 'storage.objects',
    'storage.s3_multipart_uploads', 'storage.s3_multipart_uploads_parts'
  ]
$$;

-- The role that ran the statement (a security definer function sees itself
-- as current_user; SET ROLE shows in the `role` setting).
create or replace function extensions.local_stack_statement_role()
returns name
language sql
stable
set search_path = ''
as $$
  select case when current_setting('role') = 'none' then session_user else current_setting('role')::name end
$$;

create or replace function extensions.local_stack_policy_grants_begin()
returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if extensions.local_stack_statement_role() = 'postgres'
     and not pg_catalog.pg_has_role('postgres', 'supabase_storage_admin', 'member') then
    grant supabase_auth_admin, supabase_storage_admin to postgres;
    perform pg_catalog.set_config('local_stack.policy_grant', 'on', true);
  end if;
end;
$$;

create or replace function extensions.local_stack_policy_grants_check()
returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_table regclass;
begin
  if pg_catalog.current_setting('local_stack.policy_grant', true) is distinct from 'on' then
    return;
  end if;
  if tg_event = 'sql_drop' then
    select pg_catalog.to_regclass(pg_catalog.quote_ident(d.address_names[1]) || '.' || pg_catalog.quote_ident(d.address_names[2]))
      into v_table
      from pg_catalog.pg_event_trigger_dropped_objects() as d
     where d.object_type = 'policy'
       and d.address_names[1] || '.' || d.address_names[2] <> all (extensions.local_stack_policy_grant_tables())
     limit 1;
  else
    select p.polrelid::regclass
      into v_table
      from pg_catalog.pg_event_trigger_ddl_commands() as c
      join pg_catalog.pg_policy as p on p.oid = c.objid
      join pg_catalog.pg_class as t on t.oid = p.polrelid
     where t.relowner in ('supabase_auth_admin'::regrole, 'supabase_storage_admin'::regrole)
       and t.relnamespace::regnamespace::text || '.' || t.relname <> all (extensions.local_stack_policy_grant_tables())
     limit 1;
  end if;
  if v_table is not null and (select c.relowner in ('supabase_auth_admin'::regrole, 'supabase_storage_admin'::regrole)
                                from pg_catalog.pg_class as c where c.oid = v_table) then
    raise exception 'must be owner of table %', (select c.relname from pg_catalog.pg_class as c where c.oid = v_table)
      using errcode = '42501';
  end if;
  if tg_event = 'ddl_command_end' then
    revoke supabase_auth_admin, supabase_storage_admin from postgres;
    perform pg_catalog.set_config('local_stack.policy_grant', 'off', true);
  end if;
end;
$$;

comment on function extensions.local_stack_policy_grants_begin() is
  'Local stack only: stands in for supautils policy_grants (postgres may manage policies on the listed auth and storage tables).';
revoke execute on function extensions.local_stack_policy_grants_begin(), extensions.local_stack_policy_grants_check() from public;
select 'create event trigger local_stack_policy_grants_begin on ddl_command_start when tag in (''CREATE POLICY'', ''ALTER POLICY'', ''DROP POLICY'') execute function extensions.local_stack_policy_grants_begin()'
 where not exists (select 1 from pg_catalog.pg_event_trigger where evtname = 'local_stack_policy_grants_begin') \gexec
select 'create event trigger local_stack_policy_grants_drop on sql_drop when tag in (''DROP POLICY'') execute function extensions.local_stack_policy_grants_check()'
 where not exists (select 1 from pg_catalog.pg_event_trigger where evtname = 'local_stack_policy_grants_drop') \gexec
select 'create event trigger local_stack_policy_grants_end on ddl_command_end when tag in (''CREATE POLICY'', ''ALTER POLICY'', ''DROP POLICY'') execute function extensions.local_stack_policy_grants_check()'
 where not exists (select 1 from pg_catalog.pg_event_trigger where evtname = 'local_stack_policy_grants_end') \gexec
-- The membership-based stand-in of an older baseline.
drop event trigger if exists local_stack_storage_policy_grants;
drop function if exists storage.local_stack_policy_grants_only();

-- ---------------------------------------------------------------------------
-- auth: the schema as supabase/postgres's init script
-- (00000000000001-auth-schema.sql, 20211115181400_update-auth-permissions.sql,
-- 20211124212715_update-auth-owner.sql) and then GoTrue's migrations
-- (supabase/auth migrations/*.up.sql, through
-- 20260625000000_add_custom_claims_allowlist) leave it: every table, type,
-- index, constraint and grant, owned by supabase_auth_admin. Created once;
-- a cluster made by an older baseline keeps its auth schema until
-- `npm run db:reset`.
-- ---------------------------------------------------------------------------
create schema if not exists auth authorization supabase_admin;
grant usage on schema auth to postgres, anon, authenticated, service_role, dashboard_user;
grant all on schema auth to supabase_auth_admin;
-- The admin-role revocation (research §1.1): postgres may not create in auth.
revoke create on schema auth from postgres;

select not exists (select 1 from pg_catalog.pg_class where oid = pg_catalog.to_regclass('auth.users')) as create_auth \gset
\if :create_auth
create type auth.aal_level as enum (
    'aal1',
    'aal2',
    'aal3'
);
alter type auth.aal_level owner to supabase_auth_admin;
create type auth.code_challenge_method as enum (
    's256',
    'plain'
);
alter type auth.code_challenge_method owner to supabase_auth_admin;
create type auth.factor_status as enum (
    'unverified',
    'verified'
);
alter type auth.factor_status owner to supabase_auth_admin;
create type auth.factor_type as enum (
    'totp',
    'webauthn',
    'phone'
);
alter type auth.factor_type owner to supabase_auth_admin;
create type auth.oauth_authorization_status as enum (
    'pending',
    'approved',
    'denied',
    'expired'
);
alter type auth.oauth_authorization_status owner to supabase_auth_admin;
create type auth.oauth_client_type as enum (
    'public',
    'confidential'
);
alter type auth.oauth_client_type owner to supabase_auth_admin;
create type auth.oauth_registration_type as enum (
    'dynamic',
    'manual'
);
alter type auth.oauth_registration_type owner to supabase_auth_admin;
create type auth.oauth_response_type as enum (
    'code'
);
alter type auth.oauth_response_type owner to supabase_auth_admin;
create type auth.one_time_token_type as enum (
    'confirmation_token',
    'reauthentication_token',
    'recovery_token',
    'email_change_token_new',
    'email_change_token_current',
    'phone_change_token'
);
alter type auth.one_time_token_type owner to supabase_auth_admin;
create table auth.audit_log_entries (
    instance_id uuid,
    id uuid not null,
    payload json,
    created_at timestamptz,
    ip_address varchar(64) default ''::varchar not null
);
alter table auth.audit_log_entries owner to supabase_auth_admin;
comment on table auth.audit_log_entries is 'Auth: Audit trail for user actions.';
create table auth.custom_oauth_providers (
    id uuid default gen_random_uuid() not null,
    provider_type text not null,
    identifier text not null,
    name text not null,
    client_id text not null,
    client_secret text not null,
    acceptable_client_ids text[] default '{}'::text[] not null,
    scopes text[] default '{}'::text[] not null,
    pkce_enabled boolean default true not null,
    attribute_mapping jsonb default '{}'::jsonb not null,
    authorization_params jsonb default '{}'::jsonb not null,
    enabled boolean default true not null,
    email_optional boolean default false not null,
    issuer text,
    discovery_url text,
    skip_nonce_check boolean default false not null,
    cached_discovery jsonb,
    discovery_cached_at timestamptz,
    authorization_url text,
    token_url text,
    userinfo_url text,
    jwks_uri text,
    created_at timestamptz default now() not null,
    updated_at timestamptz default now() not null,
    custom_claims_allowlist text[] default '{}'::text[] not null,
    constraint custom_oauth_providers_authorization_url_https check (((authorization_url is null) or (authorization_url ~~ 'https://%'::text))),
    constraint custom_oauth_providers_authorization_url_length check (((authorization_url is null) or (char_length(authorization_url) <= 2048))),
    constraint custom_oauth_providers_client_id_length check (((char_length(client_id) >= 1) and (char_length(client_id) <= 512))),
    constraint custom_oauth_providers_discovery_url_length check (((discovery_url is null) or (char_length(discovery_url) <= 2048))),
    constraint custom_oauth_providers_identifier_format check ((identifier ~ '^[a-z0-9][a-z0-9:-]{0,48}[a-z0-9]$'::text)),
    constraint custom_oauth_providers_issuer_length check (((issuer is null) or ((char_length(issuer) >= 1) and (char_length(issuer) <= 2048)))),
    constraint custom_oauth_providers_jwks_uri_https check (((jwks_uri is null) or (jwks_uri ~~ 'https://%'::text))),
    constraint custom_oauth_providers_jwks_uri_length check (((jwks_uri is null) or (char_length(jwks_uri) <= 2048))),
    constraint custom_oauth_providers_name_length check (((char_length(name) >= 1) and (char_length(name) <= 100))),
    constraint custom_oauth_providers_oauth2_requires_endpoints check (((provider_type <> 'oauth2'::text) or ((authorization_url is not null) and (token_url is not null) and (userinfo_url is not null)))),
    constraint custom_oauth_providers_oidc_discovery_url_https check (((provider_type <> 'oidc'::text) or (discovery_url is null) or (discovery_url ~~ 'https://%'::text))),
    constraint custom_oauth_providers_oidc_issuer_https check (((provider_type <> 'oidc'::text) or (issuer is null) or (issuer ~~ 'https://%'::text))),
    constraint custom_oauth_providers_oidc_requires_issuer check (((provider_type <> 'oidc'::text) or (issuer is not null))),
    constraint custom_oauth_providers_provider_type_check check ((provider_type = any (array['oauth2'::text, 'oidc'::text]))),
    constraint custom_oauth_providers_token_url_https check (((token_url is null) or (token_url ~~ 'https://%'::text))),
    constraint custom_oauth_providers_token_url_length check (((token_url is null) or (char_length(token_url) <= 2048))),
    constraint custom_oauth_providers_userinfo_url_https check (((userinfo_url is null) or (userinfo_url ~~ 'https://%'::text))),
    constraint custom_oauth_providers_userinfo_url_length check (((userinfo_url is null) or (char_length(userinfo_url) <= 2048)))
);
alter table auth.custom_oauth_providers owner to supabase_auth_admin;
create table auth.flow_state (
    id uuid not null,
    user_id uuid,
    auth_code text,
    code_challenge_method auth.code_challenge_method,
    code_challenge text,
    provider_type text not null,
    provider_access_token text,
    provider_refresh_token text,
    created_at timestamptz,
    updated_at timestamptz,
    authentication_method text not null,
    auth_code_issued_at timestamptz,
    invite_token text,
    referrer text,
    oauth_client_state_id uuid,
    linking_target_id uuid,
    email_optional boolean default false not null
);
alter table auth.flow_state owner to supabase_auth_admin;
comment on table auth.flow_state is 'Stores metadata for all OAuth/SSO login flows';
create table auth.identities (
    provider_id text not null,
    user_id uuid not null,
    identity_data jsonb not null,
    provider text not null,
    last_sign_in_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    email text generated always as (lower((identity_data ->> 'email'::text))) stored,
    id uuid default gen_random_uuid() not null
);
alter table auth.identities owner to supabase_auth_admin;
comment on table auth.identities is 'Auth: Stores identities associated to a user.';
comment on column auth.identities.email is 'Auth: Email is a generated column that references the optional email property in the identity_data';
create table auth.instances (
    id uuid not null,
    uuid uuid,
    raw_base_config text,
    created_at timestamptz,
    updated_at timestamptz
);
alter table auth.instances owner to supabase_auth_admin;
comment on table auth.instances is 'Auth: Manages users across multiple sites.';
create table auth.mfa_amr_claims (
    session_id uuid not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    authentication_method text not null,
    id uuid not null
);
alter table auth.mfa_amr_claims owner to supabase_auth_admin;
comment on table auth.mfa_amr_claims is 'auth: stores authenticator method reference claims for multi factor authentication';
create table auth.mfa_challenges (
    id uuid not null,
    factor_id uuid not null,
    created_at timestamptz not null,
    verified_at timestamptz,
    ip_address inet not null,
    otp_code text,
    web_authn_session_data jsonb
);
alter table auth.mfa_challenges owner to supabase_auth_admin;
comment on table auth.mfa_challenges is 'auth: stores metadata about challenge requests made';
create table auth.mfa_factors (
    id uuid not null,
    user_id uuid not null,
    friendly_name text,
    factor_type auth.factor_type not null,
    status auth.factor_status not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    secret text,
    phone text,
    last_challenged_at timestamptz,
    web_authn_credential jsonb,
    web_authn_aaguid uuid,
    last_webauthn_challenge_data jsonb
);
alter table auth.mfa_factors owner to supabase_auth_admin;
comment on table auth.mfa_factors is 'auth: stores metadata about factors';
comment on column auth.mfa_factors.last_webauthn_challenge_data is 'Stores the latest WebAuthn challenge data including attestation/assertion for customer verification';
create table auth.oauth_authorizations (
    id uuid not null,
    authorization_id text not null,
    client_id uuid not null,
    user_id uuid,
    redirect_uri text not null,
    scope text not null,
    state text,
    resource text,
    code_challenge text,
    code_challenge_method auth.code_challenge_method,
    response_type auth.oauth_response_type default 'code'::auth.oauth_response_type not null,
    status auth.oauth_authorization_status default 'pending'::auth.oauth_authorization_status not null,
    authorization_code text,
    created_at timestamptz default now() not null,
    expires_at timestamptz default (now() + '00:03:00'::interval) not null,
    approved_at timestamptz,
    nonce text,
    constraint oauth_authorizations_authorization_code_length check ((char_length(authorization_code) <= 255)),
    constraint oauth_authorizations_code_challenge_length check ((char_length(code_challenge) <= 128)),
    constraint oauth_authorizations_expires_at_future check ((expires_at > created_at)),
    constraint oauth_authorizations_nonce_length check ((char_length(nonce) <= 255)),
    constraint oauth_authorizations_redirect_uri_length check ((char_length(redirect_uri) <= 2048)),
    constraint oauth_authorizations_resource_length check ((char_length(resource) <= 2048)),
    constraint oauth_authorizations_scope_length check ((char_length(scope) <= 4096)),
    constraint oauth_authorizations_state_length check ((char_length(state) <= 4096))
);
alter table auth.oauth_authorizations owner to supabase_auth_admin;
create table auth.oauth_client_states (
    id uuid not null,
    provider_type text not null,
    code_verifier text,
    created_at timestamptz not null
);
alter table auth.oauth_client_states owner to supabase_auth_admin;
comment on table auth.oauth_client_states is 'Stores OAuth states for third-party provider authentication flows where Supabase acts as the OAuth client.';
create table auth.oauth_clients (
    id uuid not null,
    client_secret_hash text,
    registration_type auth.oauth_registration_type not null,
    redirect_uris text not null,
    grant_types text not null,
    client_name text,
    client_uri text,
    logo_uri text,
    created_at timestamptz default now() not null,
    updated_at timestamptz default now() not null,
    deleted_at timestamptz,
    client_type auth.oauth_client_type default 'confidential'::auth.oauth_client_type not null,
    token_endpoint_auth_method text not null,
    constraint oauth_clients_client_name_length check ((char_length(client_name) <= 1024)),
    constraint oauth_clients_client_uri_length check ((char_length(client_uri) <= 2048)),
    constraint oauth_clients_logo_uri_length check ((char_length(logo_uri) <= 2048)),
    constraint oauth_clients_token_endpoint_auth_method_check check ((token_endpoint_auth_method = any (array['client_secret_basic'::text, 'client_secret_post'::text, 'none'::text])))
);
alter table auth.oauth_clients owner to supabase_auth_admin;
create table auth.oauth_consents (
    id uuid not null,
    user_id uuid not null,
    client_id uuid not null,
    scopes text not null,
    granted_at timestamptz default now() not null,
    revoked_at timestamptz,
    constraint oauth_consents_revoked_after_granted check (((revoked_at is null) or (revoked_at >= granted_at))),
    constraint oauth_consents_scopes_length check ((char_length(scopes) <= 2048)),
    constraint oauth_consents_scopes_not_empty check ((char_length(trim(both from scopes)) > 0))
);
alter table auth.oauth_consents owner to supabase_auth_admin;
create table auth.one_time_tokens (
    id uuid not null,
    user_id uuid not null,
    token_type auth.one_time_token_type not null,
    token_hash text not null,
    relates_to text not null,
    created_at timestamp default now() not null,
    updated_at timestamp default now() not null,
    constraint one_time_tokens_token_hash_check check ((char_length(token_hash) > 0))
);
alter table auth.one_time_tokens owner to supabase_auth_admin;
create table auth.refresh_tokens (
    instance_id uuid,
    id bigint not null,
    token varchar(255),
    user_id varchar(255),
    revoked boolean,
    created_at timestamptz,
    updated_at timestamptz,
    parent varchar(255),
    session_id uuid
);
alter table auth.refresh_tokens owner to supabase_auth_admin;
comment on table auth.refresh_tokens is 'Auth: Store of tokens used to refresh JWT tokens once they expire.';
create sequence auth.refresh_tokens_id_seq
    start with 1
    increment by 1
    no minvalue
    no maxvalue
    cache 1;
alter table auth.refresh_tokens_id_seq owner to supabase_auth_admin;
alter sequence auth.refresh_tokens_id_seq owned by auth.refresh_tokens.id;
create table auth.saml_providers (
    id uuid not null,
    sso_provider_id uuid not null,
    entity_id text not null,
    metadata_xml text not null,
    metadata_url text,
    attribute_mapping jsonb,
    created_at timestamptz,
    updated_at timestamptz,
    name_id_format text,
    constraint "entity_id not empty" check ((char_length(entity_id) > 0)),
    constraint "metadata_url not empty" check (((metadata_url = null::text) or (char_length(metadata_url) > 0))),
    constraint "metadata_xml not empty" check ((char_length(metadata_xml) > 0))
);
alter table auth.saml_providers owner to supabase_auth_admin;
comment on table auth.saml_providers is 'Auth: Manages SAML Identity Provider connections.';
create table auth.saml_relay_states (
    id uuid not null,
    sso_provider_id uuid not null,
    request_id text not null,
    for_email text,
    redirect_to text,
    created_at timestamptz,
    updated_at timestamptz,
    flow_state_id uuid,
    constraint "request_id not empty" check ((char_length(request_id) > 0))
);
alter table auth.saml_relay_states owner to supabase_auth_admin;
comment on table auth.saml_relay_states is 'Auth: Contains SAML Relay State information for each Service Provider initiated login.';
create table auth.schema_migrations (
    version varchar(255) not null
);
alter table auth.schema_migrations owner to supabase_auth_admin;
comment on table auth.schema_migrations is 'Auth: Manages updates to the auth system.';
create table auth.sessions (
    id uuid not null,
    user_id uuid not null,
    created_at timestamptz,
    updated_at timestamptz,
    factor_id uuid,
    aal auth.aal_level,
    not_after timestamptz,
    refreshed_at timestamp,
    user_agent text,
    ip inet,
    tag text,
    oauth_client_id uuid,
    refresh_token_hmac_key text,
    refresh_token_counter bigint,
    scopes text,
    constraint sessions_scopes_length check ((char_length(scopes) <= 4096))
);
alter table auth.sessions owner to supabase_auth_admin;
comment on table auth.sessions is 'Auth: Stores session data associated to a user.';
comment on column auth.sessions.not_after is 'Auth: Not after is a nullable column that contains a timestamp after which the session should be regarded as expired.';
comment on column auth.sessions.refresh_token_hmac_key is 'Holds a HMAC-SHA256 key used to sign refresh tokens for this session.';
comment on column auth.sessions.refresh_token_counter is 'Holds the ID (counter) of the last issued refresh token.';
create table auth.sso_domains (
    id uuid not null,
    sso_provider_id uuid not null,
    domain text not null,
    created_at timestamptz,
    updated_at timestamptz,
    constraint "domain not empty" check ((char_length(domain) > 0))
);
alter table auth.sso_domains owner to supabase_auth_admin;
comment on table auth.sso_domains is 'Auth: Manages SSO email address domain mapping to an SSO Identity Provider.';
create table auth.sso_providers (
    id uuid not null,
    resource_id text,
    created_at timestamptz,
    updated_at timestamptz,
    disabled boolean,
    constraint "resource_id not empty" check (((resource_id = null::text) or (char_length(resource_id) > 0)))
);
alter table auth.sso_providers owner to supabase_auth_admin;
comment on table auth.sso_providers is 'Auth: Manages SSO identity provider information; see saml_providers for SAML.';
comment on column auth.sso_providers.resource_id is 'Auth: Uniquely identifies a SSO provider according to a user-chosen resource ID (case insensitive), useful in infrastructure as code.';
create table auth.users (
    instance_id uuid,
    id uuid not null,
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
    phone text default null::varchar,
    phone_confirmed_at timestamptz,
    phone_change text default ''::varchar,
    phone_change_token varchar(255) default ''::varchar,
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
    email_change_token_current varchar(255) default ''::varchar,
    email_change_confirm_status smallint default 0,
    banned_until timestamptz,
    reauthentication_token varchar(255) default ''::varchar,
    reauthentication_sent_at timestamptz,
    is_sso_user boolean default false not null,
    deleted_at timestamptz,
    is_anonymous boolean default false not null,
    constraint users_email_change_confirm_status_check check (((email_change_confirm_status >= 0) and (email_change_confirm_status <= 2)))
);
alter table auth.users owner to supabase_auth_admin;
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
comment on column auth.users.is_sso_user is 'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';
create table auth.webauthn_challenges (
    id uuid default gen_random_uuid() not null,
    user_id uuid,
    challenge_type text not null,
    session_data jsonb not null,
    created_at timestamptz default now() not null,
    expires_at timestamptz not null,
    constraint webauthn_challenges_challenge_type_check check ((challenge_type = any (array['signup'::text, 'registration'::text, 'authentication'::text])))
);
alter table auth.webauthn_challenges owner to supabase_auth_admin;
create table auth.webauthn_credentials (
    id uuid default gen_random_uuid() not null,
    user_id uuid not null,
    credential_id bytea not null,
    public_key bytea not null,
    attestation_type text default ''::text not null,
    aaguid uuid,
    sign_count bigint default 0 not null,
    transports jsonb default '[]'::jsonb not null,
    backup_eligible boolean default false not null,
    backed_up boolean default false not null,
    friendly_name text default ''::text not null,
    created_at timestamptz default now() not null,
    updated_at timestamptz default now() not null,
    last_used_at timestamptz
);
alter table auth.webauthn_credentials owner to supabase_auth_admin;
alter table auth.refresh_tokens alter column id set default nextval('auth.refresh_tokens_id_seq'::regclass);
alter table auth.mfa_amr_claims add constraint amr_id_pk primary key (id);
alter table auth.audit_log_entries add constraint audit_log_entries_pkey primary key (id);
alter table auth.custom_oauth_providers add constraint custom_oauth_providers_identifier_key unique (identifier);
alter table auth.custom_oauth_providers add constraint custom_oauth_providers_pkey primary key (id);
alter table auth.flow_state add constraint flow_state_pkey primary key (id);
alter table auth.identities add constraint identities_pkey primary key (id);
alter table auth.identities add constraint identities_provider_id_provider_unique unique (provider_id, provider);
alter table auth.instances add constraint instances_pkey primary key (id);
alter table auth.mfa_amr_claims add constraint mfa_amr_claims_session_id_authentication_method_pkey unique (session_id, authentication_method);
alter table auth.mfa_challenges add constraint mfa_challenges_pkey primary key (id);
alter table auth.mfa_factors add constraint mfa_factors_last_challenged_at_key unique (last_challenged_at);
alter table auth.mfa_factors add constraint mfa_factors_pkey primary key (id);
alter table auth.oauth_authorizations add constraint oauth_authorizations_authorization_code_key unique (authorization_code);
alter table auth.oauth_authorizations add constraint oauth_authorizations_authorization_id_key unique (authorization_id);
alter table auth.oauth_authorizations add constraint oauth_authorizations_pkey primary key (id);
alter table auth.oauth_client_states add constraint oauth_client_states_pkey primary key (id);
alter table auth.oauth_clients add constraint oauth_clients_pkey primary key (id);
alter table auth.oauth_consents add constraint oauth_consents_pkey primary key (id);
alter table auth.oauth_consents add constraint oauth_consents_user_client_unique unique (user_id, client_id);
alter table auth.one_time_tokens add constraint one_time_tokens_pkey primary key (id);
alter table auth.refresh_tokens add constraint refresh_tokens_pkey primary key (id);
alter table auth.refresh_tokens add constraint refresh_tokens_token_unique unique (token);
alter table auth.saml_providers add constraint saml_providers_entity_id_key unique (entity_id);
alter table auth.saml_providers add constraint saml_providers_pkey primary key (id);
alter table auth.saml_relay_states add constraint saml_relay_states_pkey primary key (id);
alter table auth.schema_migrations add constraint schema_migrations_pkey primary key (version);
alter table auth.sessions add constraint sessions_pkey primary key (id);
alter table auth.sso_domains add constraint sso_domains_pkey primary key (id);
alter table auth.sso_providers add constraint sso_providers_pkey primary key (id);
alter table auth.users add constraint users_phone_key unique (phone);
alter table auth.users add constraint users_pkey primary key (id);
alter table auth.webauthn_challenges add constraint webauthn_challenges_pkey primary key (id);
alter table auth.webauthn_credentials add constraint webauthn_credentials_pkey primary key (id);
create index audit_logs_instance_id_idx on auth.audit_log_entries using btree (instance_id);
create unique index confirmation_token_idx on auth.users using btree (confirmation_token) where ((confirmation_token)::text !~ '^[0-9 ]*$'::text);
create index custom_oauth_providers_created_at_idx on auth.custom_oauth_providers using btree (created_at);
create index custom_oauth_providers_enabled_idx on auth.custom_oauth_providers using btree (enabled);
create index custom_oauth_providers_identifier_idx on auth.custom_oauth_providers using btree (identifier);
create index custom_oauth_providers_provider_type_idx on auth.custom_oauth_providers using btree (provider_type);
create unique index email_change_token_current_idx on auth.users using btree (email_change_token_current) where ((email_change_token_current)::text !~ '^[0-9 ]*$'::text);
create unique index email_change_token_new_idx on auth.users using btree (email_change_token_new) where ((email_change_token_new)::text !~ '^[0-9 ]*$'::text);
create index factor_id_created_at_idx on auth.mfa_factors using btree (user_id, created_at);
create index flow_state_created_at_idx on auth.flow_state using btree (created_at desc);
create index identities_email_idx on auth.identities using btree (email text_pattern_ops);
comment on index auth.identities_email_idx is 'Auth: Ensures indexed queries on the email column';
create index identities_user_id_idx on auth.identities using btree (user_id);
create index idx_auth_code on auth.flow_state using btree (auth_code);
create index idx_oauth_client_states_created_at on auth.oauth_client_states using btree (created_at);
create index idx_user_id_auth_method on auth.flow_state using btree (user_id, authentication_method);
create index mfa_challenge_created_at_idx on auth.mfa_challenges using btree (created_at desc);
create unique index mfa_factors_user_friendly_name_unique on auth.mfa_factors using btree (friendly_name, user_id) where (trim(both from friendly_name) <> ''::text);
create index mfa_factors_user_id_idx on auth.mfa_factors using btree (user_id);
create index oauth_auth_pending_exp_idx on auth.oauth_authorizations using btree (expires_at) where (status = 'pending'::auth.oauth_authorization_status);
create index oauth_clients_deleted_at_idx on auth.oauth_clients using btree (deleted_at);
create index oauth_consents_active_client_idx on auth.oauth_consents using btree (client_id) where (revoked_at is null);
create index oauth_consents_active_user_client_idx on auth.oauth_consents using btree (user_id, client_id) where (revoked_at is null);
create index oauth_consents_user_order_idx on auth.oauth_consents using btree (user_id, granted_at desc);
create index one_time_tokens_relates_to_hash_idx on auth.one_time_tokens using hash (relates_to);
create index one_time_tokens_token_hash_hash_idx on auth.one_time_tokens using hash (token_hash);
create unique index one_time_tokens_user_id_token_type_key on auth.one_time_tokens using btree (user_id, token_type);
create unique index reauthentication_token_idx on auth.users using btree (reauthentication_token) where ((reauthentication_token)::text !~ '^[0-9 ]*$'::text);
create unique index recovery_token_idx on auth.users using btree (recovery_token) where ((recovery_token)::text !~ '^[0-9 ]*$'::text);
create index refresh_tokens_instance_id_idx on auth.refresh_tokens using btree (instance_id);
create index refresh_tokens_instance_id_user_id_idx on auth.refresh_tokens using btree (instance_id, user_id);
create index refresh_tokens_parent_idx on auth.refresh_tokens using btree (parent);
create index refresh_tokens_session_id_revoked_idx on auth.refresh_tokens using btree (session_id, revoked);
create index refresh_tokens_updated_at_idx on auth.refresh_tokens using btree (updated_at desc);
create index saml_providers_sso_provider_id_idx on auth.saml_providers using btree (sso_provider_id);
create index saml_relay_states_created_at_idx on auth.saml_relay_states using btree (created_at desc);
create index saml_relay_states_for_email_idx on auth.saml_relay_states using btree (for_email);
create index saml_relay_states_sso_provider_id_idx on auth.saml_relay_states using btree (sso_provider_id);
create index sessions_not_after_idx on auth.sessions using btree (not_after desc);
create index sessions_oauth_client_id_idx on auth.sessions using btree (oauth_client_id);
create index sessions_user_id_idx on auth.sessions using btree (user_id);
create unique index sso_domains_domain_idx on auth.sso_domains using btree (lower(domain));
create index sso_domains_sso_provider_id_idx on auth.sso_domains using btree (sso_provider_id);
create unique index sso_providers_resource_id_idx on auth.sso_providers using btree (lower(resource_id));
create index sso_providers_resource_id_pattern_idx on auth.sso_providers using btree (resource_id text_pattern_ops);
create unique index unique_phone_factor_per_user on auth.mfa_factors using btree (user_id, phone);
create index user_id_created_at_idx on auth.sessions using btree (user_id, created_at);
create unique index users_email_partial_key on auth.users using btree (email) where (is_sso_user = false);
comment on index auth.users_email_partial_key is 'Auth: A partial unique index that applies only when is_sso_user is false';
create index users_instance_id_email_idx on auth.users using btree (instance_id, lower((email)::text));
create index users_instance_id_idx on auth.users using btree (instance_id);
create index users_is_anonymous_idx on auth.users using btree (is_anonymous);
create index webauthn_challenges_expires_at_idx on auth.webauthn_challenges using btree (expires_at);
create index webauthn_challenges_user_id_idx on auth.webauthn_challenges using btree (user_id);
create unique index webauthn_credentials_credential_id_key on auth.webauthn_credentials using btree (credential_id);
create index webauthn_credentials_user_id_idx on auth.webauthn_credentials using btree (user_id);
alter table auth.identities add constraint identities_user_id_fkey foreign key (user_id) references auth.users(id) on delete cascade;
alter table auth.mfa_amr_claims add constraint mfa_amr_claims_session_id_fkey foreign key (session_id) references auth.sessions(id) on delete cascade;
alter table auth.mfa_challenges add constraint mfa_challenges_auth_factor_id_fkey foreign key (factor_id) references auth.mfa_factors(id) on delete cascade;
alter table auth.mfa_factors add constraint mfa_factors_user_id_fkey foreign key (user_id) references auth.users(id) on delete cascade;
alter table auth.oauth_authorizations add constraint oauth_authorizations_client_id_fkey foreign key (client_id) references auth.oauth_clients(id) on delete cascade;
alter table auth.oauth_authorizations add constraint oauth_authorizations_user_id_fkey foreign key (user_id) references auth.users(id) on delete cascade;
alter table auth.oauth_consents add constraint oauth_consents_client_id_fkey foreign key (client_id) references auth.oauth_clients(id) on delete cascade;
alter table auth.oauth_consents add constraint oauth_consents_user_id_fkey foreign key (user_id) references auth.users(id) on delete cascade;
alter table auth.one_time_tokens add constraint one_time_tokens_user_id_fkey foreign key (user_id) references auth.users(id) on delete cascade;
alter table auth.refresh_tokens add constraint refresh_tokens_session_id_fkey foreign key (session_id) references auth.sessions(id) on delete cascade;
alter table auth.saml_providers add constraint saml_providers_sso_provider_id_fkey foreign key (sso_provider_id) references auth.sso_providers(id) on delete cascade;
alter table auth.saml_relay_states add constraint saml_relay_states_flow_state_id_fkey foreign key (flow_state_id) references auth.flow_state(id) on delete cascade;
alter table auth.saml_relay_states add constraint saml_relay_states_sso_provider_id_fkey foreign key (sso_provider_id) references auth.sso_providers(id) on delete cascade;
alter table auth.sessions add constraint sessions_oauth_client_id_fkey foreign key (oauth_client_id) references auth.oauth_clients(id) on delete cascade;
alter table auth.sessions add constraint sessions_user_id_fkey foreign key (user_id) references auth.users(id) on delete cascade;
alter table auth.sso_domains add constraint sso_domains_sso_provider_id_fkey foreign key (sso_provider_id) references auth.sso_providers(id) on delete cascade;
alter table auth.webauthn_challenges add constraint webauthn_challenges_user_id_fkey foreign key (user_id) references auth.users(id) on delete cascade;
alter table auth.webauthn_credentials add constraint webauthn_credentials_user_id_fkey foreign key (user_id) references auth.users(id) on delete cascade;
alter table auth.audit_log_entries enable row level security;
alter table auth.flow_state enable row level security;
alter table auth.identities enable row level security;
alter table auth.instances enable row level security;
alter table auth.mfa_amr_claims enable row level security;
alter table auth.mfa_challenges enable row level security;
alter table auth.mfa_factors enable row level security;
alter table auth.one_time_tokens enable row level security;
alter table auth.refresh_tokens enable row level security;
alter table auth.saml_providers enable row level security;
alter table auth.saml_relay_states enable row level security;
alter table auth.schema_migrations enable row level security;
alter table auth.sessions enable row level security;
alter table auth.sso_domains enable row level security;
alter table auth.sso_providers enable row level security;
alter table auth.users enable row level security;
grant usage on schema auth to anon;
grant usage on schema auth to authenticated;
grant usage on schema auth to service_role;
grant all on schema auth to supabase_auth_admin;
grant usage on schema auth to postgres;
grant insert,references,delete,trigger,truncate,update on table auth.audit_log_entries to postgres;
grant select on table auth.audit_log_entries to postgres with grant option;
grant all on table auth.audit_log_entries to dashboard_user;
grant all on table auth.custom_oauth_providers to postgres;
grant all on table auth.custom_oauth_providers to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.flow_state to postgres;
grant select on table auth.flow_state to postgres with grant option;
grant all on table auth.flow_state to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.identities to postgres;
grant select on table auth.identities to postgres with grant option;
grant all on table auth.identities to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.instances to postgres;
grant select on table auth.instances to postgres with grant option;
grant all on table auth.instances to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.mfa_amr_claims to postgres;
grant select on table auth.mfa_amr_claims to postgres with grant option;
grant all on table auth.mfa_amr_claims to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.mfa_challenges to postgres;
grant select on table auth.mfa_challenges to postgres with grant option;
grant all on table auth.mfa_challenges to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.mfa_factors to postgres;
grant select on table auth.mfa_factors to postgres with grant option;
grant all on table auth.mfa_factors to dashboard_user;
grant all on table auth.oauth_authorizations to postgres;
grant all on table auth.oauth_authorizations to dashboard_user;
grant all on table auth.oauth_client_states to postgres;
grant all on table auth.oauth_client_states to dashboard_user;
grant all on table auth.oauth_clients to postgres;
grant all on table auth.oauth_clients to dashboard_user;
grant all on table auth.oauth_consents to postgres;
grant all on table auth.oauth_consents to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.one_time_tokens to postgres;
grant select on table auth.one_time_tokens to postgres with grant option;
grant all on table auth.one_time_tokens to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.refresh_tokens to postgres;
grant select on table auth.refresh_tokens to postgres with grant option;
grant all on table auth.refresh_tokens to dashboard_user;
grant all on sequence auth.refresh_tokens_id_seq to postgres;
grant all on sequence auth.refresh_tokens_id_seq to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.saml_providers to postgres;
grant select on table auth.saml_providers to postgres with grant option;
grant all on table auth.saml_providers to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.saml_relay_states to postgres;
grant select on table auth.saml_relay_states to postgres with grant option;
grant all on table auth.saml_relay_states to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.sessions to postgres;
grant select on table auth.sessions to postgres with grant option;
grant all on table auth.sessions to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.sso_domains to postgres;
grant select on table auth.sso_domains to postgres with grant option;
grant all on table auth.sso_domains to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.sso_providers to postgres;
grant select on table auth.sso_providers to postgres with grant option;
grant all on table auth.sso_providers to dashboard_user;
grant insert,references,delete,trigger,truncate,update on table auth.users to postgres;
grant select on table auth.users to postgres with grant option;
grant all on table auth.users to dashboard_user;
grant all on table auth.webauthn_challenges to postgres;
grant all on table auth.webauthn_challenges to dashboard_user;
grant all on table auth.webauthn_credentials to postgres;
grant all on table auth.webauthn_credentials to dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth grant all on sequences to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on sequences to dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth grant all on functions to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on functions to dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth grant all on tables to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on tables to dashboard_user;

-- GoTrue records its migrations here (the image's init script pre-seeds the
-- first seven; GoTrue adds one row per migration file).
insert into auth.schema_migrations (version) values
  ('20171026211738'), ('20171026211808'), ('20171026211834'), ('20180103212743'), ('20180108183307'), ('20180119214651'),
  ('20180125194653'),
  ('20210710035447'), ('20210722035447'), ('20210730183235'), ('20210909172000'), ('20210927181326'), ('20211122151130'),
  ('20211124214934'), ('20211202183645'), ('20220114185221'), ('20220114185340'), ('20220224000811'), ('20220323170000'),
  ('20220429102000'), ('20220531120530'), ('20220614074223'), ('20220811173540'), ('20221003041349'), ('20221003041400'),
  ('20221011041400'), ('20221020193600'), ('20221021073300'), ('20221021082433'), ('20221027105023'), ('20221114143122'),
  ('20221114143410'), ('20221125140132'), ('20221208132122'), ('20221215195500'), ('20221215195800'), ('20221215195900'),
  ('20230116124310'), ('20230116124412'), ('20230131181311'), ('20230322519590'), ('20230402418590'), ('20230411005111'),
  ('20230508135423'), ('20230523124323'), ('20230818113222'), ('20230914180801'), ('20231027141322'), ('20231114161723'),
  ('20231117164230'), ('20240115144230'), ('20240214120130'), ('20240306115329'), ('20240314092811'), ('20240427152123'),
  ('20240612123726'), ('20240729123726'), ('20240802193726'), ('20240806073726'), ('20241009103726'), ('20250717082212'),
  ('20250731150234'), ('20250804100000'), ('20250901200500'), ('20250903112500'), ('20250904133000'), ('20250925093508'),
  ('20251007112900'), ('20251104100000'), ('20251111201300'), ('20251201000000'), ('20260115000000'), ('20260121000000'),
  ('20260219120000'), ('20260302000000'), ('20260625000000')
on conflict do nothing;
\endif

-- GoTrue's helpers (20220224000811_update_auth_functions,
-- 20220531120530_add_auth_jwt_function): the legacy per-claim GUC first, then
-- request.jwt.claims; an empty string counts as unset. Owned by
-- supabase_auth_admin, executable by everyone (PUBLIC).
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
-- 20211115181400_update-auth-permissions: all routines in auth to postgres and dashboard_user.
grant all on function auth.uid(), auth.role(), auth.email(), auth.jwt() to postgres, dashboard_user;

-- ---------------------------------------------------------------------------
-- storage: the schema as supabase/postgres's init script
-- (00000000000002-storage-schema.sql) and then storage-api's migrations
-- (supabase/storage migrations/tenant/0001 … 0060, storage-api v1.60, run as
-- supabase_storage_admin) leave it: every table, type, index, constraint,
-- trigger and grant, and the functions policies and triggers use. The Storage
-- API's listing functions are left out (docs/local-stack.md, Differences).
-- The Storage API server is not part of the local stack; tests act as it
-- does: they query storage.objects as the requesting role with its JWT claims
-- and, for a delete, set storage.allow_delete_query as it does.
-- ---------------------------------------------------------------------------
create schema if not exists storage authorization supabase_admin;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin;
grant all on schema storage to dashboard_user;
-- The admin-role revocation (research §1.1): postgres may not create in storage.
revoke create on schema storage from postgres;

select not exists (select 1 from pg_catalog.pg_class where oid = pg_catalog.to_regclass('storage.objects')) as create_storage \gset
\if :create_storage
-- Path helpers for policies (0002-storage-schema, 0036-optimise-existing-
-- functions, 0060-optimize-existing-functions-again): foldername and
-- extension are immutable; filename is still volatile in v1.60 (0061 marks
-- it immutable).
create function storage.foldername(name text)
returns text[]
language plpgsql
immutable
as $$
declare
  _parts text[];
begin
  _parts := string_to_array(name, '/');
  return _parts[1 : array_length(_parts, 1) - 1];
end
$$;

create function storage.filename(name text)
returns text
language plpgsql
as $$
declare
  _parts text[];
begin
  _parts := string_to_array(name, '/');
  return _parts[array_length(_parts, 1)];
end
$$;

create function storage.extension(name text)
returns text
language plpgsql
immutable
as $$
declare
  _parts text[];
begin
  _parts := string_to_array(name, '/');
  return reverse(split_part(reverse(_parts[array_length(_parts, 1)]), '.', 1));
end
$$;

-- 0055-prevent-direct-deletes: a DELETE on buckets or objects fails unless the
-- Storage API (which also removes the files) set storage.allow_delete_query.
create function storage.protect_delete()
returns trigger
language plpgsql
as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') != 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using hint = 'This prevents accidental data loss from orphaned objects.',
            errcode = '42501';
  end if;
  return null;
end;
$$;

-- 0037-add-bucket-name-length-trigger.
create function storage.enforce_bucket_name_length()
returns trigger
language plpgsql
as $$
begin
  if length(new.name) > 100 then
    raise exception 'bucket name "%" is too long (% characters). Max is 100.', new.name, length(new.name);
  end if;
  return new;
end;
$$;

-- 0011-add-trigger-to-auto-update-updated_at-column.
create function storage.update_updated_at_column()
returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

-- 0015-add-can-insert-object-function: the Storage API's RLS probe (insert,
-- then roll back with PT200).
create function storage.can_insert_object(bucketid text, name text, owner uuid, metadata jsonb)
returns void
language plpgsql
as $$
begin
  insert into storage.objects (bucket_id, name, owner, metadata) values (bucketid, name, owner, metadata);
  raise sqlstate 'PT200' using message = 'ROLLBACK', detail = 'rollback successful insert';
end
$$;

-- 0024-operation-function, 0058-operation-ergonomics: the operation the
-- Storage API sets in storage.operation, for policies.
create function storage.operation()
returns text
language plpgsql
stable
as $$
begin
  return current_setting('storage.operation', true);
end;
$$;

create function storage.allow_only_operation(expected_operation text)
returns boolean
language sql
stable
as $$
  select case
    when nullif(regexp_replace(expected_operation, '^storage\.', ''), '') is null then false
    else coalesce(
      regexp_replace(storage.operation(), '^storage\.', '') = regexp_replace(expected_operation, '^storage\.', ''),
      false)
  end
$$;

create function storage.allow_any_operation(expected_operations text[])
returns boolean
language sql
stable
as $$
  select exists (
    select 1
    from unnest(expected_operations) as e(op)
    where e.op is not null
      and e.op <> ''
      and regexp_replace(storage.operation(), '^storage\.', '') = regexp_replace(e.op, '^storage\.', '')
  )
$$;

-- 0005-add-size-functions, 0006-change-column-name-in-get-size.
create function storage.get_size_by_bucket()
returns table (size bigint, bucket_id text)
language plpgsql
stable
as $$
begin
  return query
    select sum((o.metadata ->> 'size')::bigint)::bigint as size, o.bucket_id
    from storage.objects as o
    group by o.bucket_id;
end
$$;

create type storage.buckettype as enum (
    'STANDARD',
    'ANALYTICS',
    'VECTOR'
);
alter type storage.buckettype owner to supabase_storage_admin;
alter function storage.allow_any_operation(expected_operations text[]) owner to supabase_storage_admin;
alter function storage.allow_only_operation(expected_operation text) owner to supabase_storage_admin;
alter function storage.can_insert_object(bucketid text, name text, owner uuid, metadata jsonb) owner to supabase_storage_admin;
alter function storage.enforce_bucket_name_length() owner to supabase_storage_admin;
alter function storage.extension(name text) owner to supabase_storage_admin;
alter function storage.filename(name text) owner to supabase_storage_admin;
alter function storage.foldername(name text) owner to supabase_storage_admin;
alter function storage.get_size_by_bucket() owner to supabase_storage_admin;
alter function storage.operation() owner to supabase_storage_admin;
alter function storage.protect_delete() owner to supabase_storage_admin;
alter function storage.update_updated_at_column() owner to supabase_storage_admin;
create table storage.buckets (
    id text not null,
    name text not null,
    owner uuid,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    public boolean default false,
    avif_autodetection boolean default false,
    file_size_limit bigint,
    allowed_mime_types text[],
    owner_id text,
    type storage.buckettype default 'STANDARD'::storage.buckettype not null
);
alter table storage.buckets owner to supabase_storage_admin;
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';
create table storage.buckets_analytics (
    name text not null,
    type storage.buckettype default 'ANALYTICS'::storage.buckettype not null,
    format text default 'ICEBERG'::text not null,
    created_at timestamptz default now() not null,
    updated_at timestamptz default now() not null,
    id uuid default gen_random_uuid() not null,
    deleted_at timestamptz
);
alter table storage.buckets_analytics owner to supabase_storage_admin;
create table storage.buckets_vectors (
    id text not null,
    type storage.buckettype default 'VECTOR'::storage.buckettype not null,
    created_at timestamptz default now() not null,
    updated_at timestamptz default now() not null
);
alter table storage.buckets_vectors owner to supabase_storage_admin;
create table storage.iceberg_namespaces (
    id uuid default gen_random_uuid() not null,
    bucket_name text not null,
    name text not null collate pg_catalog."C",
    created_at timestamptz default now() not null,
    updated_at timestamptz default now() not null,
    metadata jsonb default '{}'::jsonb not null,
    catalog_id uuid not null
);
alter table storage.iceberg_namespaces owner to supabase_storage_admin;
create table storage.iceberg_tables (
    id uuid default gen_random_uuid() not null,
    namespace_id uuid not null,
    bucket_name text not null,
    name text not null collate pg_catalog."C",
    location text not null,
    created_at timestamptz default now() not null,
    updated_at timestamptz default now() not null,
    remote_table_id text,
    shard_key text,
    shard_id text,
    catalog_id uuid not null
);
alter table storage.iceberg_tables owner to supabase_storage_admin;
create table storage.migrations (
    id integer not null,
    name varchar(100) not null,
    hash varchar(40) not null,
    executed_at timestamp default current_timestamp
);
alter table storage.migrations owner to supabase_storage_admin;
create table storage.objects (
    id uuid default gen_random_uuid() not null,
    bucket_id text,
    name text,
    owner uuid,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    last_accessed_at timestamptz default now(),
    metadata jsonb,
    path_tokens text[] generated always as (string_to_array(name, '/'::text)) stored,
    version text,
    owner_id text,
    user_metadata jsonb
);
alter table storage.objects owner to supabase_storage_admin;
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';
create table storage.s3_multipart_uploads (
    id text not null,
    in_progress_size bigint default 0 not null,
    upload_signature text not null,
    bucket_id text not null,
    key text not null collate pg_catalog."C",
    version text not null,
    owner_id text,
    created_at timestamptz default now() not null,
    user_metadata jsonb,
    metadata jsonb
);
alter table storage.s3_multipart_uploads owner to supabase_storage_admin;
create table storage.s3_multipart_uploads_parts (
    id uuid default gen_random_uuid() not null,
    upload_id text not null,
    size bigint default 0 not null,
    part_number integer not null,
    bucket_id text not null,
    key text not null collate pg_catalog."C",
    etag text not null,
    owner_id text,
    version text not null,
    created_at timestamptz default now() not null
);
alter table storage.s3_multipart_uploads_parts owner to supabase_storage_admin;
create table storage.vector_indexes (
    id text default gen_random_uuid() not null,
    name text not null collate pg_catalog."C",
    bucket_id text not null,
    data_type text not null,
    dimension integer not null,
    distance_metric text not null,
    metadata_configuration jsonb,
    created_at timestamptz default now() not null,
    updated_at timestamptz default now() not null
);
alter table storage.vector_indexes owner to supabase_storage_admin;
alter table storage.buckets_analytics add constraint buckets_analytics_pkey primary key (id);
alter table storage.buckets add constraint buckets_pkey primary key (id);
alter table storage.buckets_vectors add constraint buckets_vectors_pkey primary key (id);
alter table storage.iceberg_namespaces add constraint iceberg_namespaces_pkey primary key (id);
alter table storage.iceberg_tables add constraint iceberg_tables_pkey primary key (id);
alter table storage.migrations add constraint migrations_name_key unique (name);
alter table storage.migrations add constraint migrations_pkey primary key (id);
alter table storage.objects add constraint objects_pkey primary key (id);
alter table storage.s3_multipart_uploads_parts add constraint s3_multipart_uploads_parts_pkey primary key (id);
alter table storage.s3_multipart_uploads add constraint s3_multipart_uploads_pkey primary key (id);
alter table storage.vector_indexes add constraint vector_indexes_pkey primary key (id);
create unique index bname on storage.buckets using btree (name);
create unique index bucketid_objname on storage.objects using btree (bucket_id, name);
create unique index buckets_analytics_unique_name_idx on storage.buckets_analytics using btree (name) where (deleted_at is null);
create unique index idx_iceberg_namespaces_bucket_id on storage.iceberg_namespaces using btree (catalog_id, name);
create unique index idx_iceberg_tables_location on storage.iceberg_tables using btree (location);
create unique index idx_iceberg_tables_namespace_id on storage.iceberg_tables using btree (catalog_id, namespace_id, name);
create index idx_multipart_uploads_list on storage.s3_multipart_uploads using btree (bucket_id, key, created_at);
create index idx_objects_bucket_id_name on storage.objects using btree (bucket_id, name collate "C");
create index idx_objects_bucket_id_name_lower on storage.objects using btree (bucket_id, lower(name) collate "C");
create index name_prefix_search on storage.objects using btree (name text_pattern_ops);
create unique index vector_indexes_name_bucket_id_idx on storage.vector_indexes using btree (name, bucket_id);
create trigger enforce_bucket_name_length_trigger before insert or update of name on storage.buckets for each row execute function storage.enforce_bucket_name_length();
create trigger protect_buckets_delete before delete on storage.buckets for each statement execute function storage.protect_delete();
create trigger protect_objects_delete before delete on storage.objects for each statement execute function storage.protect_delete();
create trigger update_objects_updated_at before update on storage.objects for each row execute function storage.update_updated_at_column();
alter table storage.iceberg_namespaces add constraint iceberg_namespaces_catalog_id_fkey foreign key (catalog_id) references storage.buckets_analytics(id) on delete cascade;
alter table storage.iceberg_tables add constraint iceberg_tables_catalog_id_fkey foreign key (catalog_id) references storage.buckets_analytics(id) on delete cascade;
alter table storage.iceberg_tables add constraint iceberg_tables_namespace_id_fkey foreign key (namespace_id) references storage.iceberg_namespaces(id) on delete cascade;
alter table storage.objects add constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets(id);
alter table storage.s3_multipart_uploads add constraint s3_multipart_uploads_bucket_id_fkey foreign key (bucket_id) references storage.buckets(id);
alter table storage.s3_multipart_uploads_parts add constraint s3_multipart_uploads_parts_bucket_id_fkey foreign key (bucket_id) references storage.buckets(id);
alter table storage.s3_multipart_uploads_parts add constraint s3_multipart_uploads_parts_upload_id_fkey foreign key (upload_id) references storage.s3_multipart_uploads(id) on delete cascade;
alter table storage.vector_indexes add constraint vector_indexes_bucket_id_fkey foreign key (bucket_id) references storage.buckets_vectors(id);
alter table storage.buckets enable row level security;
alter table storage.buckets_analytics enable row level security;
alter table storage.buckets_vectors enable row level security;
alter table storage.iceberg_namespaces enable row level security;
alter table storage.iceberg_tables enable row level security;
alter table storage.migrations enable row level security;
alter table storage.objects enable row level security;
alter table storage.s3_multipart_uploads enable row level security;
alter table storage.s3_multipart_uploads_parts enable row level security;
alter table storage.vector_indexes enable row level security;
grant usage on schema storage to postgres;
grant usage on schema storage to anon;
grant usage on schema storage to authenticated;
grant usage on schema storage to service_role;
grant all on schema storage to supabase_storage_admin;
grant all on function storage.extension(name text) to anon;
grant all on function storage.extension(name text) to authenticated;
grant all on function storage.extension(name text) to service_role;
grant all on function storage.extension(name text) to postgres;
grant all on function storage.filename(name text) to anon;
grant all on function storage.filename(name text) to authenticated;
grant all on function storage.filename(name text) to service_role;
grant all on function storage.filename(name text) to postgres;
grant all on function storage.foldername(name text) to anon;
grant all on function storage.foldername(name text) to authenticated;
grant all on function storage.foldername(name text) to service_role;
grant all on function storage.foldername(name text) to postgres;
grant all on table storage.buckets to anon;
grant all on table storage.buckets to authenticated;
grant all on table storage.buckets to service_role;
grant all on table storage.buckets to postgres with grant option;
grant all on table storage.buckets_analytics to service_role;
grant all on table storage.buckets_analytics to authenticated;
grant all on table storage.buckets_analytics to anon;
grant select on table storage.buckets_vectors to service_role;
grant select on table storage.buckets_vectors to authenticated;
grant select on table storage.buckets_vectors to anon;
grant all on table storage.iceberg_namespaces to service_role;
grant select on table storage.iceberg_namespaces to authenticated;
grant select on table storage.iceberg_namespaces to anon;
grant all on table storage.iceberg_tables to service_role;
grant select on table storage.iceberg_tables to authenticated;
grant select on table storage.iceberg_tables to anon;
grant all on table storage.objects to anon;
grant all on table storage.objects to authenticated;
grant all on table storage.objects to service_role;
grant all on table storage.objects to postgres with grant option;
grant all on table storage.s3_multipart_uploads to service_role;
grant select on table storage.s3_multipart_uploads to authenticated;
grant select on table storage.s3_multipart_uploads to anon;
grant all on table storage.s3_multipart_uploads_parts to service_role;
grant select on table storage.s3_multipart_uploads_parts to authenticated;
grant select on table storage.s3_multipart_uploads_parts to anon;
grant select on table storage.vector_indexes to service_role;
grant select on table storage.vector_indexes to authenticated;
grant select on table storage.vector_indexes to anon;
alter default privileges for role supabase_admin in schema storage grant all on sequences to anon;
alter default privileges for role supabase_admin in schema storage grant all on sequences to authenticated;
alter default privileges for role supabase_admin in schema storage grant all on sequences to service_role;
alter default privileges for role supabase_admin in schema storage grant all on sequences to postgres;
alter default privileges for role supabase_admin in schema storage grant all on functions to anon;
alter default privileges for role supabase_admin in schema storage grant all on functions to authenticated;
alter default privileges for role supabase_admin in schema storage grant all on functions to service_role;
alter default privileges for role supabase_admin in schema storage grant all on functions to postgres;
alter default privileges for role supabase_admin in schema storage grant all on tables to anon;
alter default privileges for role supabase_admin in schema storage grant all on tables to authenticated;
alter default privileges for role supabase_admin in schema storage grant all on tables to service_role;
alter default privileges for role supabase_admin in schema storage grant all on tables to postgres;
\endif

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
