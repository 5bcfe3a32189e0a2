-- Project-wide invariants: the rules every migration must keep. These fail
-- when a later migration forgets a grant, a comment, RLS or a search_path.
-- That every function (by signature), table, view and index is created once
-- in supabase/migrations/ is checked where the files are readable:
-- tests/migrations.test.ts (under `supabase test db` pgTAP cannot read them).
-- Here, from the statements the CLI recorded, a coarser form of it: no
-- function name is created more often than it has overloads.
begin;
select plan(16);

-- The baseline the migrations were applied on behaves like Supabase's.
select is((select rolsuper from pg_catalog.pg_roles where rolname = 'postgres'), false,
  'postgres is not a superuser (as on hosted Supabase)');
select is((select rolbypassrls from pg_catalog.pg_roles where rolname = 'service_role'), true,
  'service_role bypasses RLS');
select ok(exists (select 1 from supabase_migrations.schema_migrations where name = 'foundation'),
  'migrations are recorded by the Supabase CLI in supabase_migrations.schema_migrations');

-- One current definition of every function: a name created more often than
-- it has overloads was created twice (a later create or replace of a body).
select is_empty($$
  with created as (
    select r.m[1] as schema_name, r.m[2] as function_name, count(*) as times
      from supabase_migrations.schema_migrations as sm
     cross join lateral pg_catalog.unnest(sm.statements) as s(stmt)
     cross join lateral (select pg_catalog.regexp_match(s.stmt,
       '^\s*(?:--[^\n]*\n\s*)*create\s+(?:or\s+replace\s+)?function\s+"?(\w+)"?\."?(\w+)"?\s*\(', 'i') as m) as r
     where r.m is not null
     group by 1, 2
  )
  select c.schema_name || '.' || c.function_name || ' created ' || c.times || ' times'
    from created as c
   where c.times > (select count(*) from pg_catalog.pg_proc as p
                      join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
                     where n.nspname = c.schema_name and p.proname = c.function_name)
$$, 'no function is created more often than it has overloads (supabase_migrations.schema_migrations.statements)');

-- RLS on every table the API could reach, and on our internal ones.
select tests.rls_enabled('public');
select tests.rls_enabled('private');

-- Every function in our schemas pins its search_path (advisor 0011) ...
select is_empty($$
  select p.oid::regprocedure::text
    from tests.project_functions() as p
   where not coalesce(p.proconfig::text[] @> array['search_path=""'], false)
$$, 'every function in public and private has search_path = ''''');

-- ... and is not executable by PUBLIC: execute is granted per function.
select is_empty($$
  select p.oid::regprocedure::text
    from tests.project_functions() as p
   where (p.proacl is null or exists (select 1 from aclexplode(p.proacl) as a where a.grantee = 0))
$$, 'no function in public or private is executable by PUBLIC');

-- anon gets no function in public unless one is deliberately listed here.
select is_empty($$
  select p.oid::regprocedure::text
    from pg_catalog.pg_proc as p
    join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
   where n.nspname = 'public'
     and has_function_privilege('anon', p.oid, 'execute')
     and p.proname not in (select unnest(array[]::text[]))
$$, 'anon can execute no public function beyond the allow-list');

-- Security definer only in private: public RPCs are security invoker.
select is_empty($$
  select p.oid::regprocedure::text
    from pg_catalog.pg_proc as p
    join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
   where n.nspname = 'public' and p.prosecdef
$$, 'no security definer function in the exposed schema');

-- Internal tables are never granted to the API roles.
select is_empty($$
  select c.oid::regclass::text
    from pg_catalog.pg_class as c
    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
   where n.nspname = 'private' and c.relkind in ('r', 'p', 'v', 'm')
     and (has_table_privilege('anon', c.oid, 'select,insert,update,delete')
       or has_table_privilege('authenticated', c.oid, 'select,insert,update,delete'))
$$, 'no table in private is granted to anon or authenticated');

-- Every table and RPC is documented.
select is_empty($$
  select c.oid::regclass::text
    from pg_catalog.pg_class as c
    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
   where n.nspname in ('public', 'private') and c.relkind in ('r', 'p', 'v', 'm')
     and c.relispartition is false
     and obj_description(c.oid, 'pg_class') is null
$$, 'every table and view in public and private has a comment');
select is_empty($$
  select p.oid::regprocedure::text
    from tests.project_functions() as p
   where obj_description(p.oid, 'pg_proc') is null
$$, 'every function in public and private has a comment');

-- The private schema is not part of the Data API. PostgREST exposes the
-- schemas of its configuration: [api] schemas of supabase/config.toml (public,
-- graphql_public), unless its in-database configuration, pgrst.db_schemas on
-- the authenticator role, says otherwise. Neither Supabase nor the local stack
-- sets pgrst.db_schemas as a database setting.
select ok(not ('private' = any (coalesce(
    (select string_to_array(replace(substr(s.cfg, length('pgrst.db_schemas=') + 1), ' ', ''), ',')
       from pg_catalog.pg_db_role_setting as d
       cross join lateral unnest(d.setconfig) as s(cfg)
      where d.setrole = (select oid from pg_catalog.pg_roles where rolname = 'authenticator')
        and d.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_database()))
        and s.cfg like 'pgrst.db\_schemas=%'
      order by d.setdatabase desc
      limit 1),
    array['public', 'graphql_public']))),
  'private is not an exposed schema');
select ok(has_table_privilege('postgres', 'public.profiles', 'select'), 'migrations are owned by postgres');

-- No numeric or floating-point column accepts NaN or +/-Infinity (docs/security.md): every such
-- column of a table in public or private (partitions inherit their parent's) has a CHECK that
-- refuses NaN by name, or bounds it on both sides (NaN sorts above every number in PostgreSQL,
-- so `x <= upper` refuses it, as the two bounds refuse the infinities), or its domain does (by
-- name or by both bounds).
select is(
  array(
    select format('%s.%s', c.oid::regclass, a.attname)
      from pg_catalog.pg_attribute as a
      join pg_catalog.pg_class as c on c.oid = a.attrelid
      join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
      join pg_catalog.pg_type as t on t.oid = a.atttypid
     where n.nspname in ('public', 'private')
       and c.relkind in ('r', 'p') and not c.relispartition
       and a.attnum > 0 and not a.attisdropped
       and (case when t.typtype = 'd' then t.typbasetype else t.oid end)
           in ('numeric'::regtype, 'double precision'::regtype, 'real'::regtype)
       and not exists (
             select 1 from pg_catalog.pg_constraint as k
              where k.conrelid = c.oid and k.contype = 'c' and a.attnum = any(k.conkey)
                and (pg_catalog.pg_get_constraintdef(k.oid) ~* 'nan'
                     or (pg_catalog.pg_get_constraintdef(k.oid) ~ ('"?\m' || a.attname || '\M"? >=? ')
                         and pg_catalog.pg_get_constraintdef(k.oid) ~ ('"?\m' || a.attname || '\M"? <=? '))))
       and not exists (
             select 1 from pg_catalog.pg_constraint as k
              where t.typtype = 'd' and k.contypid = t.oid
                and (pg_catalog.pg_get_constraintdef(k.oid) ~* 'nan'
                     or (pg_catalog.pg_get_constraintdef(k.oid) ~ '\mVALUE >=? '
                         and pg_catalog.pg_get_constraintdef(k.oid) ~ '\mVALUE <=? ')))
     order by 1),
  '{}'::text[],
  'every numeric and floating-point column refuses NaN and +/-Infinity by CHECK');

select * from finish();
rollback;
