-- Runs first (files run in name order). Installs pgTAP and the `tests` helpers
-- every other file uses; vendored here, as supabase/dbdev does, so the suite
-- needs no network. Modelled on usebasejump/supabase-test-helpers, with the
-- JWT claims GoTrue really issues (aud, exp, iat, aal, amr, session_id,
-- is_anonymous, app_metadata, user_metadata).
--
-- Runs unchanged under `supabase test db` and `pg_prove`; everything here is
-- idempotent, and it is the only file whose effects outlive its run.

\set ON_ERROR_STOP on
set client_min_messages = warning;

create extension if not exists pgtap with schema extensions;

create schema if not exists tests;
comment on schema tests is 'pgTAP helpers (supabase/tests/000-setup-tests-hooks.sql). Not exposed by the Data API.';
revoke all on schema tests from public;
grant usage on schema tests to anon, authenticated, service_role;

-- Creates (or returns) a user in auth.users named by `identifier`; the
-- on_auth_user_created trigger then creates its profile, as GoTrue's insert would.
create or replace function tests.create_supabase_user(
  identifier text,
  email text default null,
  phone text default null,
  metadata jsonb default null,
  app_metadata jsonb default null
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  v_id := (tests.get_supabase_user(identifier) ->> 'id')::uuid;
  if v_id is not null then
    return v_id;
  end if;
  insert into auth.users (
    instance_id, id, aud, role, email, phone, encrypted_password, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at
  )
  values (
    '00000000-0000-0000-0000-000000000000',
    gen_random_uuid(),
    'authenticated',
    'authenticated',
    coalesce(email, identifier || '@test.local'),
    phone,
    '',
    now(),
    jsonb_build_object('provider', 'email', 'providers', jsonb_build_array('email')) || coalesce(app_metadata, '{}'::jsonb),
    jsonb_build_object('test_identifier', identifier) || coalesce(metadata, '{}'::jsonb),
    now(),
    now(),
    now()
  )
  returning id into v_id;
  return v_id;
end;
$$;

comment on function tests.create_supabase_user(text, text, text, jsonb, jsonb) is
  'Creates a named test user in auth.users (or returns the existing one); app_metadata sets roles, e.g. {"role":"admin"}.';

create or replace function tests.get_supabase_user(identifier text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'id', u.id,
    'email', u.email,
    'phone', u.phone,
    'raw_app_meta_data', u.raw_app_meta_data,
    'raw_user_meta_data', u.raw_user_meta_data,
    'is_anonymous', u.is_anonymous
  )
  from auth.users as u
  where u.raw_user_meta_data ->> 'test_identifier' = identifier;
$$;

comment on function tests.get_supabase_user(text) is 'The named test user as JSON, or null.';

create or replace function tests.get_supabase_uid(identifier text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_id uuid := (tests.get_supabase_user(identifier) ->> 'id')::uuid;
begin
  if v_id is null then
    raise exception 'test user "%" does not exist; create it with tests.create_supabase_user', identifier;
  end if;
  return v_id;
end;
$$;

comment on function tests.get_supabase_uid(text) is 'The id of the named test user; raises if there is none.';

-- Ids by name: the one way a file remembers what it creates (test users are
-- named by tests.create_supabase_user and read with tests.get_supabase_uid).
-- `select tests.remember('c1', (public.create_conversation('x')).id);` then
-- `tests.id('c1')` anywhere later in the file: in any role, and inside the SQL
-- strings handed to throws_ok and friends. Kept as transaction-local settings
-- (tests.id.<name>), so every role can read them with no table or grant, and
-- the file's ROLLBACK forgets them.
create or replace function tests.remember(name text, id anyelement) returns anyelement
language plpgsql set search_path = '' as $$
begin
  if name is null or name !~ '^[a-z_][a-z0-9_]*$' or id is null then
    raise exception 'tests.remember(%, %): needs a name of a-z, 0-9 and _ (not starting with a digit) and an id', name, id;
  end if;
  perform pg_catalog.set_config('tests.id.' || name, id::text, true);
  return id;
end;
$$;

comment on function tests.remember(text, anyelement) is
  'Remembers an id (uuid, bigint, …) under a name for the rest of the transaction and returns it; read it back with tests.id or tests.bigint_id.';

create or replace function tests.remembered(name text) returns text
language plpgsql stable set search_path = '' as $$
declare
  v_id text := nullif(pg_catalog.current_setting('tests.id.' || name, true), '');
begin
  if v_id is null then raise exception 'no id remembered as "%"; remember it with tests.remember', name; end if;
  return v_id;
end;
$$;

comment on function tests.remembered(text) is 'The id remembered under the name, as text; raises if there is none.';

-- The typed readers: the uuid, or the bigint of a job or a queued message.
create or replace function tests.id(name text) returns uuid
language sql stable set search_path = '' as $$ select tests.remembered(name)::uuid; $$;
create or replace function tests.bigint_id(name text) returns bigint
language sql stable set search_path = '' as $$ select tests.remembered(name)::bigint; $$;

comment on function tests.id(text) is 'The uuid remembered under the name (tests.remember); raises if there is none.';
comment on function tests.bigint_id(text) is 'The bigint id (a job, a queued message) remembered under the name (tests.remember); raises if there is none.';

-- Every way of acting below is these two transaction-local settings, as
-- PostgREST sets them for a request.
create or replace function tests.set_request(request_role text, claims text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('role', request_role, true);
  perform pg_catalog.set_config('request.jwt.claims', claims, true);
end;
$$;

comment on function tests.set_request(text, text) is
  'Sets role and request.jwt.claims for the rest of the transaction; used by tests.authenticate_as and its siblings.';

-- Not security definer: PostgreSQL forbids changing role inside one. Both
-- settings are transaction-local, so the file's ROLLBACK undoes them.
create or replace function tests.authenticate_as(identifier text)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_user jsonb := tests.get_supabase_user(identifier);
  v_now bigint := extract(epoch from now())::bigint;
begin
  if v_user is null then
    raise exception 'test user "%" does not exist; create it with tests.create_supabase_user', identifier;
  end if;
  perform tests.set_request('authenticated', jsonb_build_object(
    'iss', 'http://127.0.0.1:54321/auth/v1',
    'sub', v_user ->> 'id',
    'aud', 'authenticated',
    'exp', v_now + 3600,
    'iat', v_now,
    'email', v_user ->> 'email',
    'phone', coalesce(v_user ->> 'phone', ''),
    'role', 'authenticated',
    'app_metadata', coalesce(v_user -> 'raw_app_meta_data', '{}'::jsonb),
    'user_metadata', coalesce(v_user -> 'raw_user_meta_data', '{}'::jsonb),
    'aal', 'aal1',
    'amr', jsonb_build_array(jsonb_build_object('method', 'password', 'timestamp', v_now)),
    'session_id', gen_random_uuid(),
    'is_anonymous', coalesce((v_user ->> 'is_anonymous')::boolean, false)
  )::text);
end;
$$;

comment on function tests.authenticate_as(text) is
  'Acts as the named user for the rest of the transaction: role authenticated and GoTrue-shaped request.jwt.claims.';

create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_now bigint := extract(epoch from now())::bigint;
begin
  perform tests.set_request('service_role',
    jsonb_build_object('iss', 'supabase-demo', 'role', 'service_role', 'iat', v_now, 'exp', v_now + 3600)::text);
end;
$$;

comment on function tests.authenticate_as_service_role() is 'Acts as the service role (the secret key) for the rest of the transaction.';

-- What PostgREST sets for a request without a JWT.
create or replace function tests.clear_authentication() returns void
language sql set search_path = '' as $$ select tests.set_request('anon', '{"role":"anon"}'); $$;

comment on function tests.clear_authentication() is 'Acts as an anonymous API caller (role anon, claims {"role":"anon"}) for the rest of the transaction.';

-- Returns to the session user (postgres) without a JWT, e.g. for setup between assertions.
create or replace function tests.reset_role() returns void
language sql set search_path = '' as $$ select tests.set_request('none', ''); $$;

comment on function tests.reset_role() is 'Back to the session user with no JWT claims.';

-- Keyset pagination walked to the end, as a client would: page_sql returns
-- one page of ids, with one %L for the cursor (null on the first page): the
-- last id of the previous page, or its first when paging back (cursor_at
-- 'first'). Runs as the caller, so RLS applies.
create or replace function tests.page_through(page_sql text, page_size int, cursor_at text default 'last')
returns table (page int, pos int, id uuid)
language plpgsql
set search_path = ''
as $$
declare
  v_cursor uuid;
  v_ids uuid[];
  v_n int;
begin
  page := 0;
  loop
    page := page + 1;
    execute 'select array(' || pg_catalog.format(page_sql, v_cursor) || ')' into v_ids;
    v_n := coalesce(pg_catalog.array_length(v_ids, 1), 0);
    for v_i in 1 .. v_n loop
      pos := v_i;
      id := v_ids[v_i];
      return next;
    end loop;
    exit when v_n < page_size;
    v_cursor := case when cursor_at = 'first' then v_ids[1] else v_ids[v_n] end;
  end loop;
end;
$$;

comment on function tests.page_through(text, int, text) is
  'Every page of a keyset-paginated query as (page, pos, id), following the cursor until a short page.';

-- pgTAP check (pgTAP calls its own functions unqualified, hence the path):
-- every table in the schema (or the one named) has RLS enabled.
create or replace function tests.rls_enabled(testing_schema text)
returns text
language sql
security invoker
set search_path = extensions
as $$
  select extensions.is(
    (select count(*)::int
       from pg_catalog.pg_class as c
       join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
      where n.nspname = testing_schema
        and c.relkind in ('r', 'p')
        and not c.relrowsecurity),
    0,
    format('every table in schema %I has row level security enabled', testing_schema)
  );
$$;

create or replace function tests.rls_enabled(testing_schema text, testing_table text)
returns text
language sql
security invoker
set search_path = extensions
as $$
  select extensions.ok(
    coalesce((select c.relrowsecurity
                from pg_catalog.pg_class as c
                join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
               where n.nspname = testing_schema and c.relname = testing_table), false),
    format('table %I.%I has row level security enabled', testing_schema, testing_table)
  );
$$;

comment on function tests.rls_enabled(text) is 'pgTAP assertion: every table in the schema has RLS enabled.';
comment on function tests.rls_enabled(text, text) is 'pgTAP assertion: the table has RLS enabled.';

-- The functions the migrations own: those of public and private that no
-- extension created. 001-schema checks its rules (search_path, grants,
-- comments) over these.
create or replace function tests.project_functions()
returns setof pg_catalog.pg_proc
language sql
stable
security invoker
set search_path = ''
as $$
  select p.*
    from pg_catalog.pg_proc as p
    join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
   where n.nspname in ('public', 'private')
     and not exists (select 1 from pg_catalog.pg_depend as d where d.objid = p.oid and d.deptype = 'e');
$$;

comment on function tests.project_functions() is
  'The pg_proc rows of the functions in public and private that are not members of an extension.';

revoke execute on all functions in schema tests from public;
grant execute on all functions in schema tests to anon, authenticated, service_role;

-- The file must itself be a test for pg_prove.
begin;
select plan(4);
select has_function('tests', 'create_supabase_user', array['text', 'text', 'text', 'jsonb', 'jsonb'], 'tests.create_supabase_user exists');
select has_function('tests', 'authenticate_as', array['text'], 'tests.authenticate_as exists');
select has_function('tests', 'authenticate_as_service_role', 'tests.authenticate_as_service_role exists');
select has_function('tests', 'clear_authentication', 'tests.clear_authentication exists');
select * from finish();
rollback;
